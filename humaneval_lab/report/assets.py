"""The page's CSS and script, inline (a report is one file that must work offline)."""

# First script in <head>: any uncaught error, failed resource or console.error lands in #hel-errors,
# so a headless browser test (and a curious reader) sees it in the DOM.
ERROR_TRAP = r"""
(function () {
  var seen = [];
  function note(msg) {
    seen.push(String(msg));
    var el = document.getElementById("hel-errors");
    if (el) { el.textContent = seen.join("\n"); el.hidden = false; }
  }
  window.addEventListener("error", function (e) {
    note(e.message ? e.message + " (" + (e.filename || "") + ":" + (e.lineno || 0) + ")"
                   : "failed to load " + ((e.target && (e.target.src || e.target.href)) || "a resource"));
  }, true);
  window.addEventListener("unhandledrejection", function (e) { note("unhandled rejection: " + e.reason); });
  var origError = console.error;
  console.error = function () { note(Array.prototype.join.call(arguments, " ")); origError.apply(console, arguments); };
})();
"""

CSS = r"""
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3; --bg: #fff; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg);
       margin: 0 auto; max-width: 1280px; padding: 16px 24px 40px; }
h1 { font-size: 22px; margin: 4px 0; } h2 { font-size: 16px; margin: 18px 0 8px; } h3 { font-size: 15px; }
.meta, .hint, footer { color: var(--muted); } footer { margin-top: 32px; font-size: 12px; }
.note { background: #fff4e5; border-left: 3px solid #E69F00; padding: 4px 8px; }
table { border-collapse: collapse; margin: 4px 0 8px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.up { color: #1a7f37; font-weight: 600; } .down { color: #cf222e; font-weight: 600; }
.swatch, .key i { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; margin: 2px 0 4px; }
.two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 28px; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
svg.chart { width: 100%; height: auto; max-height: 340px; }
svg .grid { stroke: #e7eaee; } svg .tick, svg .axis { font-size: 11px; fill: var(--muted); }
svg .series { fill: none; stroke-width: 2; } svg .whisker { stroke: #222; stroke-width: 1.2; }
.scroll { max-height: 460px; overflow: auto; border: 1px solid var(--line); }
#grid { margin: 0; font-size: 12px; } #grid th, #grid td { padding: 1px 6px; }
#grid thead th { position: sticky; top: 0; background: var(--panel); }
#grid td.cell { width: 44px; min-width: 44px; cursor: pointer; border: 1px solid #d0d7de; }
#grid-legend i { outline: 1px solid #d0d7de; }  /* the 0% colour is nearly the page's white */
#grid tr.selected th, #grid tr.selected td.lang { background: #ddf4ff; }
.lang { color: var(--muted); }
.controls { display: flex; gap: 12px; align-items: center; margin-bottom: 6px; font-size: 13px; }
#problem-view .run { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin: 8px 0; background: var(--panel); }
#problem-view pre { background: #fff; border: 1px solid var(--line); padding: 6px; max-height: 260px; overflow: auto;
                    white-space: pre-wrap; word-break: break-word; font-size: 12px; }
#problem-view .err { border-color: #f1b0b0; background: #fff8f8; }
#hel-errors { background: #ffebe9; color: #82071e; padding: 8px; }
a.flip { font-family: ui-monospace, monospace; font-size: 12px; margin-right: 6px; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("hel-data").textContent);
  var select = document.getElementById("problem-select");
  var view = document.getElementById("problem-view");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;  // untrusted text: never innerHTML
    return e;
  }

  data.tasks.forEach(function (t, i) {
    var o = el("option", "", t + " (" + data.languages[i] + ")");
    o.value = t;
    select.appendChild(o);
  });

  function show(task) {
    var i = data.tasks.indexOf(task);
    if (i < 0) return false;
    select.value = task;
    view.textContent = "";
    view.appendChild(el("h3", "", task));
    data.runs.forEach(function (run) {
      var n = run.counts[i][0], c = run.counts[i][1];
      var box = el("div", "run");
      box.appendChild(el("b", "", run.name));
      var kinds = Object.keys(run.verdicts[i]).map(function (k) { return k + " " + run.verdicts[i][k]; });
      box.appendChild(el("div", "", c + "/" + n + " samples passed · " + kinds.join(", ")));
      var ex = run.examples[task];
      if (ex) {
        box.appendChild(el("div", "", "first failing sample #" + ex.sample_index + ": " + ex.verdict +
                           (ex.reason ? " (" + ex.reason + ")" : "")));
        box.appendChild(el("pre", "completion", ex.completion));
        if (ex.stderr_tail) box.appendChild(el("pre", "err", ex.stderr_tail));
      } else {
        box.appendChild(el("div", "", "no failing sample"));
      }
      view.appendChild(box);
    });
    Array.prototype.forEach.call(document.querySelectorAll("#grid tr.selected"), function (r) { r.classList.remove("selected"); });
    var row = document.querySelector('#grid tr[data-task="' + CSS.escape(task) + '"]');
    if (row) row.classList.add("selected");
    return true;
  }

  function fromHash() {
    var m = /^#task=(.*)$/.exec(location.hash);
    return m ? show(decodeURIComponent(m[1])) : false;
  }

  select.addEventListener("change", function () { location.hash = "task=" + encodeURIComponent(select.value); });
  window.addEventListener("hashchange", fromHash);
  document.getElementById("grid").addEventListener("click", function (e) {
    var cell = e.target.closest("[data-task]");
    if (cell) location.hash = "task=" + encodeURIComponent(cell.getAttribute("data-task"));
  });

  var filter = document.getElementById("grid-filter"), differs = document.getElementById("grid-differs");
  function applyFilter() {
    var q = filter.value.trim().toLowerCase(), only = differs.checked, shown = 0;
    Array.prototype.forEach.call(document.querySelectorAll("#grid tbody tr"), function (r) {
      var ok = (!q || r.textContent.toLowerCase().indexOf(q) >= 0) && (!only || r.getAttribute("data-differs") === "1");
      r.hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById("grid-count").textContent = shown + " of " + data.tasks.length + " problems";
  }
  filter.addEventListener("input", applyFilter);
  differs.addEventListener("change", applyFilter);
  applyFilter();

  if (!fromHash()) {
    // Start on the first problem some run fails, else the first problem.
    var first = data.tasks.find(function (t) { return data.runs.some(function (r) { return r.examples[t]; }); });
    show(first || data.tasks[0]);
  }
  document.body.setAttribute("data-ready", "1");
})();
"""
