// appstats dashboard script. Loaded before the charts' inline scripts, which
// call into window.AppStats; everything that touches the DOM waits for
// DOMContentLoaded. No string from a record is ever inserted as HTML without
// esc(); server-rendered fragments are escaped by html/template.
(function () {
  'use strict';

  var AppStats = (window.AppStats = {});


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
  //
  // The rows come from the page's data island ("gantt-data"): calls (or, in
  // the trace view, records and their calls) in tree order, each with its
  // parent row (p), depth (dp) and number of children (k). Folding a row
  // hides the rows under it, in the chart and in the call list alike. The
  // chart shows at most MAX_ROWS rows at once: the box around it scrolls,
  // and only the rows in view are drawn (a vertical dataZoom follows the
  // scroll position), so records of a thousand calls stay readable.

  var ROW_H = 24, MAX_ROWS = 28, TOP = 30, BOTTOM = 50, CHROME = TOP + BOTTOM; // x axis on top, time slider below
  // Phases are drawn in greys and browns, which no service has.
  var PHASE_COLORS = {
    dns: '#1e293b', connect: '#57534e', tls: '#78716c', send: '#94a3b8',
    wait: '#cbd5e1', receive: '#475569', other: '#e7e5e4'
  };
  var RECORD_COLOR = '#334155';

  var G = null;
  function gantt() {
    if (!G) {
      var d = island('gantt-data', null) || {};
      G = { d: d, calls: d.calls || [], colors: d.colors || ['#2563eb'], collapsed: {}, visible: [],
        first: 0, shown: 0, crit: true, chart: null, bound: false };
      G.numWidth = 0;
      for (var i = 0; i < G.calls.length; i++) {
        if (G.calls[i].c && G.calls[i].k) G.collapsed[i] = true;
        G.numWidth = Math.max(G.numWidth, String(G.calls[i].n || '').length);
      }
      computeVisible();
    }
    return G;
  }
  AppStats.gantt = gantt;

  // computeVisible lists the rows not folded away: the island is in tree
  // order, so a folded row's descendants are the rows after it that are
  // deeper.
  function computeVisible() {
    var out = [], hide = -1;
    for (var i = 0; i < G.calls.length; i++) {
      var c = G.calls[i];
      if (hide >= 0) {
        if (c.dp > hide) continue;
        hide = -1;
      }
      out.push(i);
      if (G.collapsed[i] && c.k) hide = c.dp;
    }
    G.visible = out;
  }

  // midEllipsis keeps the start and the end of s, the distinctive part of
  // many call names, and drops the middle.
  function midEllipsis(s, n) {
    if (s.length <= n) return s;
    var head = Math.ceil((n - 1) * 0.4);
    return s.slice(0, head) + '…' + s.slice(s.length - (n - 1 - head));
  }
  AppStats.midEllipsis = midEllipsis;

  AppStats.ganttLabel = function (pos) {
    var g = gantt(), i = g.visible[pos], c = g.calls[i];
    if (!c) return '';
    var depth = Math.min(c.dp || 0, 10), pad = '';
    for (var k = 0; k < depth; k++) pad += '\u2003';
    var tog = c.k ? (g.collapsed[i] ? '▸ ' : '▾ ') : '   ';
    var num = '';
    if (c.n) { // numbers padded with figure spaces, so the tree lines up
      num = '#' + c.n;
      while (num.length <= g.numWidth + 1) num += '\u2007';
    }
    return num + pad + tog + midEllipsis(c.s + ' ' + c.m, Math.max(18, 48 - 2 * depth));
  };

  function ganttRows() {
    var g = gantt(), n = g.visible.length, rows = new Array(n), labels = new Array(n);
    for (var k = 0; k < n; k++) {
      var i = g.visible[k], c = g.calls[i];
      var flags = (c.e ? 1 : 0) | (c.r ? 2 : 0) | (c.ev ? 4 : 0) | (c.rec ? 8 : 0);
      rows[k] = [k, c.st, c.ev ? c.st : c.st + c.d, c.si, flags, i];
      labels[k] = String(k);
    }
    return { rows: rows, labels: labels };
  }

  // layoutGantt sizes the chart for the rows not folded away and gives it
  // its data.
  function layoutGantt() {
    var g = gantt(), n = g.visible.length;
    var wrap = document.getElementById('gantt-wrap'), space = document.getElementById('gantt-space');
    var el = document.getElementById('chartGantt');
    g.shown = Math.max(1, Math.min(n, MAX_ROWS));
    var h = Math.max(g.shown, 3) * ROW_H + CHROME;
    if (el && wrap && space) {
      el.style.height = h + 'px';
      wrap.style.height = h + 'px';
      space.style.height = (h + Math.max(0, n - g.shown) * ROW_H) + 'px';
    }
    g.first = Math.max(0, Math.min(g.first, n - g.shown));
    if (wrap && Math.round(wrap.scrollTop / ROW_H) !== g.first) wrap.scrollTop = g.first * ROW_H;
    var r = ganttRows();
    g.chart.resize();
    // Labels are left-aligned, so that the tree's indentation shows: the
    // grid starts after the widest label.
    var lw = labelWidth(g.chart.getWidth() * 0.45);
    g.chart.setOption({
      grid: { left: lw + 14, right: 56, top: TOP, bottom: BOTTOM, containLabel: false },
      xAxis: { max: g.d.max_ms || null },
      // A label wider than its area (capped at 45% of the chart) is cut
      // with an ellipsis rather than drawn over the bars.
      yAxis: { data: r.labels, triggerEvent: true, axisLabel: { align: 'left', margin: lw + 6, width: lw, overflow: 'truncate' } },
      dataZoom: [{ zoomOnMouseWheel: 'ctrl', moveOnMouseWheel: false }, {},
        { show: false, startValue: g.first, endValue: g.first + g.shown - 1 }],
      series: [{ data: r.rows }]
    });
    document.body.dataset.ganttRows = String(n);
  }

  var measure = null;
  // labelWidth is the width of the widest label of the rows not folded
  // away, at most limit pixels.
  function labelWidth(limit) {
    var g = gantt();
    if (!measure) measure = document.createElement('canvas').getContext('2d');
    measure.font = '12px sans-serif';
    var w = 60;
    for (var k = 0; k < g.visible.length && w < limit; k++) {
      w = Math.max(w, measure.measureText(AppStats.ganttLabel(k)).width);
    }
    return Math.ceil(Math.min(w, limit));
  }

  function scrollGantt() {
    var g = gantt(), wrap = document.getElementById('gantt-wrap');
    if (!g.chart || !wrap) return;
    var first = Math.max(0, Math.min(Math.round(wrap.scrollTop / ROW_H), g.visible.length - g.shown));
    if (first === g.first) return;
    g.first = first;
    g.chart.setOption({ dataZoom: [{}, {}, { startValue: first, endValue: first + g.shown - 1 }] });
  }

  // ganttFill gives the chart its rows, once it is made.
  AppStats.ganttFill = function (chart) {
    var g = gantt();
    g.chart = chart;
    layoutGantt();
    if (g.bound) return;
    g.bound = true;
    chart.on('click', function (p) {
      if (p.componentType === 'yAxis') {
        var i = g.visible[Number(p.value)];
        if (i !== undefined && g.calls[i].k) toggleRow(i);
      } else if (p.componentType === 'series' && p.value) {
        openRow(p.value[5]);
      }
    });
    var wrap = document.getElementById('gantt-wrap'), pending = false;
    if (wrap) {
      wrap.addEventListener('scroll', function () {
        if (pending) return;
        pending = true;
        requestAnimationFrame(function () { pending = false; scrollGantt(); });
      });
    }
    var crit = document.getElementById('gantt-crit');
    if (crit) {
      crit.addEventListener('change', function () { g.crit = crit.checked; layoutGantt(); });
    }
    var fold = document.getElementById('gantt-fold');
    if (fold) {
      fold.addEventListener('click', function () {
        var folding = fold.dataset.fold === '1';
        g.collapsed = {};
        if (folding) for (var i = 0; i < g.calls.length; i++) if (g.calls[i].k) g.collapsed[i] = true;
        fold.dataset.fold = folding ? '0' : '1';
        fold.textContent = folding ? 'Unfold all' : 'Fold all';
        refold();
      });
    }
  };

  // toggleRow folds or unfolds row i, in the chart and in the list.
  function toggleRow(i) {
    var g = gantt();
    if (g.collapsed[i]) delete g.collapsed[i]; else g.collapsed[i] = true;
    refold();
  }
  AppStats.toggleRow = toggleRow;

  // refold shows the rows not folded away, in the chart and in the list,
  // whose items carry their row in the data island (data-i: numbered from 0
  // on each page of a paged record, like the island's rows).
  function refold() {
    var g = gantt();
    computeVisible();
    if (g.chart) layoutGantt();
    var shown = {};
    g.visible.forEach(function (i) { shown[i] = true; });
    var items = document.querySelectorAll('#calls details.call[data-i]');
    for (var k = 0; k < items.length; k++) {
      var i = Number(items[k].dataset.i);
      items[k].hidden = !shown[i];
      var btn = items[k].querySelector('.ctog');
      if (btn) {
        btn.textContent = g.collapsed[i] ? '▸' : '▾';
        btn.setAttribute('aria-expanded', g.collapsed[i] ? 'false' : 'true');
      }
    }
  }

  // openRow shows row i's call in the list (unfolding the rows above it,
  // opening it and scrolling to it), or follows its link where the page
  // has no list.
  function openRow(i) {
    var g = gantt(), c = g.calls[i];
    if (!c) return;
    var el = g.d.anchor && c.n ? document.getElementById(g.d.anchor + c.n) : null;
    if (!el) {
      if (c.u) location.href = c.u;
      return;
    }
    var changed = false;
    for (var p = c.p; p >= 0 && p !== undefined; p = g.calls[p].p) {
      if (g.collapsed[p]) { delete g.collapsed[p]; changed = true; }
    }
    if (changed) refold();
    el.open = true;
    el.classList.remove('flash');
    void el.offsetWidth; // restart the animation
    el.classList.add('flash');
    el.scrollIntoView({ block: 'center' });
    if (history.replaceState) history.replaceState(null, '', '#' + el.id);
  }
  AppStats.openRow = openRow;

  // openAskedCall opens the call asked for by the hash (#call-N, as links
  // from other pages write it) or, on load, by ?call=N. Where the record's
  // calls take several pages and it is on another, the page holding it is
  // loaded instead.
  function openAskedCall(onLoad) {
    var m = /^#call-(\d+)$/.exec(location.hash);
    var g = gantt(), want = m ? Number(m[1]) : (onLoad ? g.d.open || 0 : 0);
    if (!want) return;
    for (var i = 0; i < g.calls.length; i++) if (g.calls[i].n === want) { openRow(i); return; }
    if (want <= (g.d.calls_total || 0) && new URLSearchParams(location.search).get('call') !== String(want)) {
      location.replace('?call=' + want + '#call-' + want);
    }
  }

  AppStats.ganttItem = function (params, api) {
    var g = gantt();
    var i = api.value(5), call = g.calls[i] || {};
    var row = api.value(0), st = api.value(1), en = api.value(2);
    var svc = api.value(3), flags = api.value(4);
    var p0 = api.coord([st, row]), p1 = api.coord([en, row]);
    var band = api.size([0, 1])[1];
    var h = Math.max(4, Math.min(14, band * 0.58));
    var cs = params.coordSys;
    var clip = { x: cs.x, y: cs.y, width: cs.width, height: cs.height };
    var color = (flags & 8) ? RECORD_COLOR : g.colors[svc % g.colors.length];
    var onPath = !!(call.cp && call.cp.length);
    var dim = g.crit && !onPath && !(flags & 8);
    var children = [];
    if (flags & 4) { // a custom event: a diamond at its time
      var cx = p0[0], cy = p0[1], r = h / 2;
      if (cx < cs.x || cx > cs.x + cs.width || cy < cs.y || cy > cs.y + cs.height) return null;
      children.push({ type: 'polygon', shape: { points: [[cx, cy - r], [cx + r, cy], [cx, cy + r], [cx - r, cy]] },
        style: { fill: color, stroke: '#1e293b', lineWidth: 1, opacity: dim ? 0.5 : 1 } });
      return { type: 'group', children: children };
    }
    var rect = echarts.graphic.clipRectByRect(
      { x: p0[0], y: p0[1] - h / 2, width: Math.max(p1[0] - p0[0], 2), height: h }, clip);
    if (!rect) return null;
    var style = { fill: color, opacity: (flags & 2) ? 0.55 : (dim ? 0.4 : 0.92) };
    if (flags & 8) { style.fill = '#e2e8f0'; style.stroke = RECORD_COLOR; style.lineWidth = 1.5; style.opacity = 1; }
    if (flags & 1) { style.stroke = '#dc2626'; style.lineWidth = 2; }
    if (flags & 2) { style.stroke = '#334155'; style.lineWidth = 1; style.lineDash = [3, 2]; }
    children.push({ type: 'rect', shape: rect, style: style });
    (call.ph || []).forEach(function (p) {
      var a = api.coord([p.s, row]), b = api.coord([p.s + p.d, row]);
      var pr = echarts.graphic.clipRectByRect(
        { x: a[0], y: p0[1] + h / 2 - h * 0.38, width: Math.max(b[0] - a[0], 1), height: h * 0.38 }, clip);
      if (pr) children.push({ type: 'rect', shape: pr, style: { fill: PHASE_COLORS[p.n] || PHASE_COLORS.other, opacity: dim ? 0.5 : 1 } });
    });
    if (g.crit && onPath) {
      call.cp.forEach(function (s) {
        var a = api.coord([s[0], row]), b = api.coord([s[1], row]);
        var cr = echarts.graphic.clipRectByRect(
          { x: a[0], y: p0[1] - h / 2 - 3, width: Math.max(b[0] - a[0], 1), height: 3 }, clip);
        if (cr) children.push({ type: 'rect', shape: cr, style: { fill: '#0f172a' } });
      });
    }
    if (flags & 1) {
      var ex = Math.min(rect.x + rect.width + 6, cs.x + cs.width - 3);
      children.push({ type: 'circle', shape: { cx: ex, cy: p0[1], r: 3.5 }, style: { fill: '#dc2626' } });
    }
    return { type: 'group', children: children };
  };

  AppStats.ganttTooltip = function (p) {
    var g = gantt(), c = p && p.value ? g.calls[p.value[5]] : null;
    if (!c) return '';
    // Names a request controls may be 10,000 characters long: cut in
    // their middle (start and end kept, as the axis labels are), and each
    // isolated (bdi), so that a direction override in one does not reach
    // past it.
    var out = '<div class="tt"><div class="tt-title">' + (c.n ? '#' + esc(c.n) + ' ' : '') +
      '<b><bdi>' + esc(midEllipsis(String(c.s), 80)) + '</bdi></b> <bdi>' + esc(midEllipsis(String(c.m), 240)) + '</bdi></div>';
    out += '<div>offset <b>' + fmtMS(c.st) + '</b>';
    out += c.ev ? ' · event' : ' · duration <b>' + fmtMS(c.d) + '</b>';
    if (c.k && !c.ev && !c.rec) out += ' · self <b>' + fmtMS(c.sf) + '</b>';
    out += '</div>';
    if (!c.ev) out += '<div>sent ' + fmtBytes(c.rq) + ' · received ' + fmtBytes(c.rs) + '</div>';
    if (c.cp && c.cp.length) {
      var t = 0;
      c.cp.forEach(function (s) { t += s[1] - s[0]; });
      out += '<div>on the critical path for <b>' + fmtMS(t) + '</b></div>';
    }
    if (c.dup) out += '<div class="tt-warn">one of ' + esc(c.dup) + ' identical calls (N+1)</div>';
    if (c.r) out += '<div class="tt-warn">still running when the request ended</div>';
    if (c.ph && c.ph.length) {
      out += '<div class="tt-phases">' + c.ph.map(function (x) {
        return '<bdi>' + esc(midEllipsis(String(x.n), 40)) + '</bdi> ' + fmtMS(x.d);
      }).join(' · ') + '</div>';
    }
    if (c.e) {
      var e = c.e.length > 200 ? c.e.slice(0, 199) + '…' : c.e;
      out += '<div class="tt-err"><bdi>' + esc(e) + '</bdi></div>';
    }
    if (c.u && !c.rec) out += '<div class="muted">it caused a request recorded here: see the call</div>';
    return out + '</div>';
  };

  // axisTooltip makes the tooltip of the dashboard's charts (trigger
  // "axis"): the axis value, then a row per series with its colour, name
  // and value (through fmt if given). Built as elements, the colour set
  // through the element's style object: echarts' own markup carries style
  // attributes, which the page's policy (no style-src 'unsafe-inline')
  // blocks. The text is set as text, never parsed as HTML.
  AppStats.axisTooltip = function (ps, fmt) {
    ps = [].concat(ps || []);
    var box = document.createElement('div');
    box.className = 'tt';
    if (ps.length) {
      var h = document.createElement('div');
      h.className = 'tt-title';
      h.textContent = ps[0].axisValueLabel === undefined ? '' : String(ps[0].axisValueLabel);
      box.appendChild(h);
    }
    ps.forEach(function (p) {
      var v = p.value;
      if (Array.isArray(v)) v = v[p.encode && p.encode.y ? p.encode.y[0] : 1];
      var row = document.createElement('div'), m = document.createElement('span'),
        n = document.createElement('span'), b = document.createElement('b');
      row.className = 'tt-row';
      m.className = 'tt-mark';
      if (typeof p.color === 'string') m.style.backgroundColor = p.color;
      n.textContent = p.seriesName === undefined ? '' : String(p.seriesName);
      b.className = 'tt-val';
      b.textContent = fmt ? fmt(v) : (v === null || v === undefined || v === '-' ? '–' : String(v));
      row.appendChild(m);
      row.appendChild(n);
      row.appendChild(b);
      box.appendChild(row);
    });
    return box;
  };

  // tipPosition places a tooltip as echarts does by default, beside the
  // pointer and inside the chart: given as a function, so that echarts
  // draws no arrow (its arrow, for a position such as "top", is markup
  // with a style attribute, which the page's policy blocks).
  AppStats.tipPosition = function (pt, size) {
    var cw = size.contentSize[0], ch = size.contentSize[1], vw = size.viewSize[0], vh = size.viewSize[1];
    var x = pt[0] + 16, y = pt[1] + 16;
    if (x + cw > vw) x = Math.max(0, pt[0] - cw - 16);
    if (y + ch > vh) y = Math.max(0, pt[1] - ch - 16);
    return [x, y];
  };

  // ---- DOM helpers ------------------------------------------------------

  // zoneName names the browser's time zone at t as the page writes it
  // after a local time: Intl's short name ("UTC", "GMT+9", "CET"), else
  // the offset ("UTC+09:00").
  function zoneName(t) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(t);
      for (var i = 0; i < parts.length; i++) if (parts[i].type === 'timeZoneName') return parts[i].value;
    } catch (e) { /* no Intl */ }
    var o = -t.getTimezoneOffset(), a = Math.abs(o);
    return 'UTC' + (o < 0 ? '−' : '+') + (a < 600 ? '0' : '') + Math.floor(a / 60) + ':' + (a % 60 < 10 ? '0' : '') + (a % 60);
  }

  // localizeTimes shows the server's UTC times in the browser's zone,
  // which it names: after the time, or once in the column's heading for a
  // time in a table (the UTC time stays in the title).
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
      var zone = zoneName(t), td = els[i].closest('td'), table = td && td.closest('table');
      var th = table && table.tHead && table.tHead.rows[0] && table.tHead.rows[0].cells[td.cellIndex];
      if (th) {
        if (!th.querySelector('.tz')) {
          var tz = document.createElement('small');
          tz.className = 'tz';
          tz.textContent = zone;
          th.appendChild(tz);
        }
      } else {
        s += ' ' + zone;
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
    var ctog = t.closest('button.ctog');
    if (ctog) {
      // Inside a call's summary: fold its children, do not open it.
      ev.preventDefault();
      toggleRow(Number(ctog.dataset.i));
      return;
    }
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
    showPaused();
  };

  // showPaused makes a paused recorder visible at a glance: the header's
  // badge, and the live dot turns amber. The stats fragment says whether
  // the recorder is paused (it may be paused from another window).
  function showPaused() {
    var kpi = document.getElementById('recorder-kpi');
    if (!kpi) return;
    var paused = kpi.dataset.paused === '1';
    var badge = document.getElementById('paused-badge');
    if (badge) badge.hidden = !paused;
    var st = document.getElementById('live-status');
    if (st) st.classList.toggle('paused', paused);
    document.body.dataset.paused = paused ? '1' : '0';
  }

  // showStoreHealth updates the store card from api/health after a refresh
  // failed: the store may have gone down (Redis unreachable), and the card
  // must not keep saying "ok" while the figures beside it are stale. A
  // refresh that succeeds replaces the card with the server's.
  function showStoreHealth() {
    var kpi = document.getElementById('kpi-store');
    if (!kpi) return null;
    return get('api/health', true).then(function (h) {
      var s = h && h.store;
      if (!s) return;
      var bad = s.state !== 'ok';
      var st = kpi.querySelector('.store-state');
      if (st) {
        st.textContent = s.state;
        st.classList.toggle('bad', bad);
      }
      kpi.classList.toggle('warn', bad || s.dropped > 0 || s.skipped > 0 || !!s.moved_aside);
      var detail = kpi.querySelector('.store-detail');
      if (s.detail) {
        if (!detail) {
          detail = document.createElement('span');
          detail.className = 'store-detail';
          var box = kpi.querySelector('.kpi-detail');
          if (box) box.insertBefore(detail, box.firstChild);
        }
        detail.textContent = s.detail;
      } else if (detail) {
        detail.remove();
      }
    }).catch(function () { /* the server is gone too: the status says offline */ });
  }

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

  // ---- The user's place across refreshes ---------------------------------
  //
  // A refresh replaces a section's HTML, where the user may be at work:
  // keepPlace notes the focused control (a keyboard user's place in the
  // tables, the caret in a text box) and what they typed or chose in the
  // history's filters and not yet submitted; the returned function gives
  // the section's new content the same. Both run in the task that replaces
  // the HTML, so no keystroke falls between them.
  function ident(el) {
    return el.tagName + '|' + (el.getAttribute('name') || el.dataset.key || el.getAttribute('href') || el.id ||
      el.textContent.trim().slice(0, 40));
  }
  function nthSame(root, el) {
    var same = root.querySelectorAll(el.tagName), id = ident(el), k = 0;
    for (var i = 0; i < same.length; i++) {
      if (same[i] === el) return k;
      if (ident(same[i]) === id) k++;
    }
    return -1;
  }
  function findSame(root, tag, id, n) {
    var same = root.querySelectorAll(tag), last = null, k = 0;
    for (var i = 0; i < same.length; i++) {
      if (ident(same[i]) !== id) continue;
      last = same[i];
      if (k++ === n) return last;
    }
    return last;
  }
  function changed(e) {
    if (e.type === 'checkbox' || e.type === 'radio') return e.checked !== e.defaultChecked;
    if (e.tagName === 'SELECT') {
      for (var i = 0; i < e.options.length; i++) if (e.options[i].selected !== e.options[i].defaultSelected) return true;
      return false;
    }
    return e.value !== e.defaultValue;
  }
  function keepPlace(root) {
    var a = document.activeElement, focus = null, fields = [];
    if (a && a !== root && root.contains(a)) {
      focus = { tag: a.tagName, id: ident(a), n: nthSame(root, a), start: null, end: null };
      try { focus.start = a.selectionStart; focus.end = a.selectionEnd; } catch (e) { /* no caret */ }
    }
    root.querySelectorAll('input[name]:not([type=hidden]), select[name], textarea[name]').forEach(function (e) {
      if (changed(e)) fields.push({ name: e.getAttribute('name'), value: e.value, checked: e.checked });
    });
    return function () {
      fields.forEach(function (f) {
        var e = findSame(root, 'INPUT', 'INPUT|' + f.name, 0) || findSame(root, 'SELECT', 'SELECT|' + f.name, 0) ||
          findSame(root, 'TEXTAREA', 'TEXTAREA|' + f.name, 0);
        if (!e) return;
        if (e.type === 'checkbox' || e.type === 'radio') e.checked = f.checked; else e.value = f.value;
      });
      var el = focus && findSame(root, focus.tag, focus.id, focus.n);
      if (!el) return;
      el.focus({ preventScroll: true });
      if (focus.start !== null && focus.start !== undefined) {
        try { el.setSelectionRange(focus.start, focus.end); } catch (e) { /* no caret */ }
      }
    };
  }

  // refreshParts takes part/refresh's answer apart: the stats section's
  // HTML and the history section's, each the content of a <template>
  // element (inert: parsing it runs and loads nothing).
  function refreshParts(html) {
    var t = document.createElement('template');
    t.innerHTML = html;
    var s = t.content.getElementById('refresh-stats'), h = t.content.getElementById('refresh-history');
    if (!s || !h) throw new Error('part/refresh: not the two sections');
    return [s.innerHTML, h.innerHTML];
  }

  Live.prototype.refresh = function () {
    var self = this;
    this.inflight = true;
    this.lastRefresh = Date.now();
    var w = document.body.dataset.window || '';
    var params = new URLSearchParams(location.search);
    var paged = params.has('before') || (params.get('offset') || '0') !== '0';
    // The history keeps its filters and sort; the window (a custom range
    // too) is the page's.
    var hq = new URLSearchParams();
    params.forEach(function (v, k) {
      if (v && ['window', 'from', 'to', 'before', 'offset', 'q'].indexOf(k) < 0) hq.set(k, v);
    });
    if (params.get('q') && !/^[0-9a-f]{32}$/.test(params.get('q'))) hq.set('q', params.get('q'));
    hq.set('window', w);
    // Both sections from one request (part/refresh), which reads the
    // store's stats once; an older page of the history is left as it is.
    var sections = paged
      ? get('part/stats?window=' + encodeURIComponent(w), false).then(function (html) { return [html, null]; })
      : get('part/refresh?' + hq.toString(), false).then(refreshParts);
    var jobs = [sections, get('api/series?window=' + encodeURIComponent(w), true)];
    Promise.all(jobs).then(function (res) {
      var stats = document.getElementById('stats-section');
      if (stats) {
        var back = keepPlace(stats);
        stats.innerHTML = res[0][0];
        back();
        restoreExpanded(stats);
        showPaused();
      }
      var hist = document.getElementById('history-section');
      if (hist && res[0][1] !== null) {
        var before = {};
        hist.querySelectorAll('tr[data-id]').forEach(function (tr) { before[tr.dataset.id] = true; });
        var histBack = keepPlace(hist);
        hist.innerHTML = res[0][1];
        histBack();
        hist.querySelectorAll('tr[data-id]').forEach(function (tr) {
          if (!before[tr.dataset.id]) tr.classList.add('fresh');
        });
        localizeTimes(hist);
      }
      updateCharts(res[1]);
      if (self.es) self.setStatus('live');
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    }).catch(function () {
      self.setStatus('offline', 'refresh failed');
      return showStoreHealth();
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
  function seriesData() { return island('series-data', {}); }

  // partialMark marks the last bucket when it has not ended yet: its
  // counts are not a drop in traffic, only an unfinished bucket.
  function partialMark(sd) {
    var b = sd.buckets || [], step = sd.step_ms || 0;
    if (!b.length || !step) return {};
    var last = b[b.length - 1].start_unix_ms, now = Date.now();
    if (last + step <= now) return { data: [] };
    return {
      silent: true, itemStyle: { color: 'rgba(148,163,184,0.16)' },
      label: { show: true, position: 'insideTop', color: '#64748b', fontSize: 10, formatter: 'so far' },
      data: [[{ xAxis: last }, { xAxis: last + step }]]
    };
  }

  // timeAxis gives a time axis the window's extent, so that an empty or
  // sparse chart still spans the window and its first label is not cut.
  function timeAxis(sd) {
    var w = sd.window || {};
    var a = Date.parse(w.since), z = Date.parse(w.until);
    return {
      min: isNaN(a) ? null : a, max: isNaN(z) ? null : z,
      axisLabel: { alignMinLabel: 'left', alignMaxLabel: 'right', hideOverlap: true, color: '#64748b' }
    };
  }

  // points returns a line's data, with the points that stand alone (no
  // value on either side) drawn as dots: a line through one point is
  // invisible.
  function points(b, value) {
    var out = new Array(b.length);
    for (var i = 0; i < b.length; i++) {
      var v = value(b[i]);
      var alone = v !== '-' && (i === 0 || value(b[i - 1]) === '-') && (i === b.length - 1 || value(b[i + 1]) === '-');
      out[i] = alone ? { value: [b[i].start_unix_ms, v], symbol: 'circle', symbolSize: 7 } : [b[i].start_unix_ms, v];
    }
    return out;
  }

  AppStats.fillRequests = function (c) {
    var sd = seriesData(), b = sd.buckets || [];
    c.setOption({
      xAxis: timeAxis(sd),
      series: [
        { data: points(b, function (x) { return x.requests; }), showSymbol: true, symbolSize: 0, markArea: partialMark(sd) },
        { data: points(b, function (x) { return x.errors; }), showSymbol: true, symbolSize: 0 }
      ]
    });
    clickable(c, 'requests');
  };

  var latencyLog = false;
  try { latencyLog = localStorage.getItem('appstats.latencyLog') === '1'; } catch (e) { /* no storage */ }

  AppStats.fillLatency = function (c) {
    var sd = seriesData(), b = sd.buckets || [];
    var pick = function (k) {
      return points(b, function (x) { return x.requests && (!latencyLog || x[k] > 0) ? x[k] : '-'; });
    };
    c.setOption({
      xAxis: timeAxis(sd),
      yAxis: { type: latencyLog ? 'log' : 'value', logBase: 10, min: latencyLog ? 'dataMin' : null },
      series: [
        { data: pick('p50_ms'), showSymbol: true, symbolSize: 0, markArea: partialMark(sd) },
        { data: pick('p95_ms'), showSymbol: true, symbolSize: 0 },
        { data: pick('p99_ms'), showSymbol: true, symbolSize: 0 }
      ]
    });
    var btn = document.getElementById('latency-log');
    if (btn) btn.setAttribute('aria-pressed', latencyLog ? 'true' : 'false');
    document.body.dataset.latencyScale = latencyLog ? 'log' : 'linear';
    clickable(c, 'latency');
  };

  AppStats.fillHistogram = function (c) {
    var h = island('hist-data', {});
    c.setOption({
      xAxis: [{ data: h.labels || [], axisLabel: { interval: 0, rotate: 40, fontSize: 10, color: '#64748b' } }],
      series: [{ data: h.counts || [] }]
    });
    clickable(c, 'histogram');
  };

  // historyURL is the dashboard's URL with the history's parameters
  // changed: set ones set, null ones removed, the paging reset.
  function historyURL(set) {
    var p = new URLSearchParams(location.search);
    p.delete('before');
    p.delete('offset');
    Object.keys(set).forEach(function (k) {
      if (set[k] === null) p.delete(k); else p.set(k, set[k]);
    });
    return '?' + p.toString() + '#history';
  }
  AppStats.historyURL = historyURL;

  // bucketURL is the list of the requests behind point k of a chart: a
  // time bucket's (the slowest first on the latency chart), or a histogram
  // bucket's; null for no such point.
  function bucketURL(kind, k) {
    if (kind === 'histogram') {
      var le = island('hist-data', {}).le_ms || [];
      if (k < 0 || k >= le.length) return null;
      return historyURL({
        min_ms: k > 0 ? String(le[k - 1]) : null,
        max_ms: le[k] ? String(le[k]) : null,
        sort: 'duration', since: null, until: null
      });
    }
    var sd = seriesData(), b = sd.buckets || [], step = sd.step_ms || 0;
    if (k < 0 || k >= b.length) return null;
    var a = b[k].start_unix_ms;
    return historyURL({
      since: String(a), until: String(a + step),
      sort: kind === 'latency' ? 'duration' : null, min_ms: null, max_ms: null
    });
  }

  // bucketCount is the number of points of a chart.
  function bucketCount(kind) {
    if (kind === 'histogram') return (island('hist-data', {}).le_ms || []).length;
    return (seriesData().buckets || []).length;
  }

  // bucketText says what point k of a chart shows, for a screen reader.
  function bucketText(kind, k) {
    if (kind === 'histogram') {
      var h = island('hist-data', {});
      return (h.labels || [])[k] + ': ' + ((h.counts || [])[k] || 0) + ' requests. Enter lists them.';
    }
    var sd = seriesData(), x = (sd.buckets || [])[k], step = sd.step_ms || 0;
    if (!x) return '';
    var t = function (ms) { return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); };
    var s = t(x.start_unix_ms) + '–' + t(x.start_unix_ms + step) + ': ';
    if (kind === 'latency') {
      if (!x.requests) return s + 'no requests.';
      return s + 'p50 ' + fmtMS(x.p50_ms) + ', p95 ' + fmtMS(x.p95_ms) + ', p99 ' + fmtMS(x.p99_ms) +
        '. Enter lists the slowest requests.';
    }
    return s + x.requests + ' requests, ' + x.errors + ' errors. Enter lists them.';
  }

  // clickable makes a click in a chart list the requests behind the point,
  // and gives the chart a keyboard path to the same lists: it takes the
  // focus (Tab), the arrow keys (Home, End) choose a point, which the
  // chart's tooltip shows and a live region says, and Enter or Space opens
  // its list.
  function clickable(c, kind) {
    if (c.__appstatsClick) return;
    c.__appstatsClick = true;
    c.getZr().on('click', function (e) {
      var at = [e.offsetX, e.offsetY];
      if (!c.containPixel({ gridIndex: 0 }, at)) return;
      var v = c.convertFromPixel({ gridIndex: 0 }, at);
      if (!v) return;
      var k = -1;
      if (kind === 'histogram') {
        k = Math.round(v[0]);
      } else {
        var sd = seriesData(), b = sd.buckets || [], step = sd.step_ms || 0;
        for (var j = 0; j < b.length; j++) {
          if (v[0] >= b[j].start_unix_ms && v[0] < b[j].start_unix_ms + step) { k = j; break; }
        }
      }
      var u = bucketURL(kind, k);
      if (u) location.href = u;
    });
    var el = c.getDom(), say = document.getElementById(el.id + '-point');
    var sel = -1;
    var show = function () {
      var n = bucketCount(kind);
      if (!n) return;
      sel = Math.max(0, Math.min(sel, n - 1));
      el.dataset.point = String(sel);
      c.dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: sel });
      if (say) say.textContent = bucketText(kind, sel);
    };
    el.addEventListener('keydown', function (ev) {
      if (ev.target !== el || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      var n = bucketCount(kind);
      switch (ev.key) {
        case 'ArrowRight': case 'ArrowDown': sel = sel < 0 ? n - 1 : sel + 1; break;
        case 'ArrowLeft': case 'ArrowUp': sel = sel < 0 ? n - 1 : sel - 1; break;
        case 'Home': sel = 0; break;
        case 'End': sel = n - 1; break;
        case 'Enter': case ' ':
          ev.preventDefault();
          var u = bucketURL(kind, sel < 0 ? n - 1 : Math.min(sel, n - 1));
          if (u) location.href = u;
          return;
        default: return;
      }
      ev.preventDefault();
      show();
    });
    el.addEventListener('focus', function () { if (sel < 0) sel = bucketCount(kind) - 1; show(); });
    el.addEventListener('blur', function () { c.dispatchAction({ type: 'hideTip' }); });
  }

  // ---- In-flight page ---------------------------------------------------

  // startActive refreshes the in-flight table every 2 s while the page is
  // visible and "refresh" is checked, keeping open rows open.
  function startActive() {
    var box = document.getElementById('active-section');
    var auto = document.getElementById('active-auto');
    if (!box) return;
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden || (auto && !auto.checked)) return;
      busy = true;
      get('part/active?limit=' + encodeURIComponent(box.dataset.limit || '50'), false).then(function (html) {
        var back = keepPlace(box);
        box.innerHTML = html;
        back();
        restoreExpanded(box);
        localizeTimes(box);
        document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
      }).catch(function () { /* the next tick tries again */ }).then(function () { busy = false; });
    }, 2000);
  }

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
    if (document.getElementById('gantt-data')) {
      openAskedCall(true);
      window.addEventListener('hashchange', function () { openAskedCall(false); });
    }
    if (document.body.dataset.page === 'active') startActive();
    showPaused();
    var logBtn = document.getElementById('latency-log');
    if (logBtn) {
      logBtn.addEventListener('click', function () {
        latencyLog = !latencyLog;
        try { localStorage.setItem('appstats.latencyLog', latencyLog ? '1' : '0'); } catch (e) { /* no storage */ }
        var lc = chart('chartLatency');
        if (lc) AppStats.fillLatency(lc);
      });
    }
    var rf = document.getElementById('range-form');
    if (rf) {
      // The server fills the inputs in UTC; show them in local time.
      ['from', 'to'].forEach(function (n) {
        var el = rf.elements[n], t = el && el.value ? Date.parse(el.value + 'Z') : NaN;
        if (isNaN(t)) return;
        var d = new Date(t), pad = function (x) { return (x < 10 ? '0' : '') + x; };
        el.value = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
          pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
      });
      // datetime-local values are the browser's local time: send them as
      // Unix milliseconds, which the server reads without a time zone.
      rf.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var p = new URLSearchParams();
        var from = Date.parse(rf.elements.from.value), to = rf.elements.to.value ? Date.parse(rf.elements.to.value) : NaN;
        if (isNaN(from)) return;
        p.set('from', String(from));
        if (!isNaN(to)) p.set('to', String(to));
        location.href = '?' + p.toString();
      });
    }
    if (document.body.dataset.live === '1' && window.EventSource) {
      var live = new Live();
      AppStats.live = live;
      live.connect();
    }
    // The page is ready (data-ready="1" on the html element, which tests
    // wait for) once its start is done and its charts have drawn their
    // first frame: two animation frames on.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { document.documentElement.dataset.ready = '1'; });
    });
  });
})();
