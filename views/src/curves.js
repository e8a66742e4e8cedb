// The curves view of mlflow_get_metric_history: one chart per metric key, one line per run, drawn
// from the structured result as it stands ({x_axis, series: [{run_id, run_name, label, key, count,
// first, last, min, max, nonfinite, x: [...], y: [...], downsampled}], missing, notes, hint}).
// Runs are toggled from one legend for all charts; hovering shows each run's nearest point with
// its step; a log scale where every value is positive; the min and max of each curve are marked.
// Without two points in any series (or without room), the same facts as a table.

import uPlot from "uplot";
import { cssVar, fmt, h, plainAnswer, runColor, setState, shortId, startView } from "./common.js";

const CHART_HEIGHT = 220;
const MIN_CHART_WIDTH = 320;
const app = document.getElementById("app");
const ui = { log: false, mode: null, hidden: new Set() };
let result = null;
let plots = [];

startView({
  name: "mlflow-feast-mcp curves",
  waiting: "Waiting for the metric history…",
  pending: (args) =>
    `Fetching the history of ${Array.isArray(args.metric_keys) ? args.metric_keys.join(", ") : "metrics"}…`,
  draw: (received) => {
    result = received;
    render();
  },
});

// ---- the model of the answer ------------------------------------------------------------------

function model(data) {
  const runs = [];
  const byRun = new Map();
  for (const s of data.series) {
    if (!byRun.has(s.run_id)) {
      byRun.set(s.run_id, runs.length);
      runs.push({ id: s.run_id, name: s.run_name || shortId(s.run_id), label: s.label || "" });
    }
  }
  const keys = [...new Set(data.series.map((s) => s.key))];
  return { data, runs, keys, colorOf: (s) => runColor(byRun.get(s.run_id)) };
}

const runTitle = (s) => (s.run_name || shortId(s.run_id)) + (s.label ? ` (${s.label})` : "");
const xLabelOf = (data) => (data.x_axis === "timestamp" ? "seconds since the run's first point" : "step");
const positive = (series) => series.every((s) => s.points.every(([, y]) => y > 0));

// ---- rendering --------------------------------------------------------------------------------

// Each series' columns x and y as the [x, y] points the drawing reads.
function withPoints(data) {
  if (!data || !Array.isArray(data.series)) return data;
  const series = data.series.map((s) => ({ ...s, points: (s.x || []).map((x, i) => [x, s.y[i]]) }));
  return { ...data, series };
}

function render() {
  plots.forEach((p) => p.u?.destroy());
  plots = [];
  const data = withPoints(result.structuredContent);
  if (result.isError || !data || !Array.isArray(data.series)) {
    app.replaceChildren(plainAnswer(result, "Metric history"));
    setState("ready");
    return;
  }
  const m = model(data);
  const drawable = data.series.some((s) => s.points.length >= 2);
  const roomy = app.clientWidth >= MIN_CHART_WIDTH;
  const mode = drawable ? ui.mode || (roomy ? "chart" : "table") : "table";
  const logPossible = m.keys.some((key) => positive(data.series.filter((s) => s.key === key)));

  app.replaceChildren(
    header(m),
    controls(mode, drawable, logPossible),
    legend(m),
    ...(mode === "chart" ? m.keys.map((key) => panel(m, key)) : [summaryTable(m)]),
    notes(m),
  );
  if (mode === "chart") plots.forEach((p) => p.mount());
  document.body.dataset.mode = mode;
  setState("ready");
}

function header({ data, runs, keys }) {
  const window_ =
    data.min_step !== undefined || data.max_step !== undefined
      ? ` · steps ${data.min_step ?? 0}–${data.max_step ?? "end"}`
      : "";
  return h(
    "header",
    {},
    h("h1", {}, keys.join(", ")),
    h(
      "div",
      { class: "sub" },
      `${data.series.length} series of ${runs.length} run${runs.length === 1 ? "" : "s"} · x = ${xLabelOf(data)}` +
        `${window_} · ${data.points_returned} of a ${data.point_budget}-point budget`,
    ),
  );
}

function controls(mode, drawable, logPossible) {
  const rerender = (change) => () => {
    change();
    render();
  };
  return h(
    "div",
    { class: "controls" },
    h(
      "button",
      {
        id: "log-scale",
        "aria-pressed": ui.log ? "true" : "false",
        disabled: mode !== "chart" || !logPossible,
        title: logPossible ? "logarithmic y axis" : "a log scale needs positive values",
        onclick: rerender(() => (ui.log = !ui.log)),
      },
      "log scale",
    ),
    h(
      "span",
      { class: "segmented" },
      h(
        "button",
        {
          id: "show-chart",
          "aria-pressed": mode === "chart" ? "true" : "false",
          disabled: !drawable,
          onclick: rerender(() => (ui.mode = "chart")),
        },
        "chart",
      ),
      h(
        "button",
        { id: "show-table", "aria-pressed": mode === "table" ? "true" : "false", onclick: rerender(() => (ui.mode = "table")) },
        "table",
      ),
    ),
  );
}

function legend({ runs }) {
  return h(
    "div",
    { class: "legend", role: "group", "aria-label": "runs" },
    runs.map((run, i) =>
      h(
        "button",
        {
          class: "legend-entry",
          "data-run": run.id,
          "aria-pressed": ui.hidden.has(run.id) ? "false" : "true",
          title: `${run.id}: click to hide or show`,
          onclick: (event) => toggleRun(run.id, event.currentTarget),
        },
        h("span", { class: "swatch", style: { background: runColor(i) } }),
        run.name,
        run.label ? h("span", { class: "sub" }, ` ${run.label}`) : null,
      ),
    ),
  );
}

function toggleRun(runId, button) {
  const show = ui.hidden.has(runId);
  if (show) ui.hidden.delete(runId);
  else ui.hidden.add(runId);
  button.setAttribute("aria-pressed", show ? "true" : "false");
  for (const p of plots) {
    p.series.forEach((s, i) => {
      if (s.run_id === runId) p.u.setSeries(i + 1, { show });
    });
  }
}

function notes({ data }) {
  const items = [];
  const logged = data.series.reduce((n, s) => n + s.count - (s.nonfinite || 0), 0);
  if (data.series.some((s) => s.downsampled))
    items.push(
      `${data.points_returned} of ${logged} points drawn: downsampled to the ${data.point_budget}-point budget, ` +
        "each curve keeping its first, last, min and max (the table has every series' summary)",
    );
  for (const s of data.series) {
    if (s.nonfinite) items.push(`${runTitle(s)} ${s.key}: ${s.nonfinite} NaN/inf values left out of the curve`);
  }
  const missing = new Map();
  for (const miss of data.missing || []) {
    const why = `${miss.key} ${miss.reason}`;
    missing.set(why, [...(missing.get(why) || []), miss.run_name || shortId(miss.run_id)]);
  }
  for (const [why, runs] of missing) items.push(`${why}: ${runs.join(", ")}`);
  for (const note of data.notes || []) items.push(note);
  if (data.hint) items.push(data.hint);
  return items.length ? h("ul", { class: "notes" }, items.map((text) => h("li", {}, text))) : h("div");
}

// ---- one chart per key ------------------------------------------------------------------------

function panel(m, key) {
  const series = m.data.series.filter((s) => s.key === key);
  const log = ui.log && positive(series);
  const target = h("div", { class: "plot" });
  const tip = h("div", { class: "tip", hidden: true });
  const section = h(
    "section",
    { class: "panel", "data-key": key },
    h("h2", {}, key, ui.log && !log ? h("span", { class: "sub" }, " (linear: values ≤ 0)") : null),
    h("div", { class: "plot-wrap" }, target, tip),
  );
  const p = { key, series, log, section, tip, colors: series.map(m.colorOf), u: null };
  p.mount = () => {
    p.u = new uPlot(chartOptions(m, p, target.clientWidth || app.clientWidth), chartData(series), target);
    p.u.over.addEventListener("mouseenter", () => (p.hover = true));
    p.u.over.addEventListener("mouseleave", () => {
      p.hover = false;
      tip.hidden = true;
    });
  };
  plots.push(p);
  return section;
}

// uPlot wants one shared x array: the union of the runs' x, each run null where it has no point
// (lines span the gaps; hovering skips them).
function chartData(series) {
  const xs = [...new Set(series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const column = new Array(xs.length).fill(null);
    for (const [x, y] of s.points) column[at.get(x)] = y;
    return column;
  });
  return [xs, ...ys];
}

function chartOptions(m, p, width) {
  const fg = cssVar("--fg-2");
  const grid = cssVar("--grid");
  const font = `11px ${cssVar("--font") || "sans-serif"}`;
  const axis = { stroke: fg, font, labelFont: font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: CHART_HEIGHT,
    scales: { x: { time: false }, y: p.log ? { distr: 3, log: 10 } : {} },
    axes: [
      { ...axis, label: xLabelOf(m.data), labelSize: 14, labelGap: 0, size: 30 },
      { ...axis, size: 58 },
    ],
    series: [
      { label: xLabelOf(m.data) },
      ...p.series.map((s, i) => ({
        label: runTitle(s),
        stroke: p.colors[i],
        width: 1.75,
        spanGaps: true,
        show: !ui.hidden.has(s.run_id),
        points: { size: 5, fill: p.colors[i] },
      })),
    ],
    legend: { show: false },
    cursor: {
      y: false,
      sync: { key: "curves", setSeries: false },
      hover: { skip: [null, undefined] },
      points: { size: 7 },
      drag: { x: true, y: false },
    },
    hooks: { setCursor: [(u) => showTip(u, p, m)], draw: [(u) => placeMarkers(u, p, m.data.x_axis)] },
  };
}

function showTip(u, p, m) {
  const { left, top, idx } = u.cursor;
  if (!p.hover || idx === null || idx === undefined || left < 0) {
    p.tip.hidden = true;
    return;
  }
  const rows = [];
  // run names (the legend has the version labels), with the label only where two runs share a name
  const counts = new Map(p.series.map((s) => [s.run_name, p.series.filter((t) => t.run_name === s.run_name).length]));
  const tipNames = p.series.map((s) => (counts.get(s.run_name) > 1 || !s.run_name ? runTitle(s) : s.run_name));
  const here = u.posToVal(left, "x");
  const slack = Math.abs(u.posToVal(left + 12, "x") - here); // 12 px: a curve's ends stay hoverable
  p.series.forEach((s, i) => {
    const at = u.cursor.idxs?.[i + 1];
    if (!u.series[i + 1].show || at === null || at === undefined || u.data[i + 1][at] === null) return;
    const first = s.points[0][0];
    const last = s.points[s.points.length - 1][0];
    if (here < first - slack || here > last + slack) return; // the cursor is past this run's curve
    const x = u.data[0][at];
    rows.push(
      h(
        "div",
        { class: "tip-row" },
        h("span", { class: "swatch", style: { background: p.colors[i] } }),
        `${tipNames[i]}: `,
        h("b", {}, fmt(u.data[i + 1][at])),
        ` @ ${m.data.x_axis === "timestamp" ? `${fmt(x)} s` : `step ${fmt(x)}`}`,
      ),
    );
  });
  if (!rows.length) {
    p.tip.hidden = true;
    return;
  }
  p.tip.replaceChildren(h("div", { class: "tip-head" }, p.key), ...rows);
  p.tip.hidden = false;
  const box = u.over.getBoundingClientRect();
  const wrap = p.section.querySelector(".plot-wrap").getBoundingClientRect();
  const x = box.left - wrap.left + left;
  const flip = x + 12 + p.tip.offsetWidth > wrap.width;
  p.tip.style.left = flip ? "" : `${x + 12}px`;
  p.tip.style.right = flip ? `${wrap.width - x + 12}px` : "";
  p.tip.style.top = `${Math.max(0, box.top - wrap.top + top - 20)}px`;
}

// The min and max of each shown curve (the downsampled points keep both), as marks over the plot.
function placeMarkers(u, p, xAxis) {
  u.over.querySelectorAll(".marker").forEach((node) => node.remove());
  const labelled = p.series.filter((s, i) => u.series[i + 1].show).length <= 3;
  const placed = []; // labels already drawn: a label that would overlap one is left out
  p.series.forEach((s, i) => {
    if (!u.series[i + 1].show || !s.points.length) return;
    for (const kind of ["min", "max"]) {
      const summary = s[kind];
      if (!summary || summary.value === undefined || summary.value === null) continue;
      // The point the summary names (downsampling keeps it): by its step, or on a time axis the
      // first point of that value.
      const pick =
        (xAxis === "step" && s.points.find(([x]) => x === summary.step)) ||
        s.points.reduce((best, pt) => ((kind === "min" ? pt[1] < best[1] : pt[1] > best[1]) ? pt : best));
      const left = u.valToPos(pick[0], "x");
      const top = u.valToPos(pick[1], "y");
      if (!(left >= 0 && left <= u.over.clientWidth && top >= 0 && top <= u.over.clientHeight)) continue;
      // A text label where it says something: not at the curve's ends (where a loss starts high or
      // ends low), and only for a few curves.
      const inside = summary.step !== s.first.step && summary.step !== s.last.step;
      const free = !placed.some((q) => Math.abs(q[0] - left) < 80 && Math.abs(q[1] - top) < 16);
      const text = labelled && inside && free;
      if (text) placed.push([left, top]);
      u.over.append(
        h(
          "div",
          {
            class: `marker ${kind}${left > u.over.clientWidth * 0.8 ? " flip" : ""}`,
            "data-kind": kind,
            "data-run": s.run_id,
            "data-step": summary.step,
            "data-x": pick[0],
            "data-y": pick[1],
            title: `${runTitle(s)} ${s.key} ${kind} ${fmt(summary.value)} at step ${summary.step}`,
            style: { left: `${left}px`, top: `${top}px`, borderColor: p.colors[i] },
          },
          text ? h("span", {}, `${kind} ${fmt(summary.value)}`) : null,
        ),
      );
    }
  });
}

// ---- the table --------------------------------------------------------------------------------

function summaryTable(m) {
  const at = (e) => (e && e.value !== undefined && e.value !== null ? `${fmt(e.value)} @ ${e.step}` : e ? `NaN/inf @ ${e.step}` : "–");
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { class: "summary" },
      h(
        "thead",
        {},
        h("tr", {}, ["run", "metric", "points", "first", "last", "min", "max"].map((t, i) => h("th", { class: i > 1 ? "num" : "" }, t))),
      ),
      h(
        "tbody",
        {},
        m.data.series.map((s) =>
          h(
            "tr",
            { "data-run": s.run_id, "data-key": s.key },
            h("td", {}, h("span", { class: "swatch", style: { background: m.colorOf(s) } }), runTitle(s)),
            h("td", {}, s.key),
            h("td", { class: "num" }, s.count + (s.nonfinite ? ` (${s.nonfinite} NaN/inf)` : "")),
            h("td", { class: "num" }, at(s.first)),
            h("td", { class: "num" }, at(s.last)),
            h("td", { class: "num" }, at(s.min)),
            h("td", { class: "num" }, at(s.max)),
          ),
        ),
      ),
    ),
  );
}

// ---- resizing, and what is drawn (read by the browser tests) -----------------------------------

new ResizeObserver(() => {
  for (const p of plots) {
    const width = p.section.querySelector(".plot").clientWidth;
    if (p.u && width && Math.abs(width - p.u.width) > 1) p.u.setSize({ width, height: CHART_HEIGHT });
  }
}).observe(app);

window.viewState = () => ({
  state: document.body.dataset.state,
  mode: document.body.dataset.mode,
  legend: [...document.querySelectorAll(".legend-entry")].map((b) => ({
    run: b.dataset.run,
    text: b.textContent,
    shown: b.getAttribute("aria-pressed") === "true",
  })),
  panels: plots.filter((p) => p.u).map((p) => ({
    key: p.key,
    log: p.u.scales.y.distr === 3,
    width: p.u.width,
    series: p.series.map((s, i) => ({
      run: s.run_id,
      label: p.u.series[i + 1].label,
      shown: p.u.series[i + 1].show,
      color: p.colors[i],
      points: p.u.data[i + 1].filter((v) => v !== null).length,
    })),
    markers: [...p.u.over.querySelectorAll(".marker")].map((node) => ({
      kind: node.dataset.kind,
      run: node.dataset.run,
      step: Number(node.dataset.step),
      x: Number(node.dataset.x),
      y: Number(node.dataset.y),
    })),
  })),
  rows: [...document.querySelectorAll("table.summary tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
  fallback: document.querySelector("[data-fallback]")?.dataset.fallback,
});
