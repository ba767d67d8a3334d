/* Throughput, latency and unanswered-share charts with fault windows shaded and labelled (uPlot).
   Shared by report.html (inlined) and the web UI's Chaos tab. window.chaosCharts(el, series, windows). */
(function () {
  "use strict";
  var COLORS = ["rgba(220,80,60,0.16)", "rgba(60,110,220,0.16)", "rgba(230,160,30,0.18)", "rgba(120,60,200,0.16)"];

  function bands(windows) {
    return function (u) {
      var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
      ctx.save();
      windows.forEach(function (w, i) {
        var end = w.end === null || w.end === undefined ? u.scales.x.max : w.end;
        var x0 = u.valToPos(w.start, "x", true), x1 = u.valToPos(end, "x", true);
        ctx.fillStyle = COLORS[i % COLORS.length];
        ctx.fillRect(x0, top, Math.max(x1 - x0, 2), height);
        ctx.fillStyle = "rgba(40,40,40,0.85)";
        ctx.font = (12 * devicePixelRatio) + "px sans-serif";
        ctx.fillText(w.name, x0 + 3 * devicePixelRatio, top + (14 + 13 * (i % 3)) * devicePixelRatio);
      });
      ctx.restore();
    };
  }

  function chart(el, title, data, series, windows, width, xmax) {
    var box = document.createElement("div");
    box.className = "chaos-chart";
    box.setAttribute("data-title", title);
    el.appendChild(box);
    var opts = {
      title: title, width: width, height: 220,
      scales: { x: { time: false, range: [0, xmax] } },
      axes: [{ label: "seconds since start" }, {}],
      series: [{ label: "s" }].concat(series),
      hooks: { drawClear: [bands(windows)] }
    };
    return new uPlot(opts, data, box);
  }

  window.chaosCharts = function (el, s, windows) {
    el.innerHTML = "";
    var width = Math.max(Math.min(el.clientWidth || 900, 1400) - 20, 480);
    var xmax = Math.max(s.t.length ? s.t[s.t.length - 1] : 1, 1);
    windows.forEach(function (w) { xmax = Math.max(xmax, w.end === null || w.end === undefined ? w.start + 1 : w.end); });
    var charts = [
      chart(el, "Operations per second", [s.t, s.answered, s.unanswered],
            [{ label: "answered", stroke: "#2a7", width: 2 }, { label: "unanswered", stroke: "#c33", width: 2 }],
            windows, width, xmax),
      chart(el, "Latency of answered operations (ms)", [s.t, s.p50_ms, s.p99_ms],
            [{ label: "p50", stroke: "#36c", width: 2 }, { label: "p99", stroke: "#a3c", width: 2 }], windows, width,
            xmax),
      chart(el, "Unanswered share (%)", [s.t, s.unanswered_pct],
            [{ label: "unanswered %", stroke: "#c33", width: 2 }], windows, width, xmax)
    ];
    el.setAttribute("data-fault-windows", String(windows.length));
    windows.forEach(function (w) {
      var band = document.createElement("span");
      band.className = "fault-band";
      band.setAttribute("data-fault", w.name);
      band.setAttribute("data-start", w.start);
      band.setAttribute("data-end", w.end === null || w.end === undefined ? "" : w.end);
      band.hidden = true;
      el.appendChild(band);
    });
    return charts;
  };
})();
