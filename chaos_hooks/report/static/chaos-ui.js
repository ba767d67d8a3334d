/* The Chaos tab's panel in Locust's web UI: polls /chaos/state and, while the Chaos tab is open, shows the
   timeline with each fault's state and countdown, probes, guards, the verdict with a link to the report, and
   charts with the fault windows shaded (chaos-charts.js). */
(function () {
  "use strict";
  var loaded = false, lastChart = 0;

  function load(src) {
    return new Promise(function (ok, fail) {
      var s = document.createElement("script");
      s.src = src; s.onload = ok; s.onerror = fail;
      document.head.appendChild(s);
    });
  }

  function esc(v) {
    return String(v === null || v === undefined ? "" : v).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function badge(text, colour, id) {
    /* report.html's .status badge: white bold text on the verdict's colour */
    return '<span class="chaos-badge"' + (id ? ' id="' + id + '"' : "") + ' style="display:inline-block;' +
           "padding:2px 10px;border-radius:4px;color:#fff;font-weight:600;background:" + esc(colour) + '">' +
           esc(text) + "</span>";
  }

  function chaosTabOpen() {
    return new URLSearchParams(window.location.search).get("tab") === "chaos";
  }

  function anchor() {
    /* Where the panel goes: above the Chaos tab's own table while the tabs show, else above the start form. */
    var tables = Array.prototype.slice.call(document.querySelectorAll("table")).filter(function (t) {
      return !t.closest("#chaos-panel") && /What/.test(t.textContent) && /Detail/.test(t.textContent);
    });
    if (tables.length) return tables[0].parentElement;
    var form = document.querySelector("form");
    return form || null;
  }

  function panel() {
    var p = document.getElementById("chaos-panel");
    var where = anchor();
    if (!p) {
      p = document.createElement("div");
      p.id = "chaos-panel";
      p.style.cssText = "padding:12px 16px;margin:8px 0;font:14px/1.4 system-ui,sans-serif;" +
                        "border:1px solid #ddd;border-radius:6px;background:#fff;color:#222";
      p.innerHTML = '<style>#chaos-panel td,#chaos-panel th{padding:2px 10px 2px 0;text-align:left}</style>' +
                    '<div id="chaos-head"></div><table id="chaos-faults" style="border-collapse:collapse"></table>' +
                    '<table id="chaos-checks" style="border-collapse:collapse;margin-top:6px"></table>' +
                    '<div id="chaos-verdict"></div><div id="chaos-charts"></div>';
    }
    if (where && p.nextSibling !== where) {
      where.parentElement.insertBefore(p, where);  /* React re-renders may have moved or dropped it */
    } else if (!where && !p.isConnected) {
      document.body.insertBefore(p, document.body.firstChild);
    }
    return p;
  }

  function render(state) {
    var p = panel();
    if (!p) return;
    p.setAttribute("data-running", String(state.running));
    var phase = !state.run_id ? "not started — its timeline:" :
                (state.running ? "running, +" + esc(state.elapsed_s) + " s" : "done");
    document.getElementById("chaos-head").innerHTML = "<b>" + esc(state.scenario) + "</b> " + phase +
      (state.nemesis_seed !== null && state.nemesis_seed !== undefined ? " — nemesis seed " + esc(state.nemesis_seed) : "");
    var rows = ["<tr><th>fault</th><th>action</th><th>target</th><th>at</th><th>state</th></tr>"];
    state.faults.forEach(function (f) {
      var st = f.state + (f.seconds_left !== null && f.seconds_left !== undefined ? " (" + f.seconds_left + " s left)" : "");
      rows.push('<tr data-fault="' + esc(f.name) + '" data-state="' + esc(f.state) + '"><td>' + esc(f.name) +
                "</td><td>" + esc(f.action) + "</td><td>" + esc(f.target) + "</td><td>+" + esc(f.at_s) +
                " s</td><td>" + esc(st) + (f.error ? " — " + esc(f.error) : "") + "</td></tr>");
    });
    document.getElementById("chaos-faults").innerHTML = rows.join("");
    var checks = [];
    state.probes.forEach(function (pr) {
      checks.push('<tr data-probe="' + esc(pr.name) + '"><td>probe</td><td>' + esc(pr.name) + "</td><td>last value " +
                  esc(pr.value) + "</td></tr>");
    });
    state.guards.forEach(function (g) {
      var fig = g.figure === null || g.figure === undefined ? "-" : g.figure;
      checks.push('<tr data-guard="' + esc(g.name) + '" data-figure="' + esc(g.figure) + '" data-tripped="' +
                  String(!!g.tripped) + '"><td>guard</td><td>' + esc(g.name) + "</td><td>" + esc(g.what) + ": " +
                  esc(fig) + " (limit " + esc(g.limit) + ")" + (g.tripped ? " — tripped: " + esc(g.tripped.reason) : "") +
                  "</td></tr>");
    });
    document.getElementById("chaos-checks").innerHTML = checks.join("");
    var v = state.verdict, out = "";
    if (v) {
      /* The verdict in the terminal's and report.html's words and colours (chaos_tab_state.badge). */
      out = '<p id="chaos-verdict-status" data-status="' + esc(v.status) + '" data-badge="' + esc(v.badge.kind) +
            '">verdict: ' + badge(v.badge.text, v.badge.colour, "chaos-verdict-badge") +
            ' — <a id="chaos-report-link" href="' + esc(v.report) + '" target="_blank">report</a></p>' +
            (v.interrupted ? '<p id="chaos-interrupted">interrupted at +' + esc(v.interrupted.at_s) + "s: " +
             esc(v.interrupted.why) + "</p>" : "") + "<table>";
      v.invariants.forEach(function (i) {
        out += '<tr data-invariant="' + esc(i.name) + '" data-status="' + esc(i.status) + '"><td>' +
               badge(i.mark, i.colour, "") + "</td><td>" + esc(i.name) + "</td><td>" + esc(i.figure) + "</td><td>" +
               esc(i.summary) + "</td></tr>";
      });
      out += "</table>";
    }
    document.getElementById("chaos-verdict").innerHTML = out;
    var now = Date.now();
    if (state.series && window.chaosCharts && (now - lastChart > 900 || !state.running)) {
      lastChart = now;
      window.chaosCharts(document.getElementById("chaos-charts"), state.series, state.windows);
    }
  }

  function tick() {
    if (!chaosTabOpen()) {
      var old = document.getElementById("chaos-panel");
      if (old) old.remove();
      return;
    }
    fetch("./chaos/state").then(function (r) { return r.json(); }).then(render).catch(function () {});
  }

  Promise.all([load("./chaos/static/uPlot.iife.min.js")]).then(function () {
    return load("./chaos/static/chaos-charts.js");
  }).then(function () { loaded = true; }).finally(function () {
    setInterval(tick, 1000);
    tick();
  });
})();
