// The chat page: listens to the push hub over a websocket and, told
// "UPDATED", fetches the newest comments with an ordinary request. It
// reconnects with exponential backoff (0.5 s to 10 s, with jitter) when the
// hub goes away, and at once when the network comes back, and fetches once
// reconnected, in case it missed a push. Hidden (navigated away from), it
// closes its websocket; shown again from the back-forward cache, it
// reconnects.
(function () {
  'use strict';
  var hubURL = document.body.dataset.hub;
  var statusEl = document.getElementById('status');
  var list = document.getElementById('comments');
  var empty = document.getElementById('empty');
  var typingEl = document.getElementById('typing');
  var nameEl = document.getElementById('name');
  var textEl = document.getElementById('text');

  var minDelay = 500, maxDelay = 10000;
  var delay = minDelay, ws = null, connectedOnce = false;
  // When each comment was first shown, by id: read by the tests.
  window.chatShown = {};

  nameEl.value = localStorage.getItem('chat-name') || '';
  // A post on its way is not sent again: on a second submit (Enter pressed
  // twice, a double click on a slow network) Chromium drops the first
  // navigation and sends the form anew, and the app saved the comment
  // twice, the first having reached it. The guard lapses after 10 s (a
  // user who stopped the page's load may post again) and when the page is
  // shown again from the back-forward cache.
  var postedAt = 0;
  document.getElementById('post').addEventListener('submit', function (e) {
    if (postedAt && Date.now() - postedAt < 10000) {
      e.preventDefault();
      return;
    }
    postedAt = Date.now();
    localStorage.setItem('chat-name', nameEl.value);
  });
  window.addEventListener('pageshow', function (e) {
    if (e.persisted) postedAt = 0;
  });

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = 'status ' + (cls || '');
  }

  function render(comments) {
    var known = {};
    for (var i = 0; i < list.children.length; i++) known[list.children[i].dataset.id] = true;
    var frag = document.createDocumentFragment();
    comments.forEach(function (c) {
      var li = document.createElement('li');
      li.dataset.id = String(c.id);
      if (!known[li.dataset.id]) {
        li.className = 'new';
        window.chatShown[c.id] = Date.now();
      }
      var name = document.createElement('span');
      name.className = 'name';
      name.textContent = c.name;
      var t = document.createElement('time');
      var d = new Date(c.created);
      t.dateTime = d.toISOString();
      t.textContent = d.toISOString().slice(11, 19);
      var p = document.createElement('p');
      p.className = 'text';
      p.textContent = c.text;
      li.append(name, ' ', t, p);
      frag.append(li);
    });
    list.replaceChildren(frag);
    empty.hidden = comments.length > 0;
  }

  var fetching = false, again = false;
  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    // A time-stamp in the URL, as in the original: no cache answers it.
    fetch('comments?t=' + Date.now(), { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('comments: HTTP ' + r.status);
        return r.json();
      })
      .then(render)
      .catch(function (e) { setStatus('fetch failed: ' + e.message, 'down'); })
      .finally(function () {
        fetching = false;
        if (again) { again = false; refresh(); }
      });
  }

  // Who is typing, as the hub tells every page (at most once a second):
  // {"type": "typing", "names": [...], "others": n}, this page's own name
  // left out.
  var typingTimer = null;
  function showTyping(n) {
    var names = (n.names || []).filter(function (x) { return typeof x === 'string' && x !== nameEl.value; });
    var others = n.others > 0 ? n.others : 0;
    if (names.length === 0 && others === 0) return;
    // Each name in a <bdi>: its right-to-left override (U+202E), say,
    // turns no other text around.
    var parts = [];
    var name = function (x) {
      var el = document.createElement('bdi');
      el.textContent = x;
      return el;
    };
    names.forEach(function (x, i) {
      if (i > 0) parts.push(others === 0 && i === names.length - 1 ? ' and ' : ', ');
      parts.push(name(x));
    });
    if (others > 0) parts.push((names.length ? ' and ' : '') + others + (others === 1 ? ' other' : ' others'));
    parts.push(names.length + others === 1 ? ' is typing…' : ' are typing…');
    typingEl.replaceChildren.apply(typingEl, parts);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingEl.textContent = ''; }, 3000);
  }

  var retryTimer = 0;
  function connect() {
    retryTimer = 0;
    setStatus(connectedOnce ? 'reconnecting…' : 'connecting…');
    ws = new WebSocket(hubURL);
    ws.onopen = function () {
      delay = minDelay;
      setStatus('live', 'live');
      if (connectedOnce) refresh(); // a push may have been missed while away
      connectedOnce = true;
    };
    ws.onmessage = function (ev) {
      if (statusEl.textContent !== 'live') setStatus('live', 'live'); // a push came: the hub is there
      if (ev.data === 'UPDATED') { refresh(); return; }
      try {
        var n = JSON.parse(ev.data);
        if (n.type === 'typing') showTyping(n);
      } catch (e) { /* not a notice: ignored */ }
    };
    ws.onclose = function () {
      ws = null;
      var wait = Math.round(delay * (0.8 + 0.4 * Math.random()));
      // Offline, the retries go on (a hub on this machine needs no
      // network), and the online event reconnects at once.
      setStatus((navigator.onLine ? 'hub away' : 'offline: no network') + ': retrying in ' + (wait / 1000).toFixed(1) + ' s', 'down');
      retryTimer = setTimeout(connect, wait);
      delay = Math.min(delay * 2, maxDelay);
    };
  }

  // The network gone, the page says so: its websocket may look open, but
  // no push comes through. Back online, the page connects anew at once
  // (the old socket may be dead without knowing it: the hub has dropped
  // it) and fetches what it missed.
  window.addEventListener('offline', function () { setStatus('offline: no network', 'down'); });
  window.addEventListener('online', function () {
    clearTimeout(retryTimer);
    if (ws) {
      ws.onclose = null;
      ws.close();
      ws = null;
    }
    delay = minDelay;
    connectedOnce = true; // fetch once connected
    connect();
  });

  // Navigated away from, the page may be kept in the browser's
  // back-forward cache: Chromium kept its websocket open there (25 s and
  // more), counted against the hub's caps, the pushes to it wasted. The
  // page closes it when hidden, and connects anew when shown from the
  // cache (fetching what it missed).
  window.addEventListener('pagehide', function () {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (ws) {
      ws.onclose = null;
      ws.close(1000, 'page hidden');
      ws = null;
    }
  });
  window.addEventListener('pageshow', function (e) {
    if (!e.persisted || ws) return;
    delay = minDelay;
    connectedOnce = true; // fetch once connected
    connect();
  });

  // "typing" notices, at most one every 2 s.
  var lastTyping = 0;
  textEl.addEventListener('input', function () {
    var now = Date.now();
    if (!ws || ws.readyState !== WebSocket.OPEN || !nameEl.value || now - lastTyping < 2000) return;
    lastTyping = now;
    ws.send(JSON.stringify({ type: 'typing', name: nameEl.value }));
  });

  connect();
})();
