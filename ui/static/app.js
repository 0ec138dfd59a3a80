// appstats dashboard script. Loaded before the charts' inline scripts, which
// call into window.AppStats; everything that touches the DOM waits for
// DOMContentLoaded. No string from a record is ever inserted as HTML without
// esc(); server-rendered fragments are escaped by html/template.
(function () {
  'use strict';

  var AppStats = (window.AppStats = {});

  var PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2',
    '#db2777', '#65a30d', '#7c3aed', '#0d9488', '#ea580c'];
  var PHASE_COLORS = {
    dns: '#a855f7', connect: '#f59e0b', tls: '#14b8a6', send: '#3b82f6',
    wait: '#cbd5e1', receive: '#22c55e'
  };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  AppStats.esc = esc;

  function fmtMS(v) {
    if (v === null || v === undefined || v === '-' || isNaN(v)) return '–';
    v = Number(v);
    if (v === 0) return '0 ms';
    if (v < 1) return Math.round(v * 1000) + ' µs';
    if (v < 100) return v.toFixed(1) + ' ms';
    if (v < 1000) return Math.round(v) + ' ms';
    return (v / 1000).toFixed(2) + ' s';
  }
  AppStats.fmtMS = fmtMS;

  function fmtBytes(n) {
    if (n === undefined || n === null || n < 0) return '–';
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1048576).toFixed(1) + ' MB';
  }

  // ---- Gantt chart ------------------------------------------------------

  var gantt = null;
  function ganttData() {
    if (!gantt) {
      var el = document.getElementById('gantt-data');
      try {
        gantt = el ? JSON.parse(el.textContent) : null;
      } catch (e) {
        gantt = null;
      }
      if (!gantt) gantt = { calls: [], services: [], colors: PALETTE };
    }
    return gantt;
  }

  AppStats.ganttLabel = function (i) {
    var c = ganttData().calls[i];
    if (!c) return '';
    var s = c.s + ' ' + c.m;
    if (s.length > 44) s = s.slice(0, 43) + '…';
    return s;
  };

  var GANTT_ROWS = 40; // rows the Gantt chart shows before it scrolls

  // ganttFill gives the Gantt chart its rows, from the data island: one
  // item [row, start, end, service index, flags, row] per call; flags: 1
  // error, 2 still running, 4 custom event.
  AppStats.ganttFill = function (chart) {
    var calls = ganttData().calls;
    var rows = new Array(calls.length), labels = new Array(calls.length);
    for (var i = 0; i < calls.length; i++) {
      var c = calls[i];
      var flags = (c.e ? 1 : 0) | (c.r ? 2 : 0) | (c.ev ? 4 : 0);
      rows[i] = [i, c.st, c.ev ? c.st : c.st + c.d, c.si, flags, i];
      labels[i] = String(i + 1);
    }
    var d = ganttData(), n = calls.length, fits = n <= GANTT_ROWS;
    var end = fits ? 100 : GANTT_ROWS * 100 / n;
    chart.setOption({
      xAxis: { max: d.max_ms || null },
      yAxis: { data: labels },
      dataZoom: [{}, {}, { show: !fits, start: 0, end: end }, { disabled: fits, start: 0, end: end }],
      series: [{ data: rows }]
    });
  };

  AppStats.ganttItem = function (params, api) {
    var d = ganttData();
    var call = d.calls[params.dataIndex] || {};
    var row = api.value(0), st = api.value(1), en = api.value(2);
    var svc = api.value(3), flags = api.value(4);
    var p0 = api.coord([st, row]), p1 = api.coord([en, row]);
    var band = api.size([0, 1])[1];
    var h = Math.max(4, Math.min(16, band * 0.62));
    var cs = params.coordSys;
    var clip = { x: cs.x, y: cs.y, width: cs.width, height: cs.height };
    var color = d.colors[svc % d.colors.length];
    var children = [];
    if (flags & 4) { // a custom event: a diamond at its time
      var cx = p0[0], cy = p0[1], r = h / 2;
      if (cx < cs.x || cx > cs.x + cs.width || cy < cs.y || cy > cs.y + cs.height) return null;
      children.push({ type: 'polygon', shape: { points: [[cx, cy - r], [cx + r, cy], [cx, cy + r], [cx - r, cy]] },
        style: { fill: color, stroke: '#1e293b', lineWidth: 1 } });
      return { type: 'group', children: children };
    }
    var rect = echarts.graphic.clipRectByRect(
      { x: p0[0], y: p0[1] - h / 2, width: Math.max(p1[0] - p0[0], 2), height: h }, clip);
    if (!rect) return null;
    var style = { fill: color, opacity: (flags & 2) ? 0.55 : 0.9 };
    if (flags & 1) { style.stroke = '#dc2626'; style.lineWidth = 2; }
    if (flags & 2) { style.stroke = '#334155'; style.lineWidth = 1; style.lineDash = [3, 2]; }
    children.push({ type: 'rect', shape: rect, style: style });
    (call.ph || []).forEach(function (p) {
      var a = api.coord([p.s, row]), b = api.coord([p.s + p.d, row]);
      var pr = echarts.graphic.clipRectByRect(
        { x: a[0], y: p0[1] + h / 2 - h * 0.4, width: Math.max(b[0] - a[0], 1), height: h * 0.4 }, clip);
      if (pr) children.push({ type: 'rect', shape: pr, style: { fill: PHASE_COLORS[p.n] || '#94a3b8' } });
    });
    if (flags & 1) {
      var ex = Math.min(rect.x + rect.width + 6, cs.x + cs.width - 3);
      children.push({ type: 'circle', shape: { cx: ex, cy: p0[1], r: 3.5 }, style: { fill: '#dc2626' } });
    }
    return { type: 'group', children: children };
  };

  AppStats.ganttTooltip = function (p) {
    var c = ganttData().calls[p.dataIndex];
    if (!c) return '';
    var out = '<div class="tt"><div class="tt-title">#' + esc(c.n) + ' <b>' + esc(c.s) + '</b> ' + esc(c.m) + '</div>';
    out += '<div>offset <b>' + fmtMS(c.st) + '</b>';
    out += c.ev ? ' · event' : ' · duration <b>' + fmtMS(c.d) + '</b>';
    out += '</div>';
    if (!c.ev) out += '<div>sent ' + fmtBytes(c.rq) + ' · received ' + fmtBytes(c.rs) + '</div>';
    if (c.r) out += '<div class="tt-warn">still running when the request ended</div>';
    if (c.ph && c.ph.length) {
      out += '<div class="tt-phases">' + c.ph.map(function (x) {
        return esc(x.n) + ' ' + fmtMS(x.d);
      }).join(' · ') + '</div>';
    }
    if (c.e) {
      var e = c.e.length > 200 ? c.e.slice(0, 199) + '…' : c.e;
      out += '<div class="tt-err">' + esc(e) + '</div>';
    }
    return out + '</div>';
  };

  // ---- DOM helpers ------------------------------------------------------

  function localizeTimes(root) {
    var els = (root || document).querySelectorAll('time[datetime]');
    for (var i = 0; i < els.length; i++) {
      var t = new Date(els[i].getAttribute('datetime'));
      if (isNaN(t)) continue;
      var pad = function (n, w) { n = String(n); while (n.length < (w || 2)) n = '0' + n; return n; };
      var now = new Date();
      var s = pad(t.getHours()) + ':' + pad(t.getMinutes()) + ':' + pad(t.getSeconds()) + '.' + pad(t.getMilliseconds(), 3);
      if (t.toDateString() !== now.toDateString()) {
        s = t.getFullYear() + '-' + pad(t.getMonth() + 1) + '-' + pad(t.getDate()) + ' ' + s;
      }
      els[i].title = els[i].textContent;
      els[i].textContent = s;
    }
  }

  // Expanded rows survive live refreshes: remembered by data-key.
  var expanded = {};
  function setExpanded(btn, on) {
    btn.setAttribute('aria-expanded', on ? 'true' : 'false');
    btn.textContent = on ? '▾' : '▸';
    var tb = btn.closest('tbody');
    if (!tb) return;
    var subs = tb.querySelectorAll('tr.sub');
    for (var i = 0; i < subs.length; i++) subs[i].hidden = !on;
  }
  function restoreExpanded(root) {
    var btns = root.querySelectorAll('button.toggle');
    for (var i = 0; i < btns.length; i++) {
      if (expanded[btns[i].dataset.key]) setExpanded(btns[i], true);
    }
  }

  function onClick(ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    var tog = t.closest('button.toggle');
    if (tog) {
      var on = tog.getAttribute('aria-expanded') !== 'true';
      if (on) expanded[tog.dataset.key] = true; else delete expanded[tog.dataset.key];
      setExpanded(tog, on);
      return;
    }
    var confirmBtn = t.closest('button[data-confirm]');
    if (confirmBtn && !confirmBtn.classList.contains('armed')) {
      // Two clicks instead of window.confirm: no modal dialog.
      ev.preventDefault();
      confirmBtn.classList.add('armed');
      confirmBtn.dataset.label = confirmBtn.textContent;
      confirmBtn.textContent = confirmBtn.dataset.confirm;
      setTimeout(function () {
        confirmBtn.classList.remove('armed');
        confirmBtn.textContent = confirmBtn.dataset.label;
      }, 4000);
    }
  }

  // ---- Live updates -----------------------------------------------------

  function chart(id) {
    var el = document.getElementById(id);
    return el && window.echarts ? echarts.getInstanceByDom(el) : null;
  }

  function Live() {
    this.es = null;
    this.retries = 0;
    this.connectedOnce = false;
    this.keepAlive = 15000;
    this.watchdog = 0;
    this.timer = 0;
    this.refreshTimer = 0;
    this.inflight = false;
    this.again = false;
    this.lastRefresh = 0;
    this.status = document.getElementById('live-status');
  }

  Live.prototype.setStatus = function (s, text) {
    if (!this.status) return;
    this.status.className = 'live-status ' + s;
    this.status.textContent = text || s;
    document.body.dataset.liveState = s;
  };

  Live.prototype.connect = function () {
    var self = this;
    this.timer = 0;
    this.setStatus('connecting');
    var es = (this.es = new EventSource('events'));
    es.addEventListener('hello', function (e) {
      try { self.keepAlive = JSON.parse(e.data).keepalive_ms || 15000; } catch (x) { /* keep default */ }
      self.beat();
      self.setStatus('live');
      if (self.connectedOnce) self.schedule(0); // we may have missed records
      self.connectedOnce = true;
      self.retries = 0;
    });
    es.addEventListener('ping', function () { self.beat(); });
    es.addEventListener('records', function () { self.beat(); self.schedule(150); });
    es.onerror = function () {
      if (self.es !== es) return;
      es.close();
      self.es = null;
      self.reconnect();
    };
  };

  Live.prototype.reconnect = function () {
    clearTimeout(this.watchdog);
    if (this.timer) return;
    var delay = Math.min(30000, 1000 * Math.pow(2, this.retries)) * (0.8 + Math.random() * 0.4);
    this.retries++;
    this.setStatus('offline', 'reconnecting in ' + Math.round(delay / 1000) + ' s');
    var self = this;
    this.timer = setTimeout(function () { self.connect(); }, delay);
  };

  // beat re-arms the watchdog: three missed pings mean a dead connection.
  Live.prototype.beat = function () {
    var self = this;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(function () {
      if (self.es) { self.es.close(); self.es = null; }
      self.reconnect();
    }, this.keepAlive * 3);
  };

  Live.prototype.schedule = function (delay) {
    if (this.inflight) { this.again = true; return; }
    if (this.refreshTimer) return;
    // At most one refresh a second under steady traffic.
    var wait = Math.max(delay, 1000 - (Date.now() - this.lastRefresh));
    var self = this;
    this.refreshTimer = setTimeout(function () { self.refreshTimer = 0; self.refresh(); }, wait);
  };

  function get(url, json) {
    return fetch(url, { headers: { Accept: json ? 'application/json' : 'text/html' }, cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error(url + ': ' + r.status);
        return json ? r.json() : r.text();
      });
  }

  Live.prototype.refresh = function () {
    var self = this;
    this.inflight = true;
    this.lastRefresh = Date.now();
    var w = document.body.dataset.window || '';
    var params = new URLSearchParams(location.search);
    var paged = params.has('before');
    var hq = new URLSearchParams();
    ['route', 'status', 'min_ms', 'error', 'limit'].forEach(function (k) { if (params.get(k)) hq.set(k, params.get(k)); });
    hq.set('window', w);
    var jobs = [
      get('part/stats?window=' + encodeURIComponent(w), false),
      paged ? Promise.resolve(null) : get('part/history?' + hq.toString(), false),
      get('api/series?window=' + encodeURIComponent(w), true)
    ];
    Promise.all(jobs).then(function (res) {
      var stats = document.getElementById('stats-section');
      if (stats) {
        stats.innerHTML = res[0];
        restoreExpanded(stats);
      }
      var hist = document.getElementById('history-section');
      if (hist && res[1] !== null) {
        var before = {};
        hist.querySelectorAll('tr[data-id]').forEach(function (tr) { before[tr.dataset.id] = true; });
        hist.innerHTML = res[1];
        hist.querySelectorAll('tr[data-id]').forEach(function (tr) {
          if (!before[tr.dataset.id]) tr.classList.add('fresh');
        });
        localizeTimes(hist);
      }
      updateCharts(res[2]);
      if (self.es) self.setStatus('live');
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    }).catch(function () {
      self.setStatus('offline', 'refresh failed');
    }).then(function () {
      self.inflight = false;
      if (self.again) { self.again = false; self.schedule(0); }
    });
  };

  function island(id, fallback) {
    var el = document.getElementById(id);
    if (!el) return fallback;
    try { return JSON.parse(el.textContent) || fallback; } catch (e) { return fallback; }
  }

  // The dashboard charts' data: the api/series answer and the histogram's
  // labels and counts, from the page's JSON islands.
  AppStats.fillRequests = function (c) {
    var b = island('series-data', {}).buckets || [];
    c.setOption({ series: [
      { data: b.map(function (x) { return [x.start_unix_ms, x.requests]; }) },
      { data: b.map(function (x) { return [x.start_unix_ms, x.errors]; }) }
    ] });
  };
  AppStats.fillLatency = function (c) {
    var b = island('series-data', {}).buckets || [];
    var pick = function (k) {
      return b.map(function (x) { return [x.start_unix_ms, x.requests ? x[k] : '-']; });
    };
    c.setOption({ series: [{ data: pick('p50_ms') }, { data: pick('p95_ms') }, { data: pick('p99_ms') }] });
  };
  AppStats.fillHistogram = function (c) {
    var h = island('hist-data', {});
    c.setOption({ xAxis: [{ data: h.labels || [] }], series: [{ data: h.counts || [] }] });
  };

  function updateCharts(series) {
    var el = document.getElementById('series-data');
    if (el && series) el.textContent = JSON.stringify(series);
    var c;
    if ((c = chart('chartRequests'))) AppStats.fillRequests(c);
    if ((c = chart('chartLatency'))) AppStats.fillLatency(c);
    if ((c = chart('chartHistogram'))) AppStats.fillHistogram(c);
  }

  function resizeCharts() {
    ['chartRequests', 'chartLatency', 'chartHistogram', 'chartGantt'].forEach(function (id) {
      var c = chart(id);
      if (c) c.resize();
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    localizeTimes(document);
    document.addEventListener('click', onClick);
    var rt = 0;
    window.addEventListener('resize', function () {
      clearTimeout(rt);
      rt = setTimeout(resizeCharts, 100);
    });
    if (document.body.dataset.live === '1' && window.EventSource) {
      var live = new Live();
      AppStats.live = live;
      live.connect();
    }
  });
})();
