// Pan and zoom in time: the group #zoom is scaled in x (its strokes do not scale); the
// elements of #points are moved to their data-x at the current scale; labels and the time
// axis are redrawn for the visible range. Drag to pan, wheel to zoom around the pointer.
(function () {
  "use strict";
  var svg = document.getElementById("svg");
  var view = document.getElementById("view");
  var zoom = document.getElementById("zoom");
  var labels = document.getElementById("labels");
  var axis = document.getElementById("axis");
  var NS = "http://www.w3.org/2000/svg";
  var W = parseFloat(svg.dataset.width);
  var T0 = parseFloat(svg.dataset.from), T1 = parseFloat(svg.dataset.to);
  var points = Array.prototype.map.call(document.querySelectorAll("#points [data-x]"), function (el) {
    return { el: el, x: parseFloat(el.dataset.x), y: parseFloat(el.dataset.y) };
  });
  var msgs = Array.prototype.map.call(document.querySelectorAll("#zoom .msg"), function (el) {
    return { el: el, x1: +el.getAttribute("x1"), x2: +el.getAttribute("x2"),
             y1: +el.getAttribute("y1"), y2: +el.getAttribute("y2"), kind: el.dataset.kind };
  });
  var ops = Array.prototype.map.call(document.querySelectorAll("#zoom .op"), function (el) {
    return { el: el, x: +el.getAttribute("x"), w: +el.getAttribute("width"),
             y: +el.getAttribute("y") + (+el.getAttribute("height")) / 2, text: el.dataset.text };
  });
  var bands = Array.prototype.map.call(document.querySelectorAll("#zoom .band"), function (el) {
    return { el: el, x: +el.getAttribute("x"), y: +el.getAttribute("y"), band: el.dataset.band,
             title: el.querySelector("title").textContent };
  });
  var s = 1, tx = 0, fit = 1;
  function width() { return view.clientWidth || 800; }
  function X(x) { return tx + s * x; }
  function text(x, y, t, cls) {
    var e = document.createElementNS(NS, "text");
    e.setAttribute("x", x.toFixed(1)); e.setAttribute("y", y.toFixed(1));
    if (cls) e.setAttribute("class", cls);
    e.textContent = t; labels.appendChild(e);
  }
  function unit(ns) {
    if (ns >= 1e9) return [1e9, "s"]; if (ns >= 1e6) return [1e6, "ms"];
    if (ns >= 1e3) return [1e3, "µs"]; return [1, "ns"];
  }
  function drawAxis() {
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    var vw = width(), span = T1 - T0;
    var a = T0 + (-tx / s) / W * span, b = T0 + ((vw - tx) / s) / W * span;
    var raw = (b - a) / 8, p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
    var step = [1, 2, 5, 10].map(function (m) { return m * p; }).find(function (v) { return v >= raw; });
    var u = unit(step), h = svg.getAttribute("height");
    for (var t = Math.ceil(a / step) * step; t <= b; t += step) {
      var x = X((t - T0) / span * W);
      var l = document.createElementNS(NS, "line");
      l.setAttribute("x1", x); l.setAttribute("x2", x); l.setAttribute("y1", 18); l.setAttribute("y2", h);
      axis.appendChild(l);
      var e = document.createElementNS(NS, "text");
      e.setAttribute("x", x + 3); e.setAttribute("y", 14);
      e.textContent = +(t / u[0]).toFixed(3) + u[1];
      axis.appendChild(e);
    }
  }
  // Labels never overlap: per row of text, a label is placed only right of the last one.
  var rows = {};
  function fits(x, y, chars) {
    var key = Math.round(y / 6), right = rows[key];
    if (right !== undefined && x < right + 6) return false;
    rows[key] = x + chars * 6.2;
    return true;
  }
  function drawLabels() {
    while (labels.firstChild) labels.removeChild(labels.firstChild);
    rows = {};
    var vw = width();
    points.forEach(function (p) {
      var t = p.el.querySelector("text");
      if (!t) return;
      var x = X(p.x), ok = x >= -50 && x <= vw && (p.el.classList.contains("evidence") || fits(x, p.y - 6, t.textContent.length));
      t.style.display = ok ? "" : "none";
    });
    var visible = msgs.filter(function (m) { return X(m.x2) >= 0 && X(m.x1) <= vw; });
    if (visible.length <= 400) {
      visible.forEach(function (m) {
        var x = (X(m.x1) + X(m.x2)) / 2, y = (m.y1 + m.y2) / 2;
        if (Math.abs(X(m.x2) - X(m.x1)) + Math.abs(m.y2 - m.y1) > 30 && fits(x + 2, y, m.kind.length)) text(x + 2, y - 2, m.kind);
      });
    }
    ops.forEach(function (o) {
      var x = X(o.x), w = s * o.w;
      if (w > 70 && x + w >= 0 && x <= vw) text(Math.max(x, 0) + 3, o.y + 3.5, o.text.slice(0, Math.floor(w / 6)));
    });
    var seen = {};
    bands.forEach(function (b) {
      if (seen[b.band]) return; seen[b.band] = 1;
      var x = X(b.x);
      var name = b.title.split(" from ")[0];
      if (x <= vw && fits(Math.max(x, 0) + 3, b.y + 9, name.length)) text(Math.max(x, 0) + 3, b.y + 9, name, "band-label");
    });
  }
  function apply() {
    zoom.setAttribute("transform", "translate(" + tx + ",0) scale(" + s + ",1)");
    points.forEach(function (p) { p.el.setAttribute("transform", "translate(" + X(p.x).toFixed(2) + "," + p.y + ")"); });
    drawAxis(); drawLabels();
  }
  var pending = false;
  function later() { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; apply(); }); } }
  function clamp() {
    var max = 40 * ((T1 - T0) / 1e3) / W; // at most 40 px per µs
    s = Math.min(Math.max(s, fit), Math.max(max, fit));
    var vw = width(), room = vw * 0.03;
    tx = Math.min(room, Math.max(tx, vw - room - s * W));
  }
  function show(x0, x1) {
    var vw = width(), pad = (x1 - x0) * 0.08 + 1;
    s = vw / (x1 - x0 + 2 * pad); tx = -s * (x0 - pad); clamp(); later();
  }
  // The whole run, with a little room on both sides for the markers at its ends.
  function reset() { fit = width() / (W * 1.06); s = fit; tx = width() * 0.03; later(); }
  view.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = view.getBoundingClientRect(), mx = e.clientX - r.left;
    var x = (mx - tx) / s;
    s *= Math.exp(-e.deltaY * 0.0015); clamp();
    tx = mx - x * s; clamp(); later();
  }, { passive: false });
  var drag = null;
  view.addEventListener("mousedown", function (e) { drag = { x: e.clientX, tx: tx }; view.classList.add("dragging"); });
  window.addEventListener("mousemove", function (e) { if (drag) { tx = drag.tx + e.clientX - drag.x; clamp(); later(); } });
  window.addEventListener("mouseup", function () { drag = null; view.classList.remove("dragging"); });
  window.addEventListener("resize", function () { fit = width() / (W * 1.06); clamp(); later(); });
  function evidenceRange() {
    var xs = [];
    document.querySelectorAll("#zoom .op.evidence").forEach(function (el) {
      xs.push(+el.getAttribute("x"), +el.getAttribute("x") + (+el.getAttribute("width")));
    });
    points.forEach(function (p) { if (p.el.classList.contains("evidence")) xs.push(p.x); });
    return xs.length ? [Math.min.apply(null, xs), Math.max.apply(null, xs)] : null;
  }
  document.getElementById("fit").addEventListener("click", reset);
  document.getElementById("zin").addEventListener("click", function () { var c = width() / 2, x = (c - tx) / s; s *= 2; clamp(); tx = c - x * s; clamp(); later(); });
  document.getElementById("zout").addEventListener("click", function () { var c = width() / 2, x = (c - tx) / s; s /= 2; clamp(); tx = c - x * s; clamp(); later(); });
  var ev = document.getElementById("to-evidence");
  var range = evidenceRange();
  if (range) ev.addEventListener("click", function () { show(range[0], range[1]); }); else ev.disabled = true;
  document.getElementById("timers").addEventListener("change", function (e) { svg.classList.toggle("show-timers", e.target.checked); });
  // Open on the failure: from the first fault (or the evidence) to the last evidence.
  function opening() {
    if (!range) return null;
    var xs = [range[0]];
    document.querySelectorAll("#zoom .down, #zoom .band, #zoom .ginst").forEach(function (el) {
      xs.push(+(el.getAttribute("x") || el.getAttribute("x1")));
    });
    points.forEach(function (p) { if (p.el.classList.contains("inst")) xs.push(p.x); });
    var from = Math.min.apply(null, xs);
    return [from, Math.max(range[1], from + 1)];
  }
  reset();
  var open = opening();
  if (open) show(open[0], open[1]);
  apply();
  document.documentElement.setAttribute("data-ready", "1");
  document.documentElement.setAttribute("data-ready-ms", Math.round(performance.now()));
})();
