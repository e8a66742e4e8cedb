// The comparison view of mlflow_compare_runs (runs, or model versions by their training runs),
// drawn from the structured result ({versions, runs, param_changes: {param: values},
// unchanged_params, metric_deltas: {metric: {values, deltas}}, metrics_same: {metric: value},
// feature_sources, feature_changes, importance_shifts}) against the first run, the
// baseline: each metric's change as a bar (relative to the baseline, the values beside it), the
// params that changed, the features added and removed, and the baseline's top features' importance
// per run. The answer does not say which direction of a metric is better, so neither do the colours:
// each run keeps its colour, the sign is in the label.

import { fmt, h, plainAnswer, runColor, setState, shortId, signed, startView } from "./common.js";

const app = document.getElementById("app");
let result = null;

startView({
  name: "mlflow-feast-mcp comparison",
  waiting: "Waiting for the comparison…",
  pending: (args) => `Comparing ${Array.isArray(args.run_ids) ? args.run_ids.join(" vs ") : "runs"}…`,
  draw: (received) => {
    result = received;
    render();
  },
});

function render() {
  const data = result.structuredContent;
  if (result.isError || !data || !Array.isArray(data.runs) || !data.runs.length) {
    app.replaceChildren(plainAnswer(result, "Run comparison"));
    setState("ready");
    return;
  }
  const { model, names, short } = namesOf(data);
  const title = `${model ? `${model}: ` : ""}${names[0]} (baseline) vs ${names.slice(1).join(", ")}`;
  const sections = [
    h("header", {}, h("h1", {}, title)),
    runCards(data, names),
    metricSection(data, names, short),
    paramSection(data, names),
    featureSection(data, names),
    importanceSection(data, names),
    data.truncated ? h("p", { class: "sub" }, "Cut to fit the response budget.") : null,
    h("p", { class: "sub sources" }, `feature records: ${(data.feature_sources || []).join("; ")}`),
  ];
  app.replaceChildren(...sections.filter(Boolean));
  setState("ready");
}

// Each run by its model version (when asked by version) and run name; the model's name once, in
// the title, when every version is of the same model ("m v2 (stage 'Production')").
function namesOf(data) {
  const versions = data.versions || [];
  const models = new Set(versions.map((v) => (v ? (/^(.*) v\d+(?: |$)/.exec(v)?.[1] ?? null) : null)));
  const model = models.size === 1 && versions.length === data.runs.length && !models.has(null) ? [...models][0] : null;
  const names = data.runs.map((run, i) => {
    const version = versions[i] ? (model ? versions[i].slice(model.length + 1) : versions[i]) : "";
    return (version ? `${version} · ` : "") + (run.run_name || shortId(run.run_id));
  });
  const short = data.runs.map((run, i) => {
    const number = /(?:^| )(v\d+)(?: |$)/.exec(versions[i] || "")?.[1];
    return (number ? `${number} · ` : "") + (run.run_name || shortId(run.run_id));
  });
  return { model, names, short };
}

function dot(i) {
  return h("span", { class: "swatch", style: { background: runColor(i) } });
}

function runCards(data, names) {
  return h(
    "div",
    { class: "runs" },
    data.runs.map((run, i) =>
      h(
        "div",
        { class: "run-card", "data-run": run.run_id, style: { borderTopColor: runColor(i) } },
        h("div", { class: "sub" }, i === 0 ? "baseline" : `#${i + 1}`),
        h("div", { class: "run-name" }, dot(i), names[i]),
        h(
          "div",
          { class: "sub mono" },
          [shortId(run.run_id), run.status, run.algorithm, run.model_version, run.feature_count !== undefined ? `${run.feature_count} features` : null]
            .filter(Boolean)
            .join(" · "),
        ),
      ),
    ),
  );
}

// ---- metrics: one row per metric that changed, a bar per run against the baseline -------------

function percent(rel) {
  const pct = rel * 100;
  return `${signed(Number(Math.abs(pct) >= 1 ? pct.toFixed(1) : pct.toPrecision(2)))}%`;
}

function relative(delta, base) {
  return delta === null || delta === undefined || !base ? null : delta / Math.abs(base);
}

function metricSection(data, names, short) {
  const deltas = Object.entries(data.metric_deltas || {}).map(([metric, d]) => ({ metric, ...d }));
  const changed = deltas.filter((d) => new Set(d.values.map(String)).size > 1);
  // the concise answer names the unchanged metrics once, in metrics_same
  const same = [
    ...deltas.filter((d) => !changed.includes(d)),
    ...Object.entries(data.metrics_same || {}).map(([metric, value]) => ({ metric, values: [value] })),
  ];
  const scale = Math.max(1e-12, ...changed.flatMap((d) => (d.deltas || []).map((x) => Math.abs(relative(x, d.values[0]) ?? 0))));
  const pair = data.runs.length === 2; // one row per metric, named by the metric
  const rows = changed.map((d) => {
    const bars = d.values.slice(1).map((_, j) => deltaRow(data, d, j + 1, scale, pair ? null : short[j + 1]));
    if (pair) return h("div", { class: "metric", "data-metric": d.metric }, bars);
    return h(
      "div",
      { class: "metric", "data-metric": d.metric },
      h("div", { class: "metric-name mono" }, d.metric, h("span", { class: "sub" }, ` baseline ${fmt(d.values[0])}`)),
      bars,
    );
  });
  return h(
    "section",
    { class: "metrics" },
    h(
      "h2",
      {},
      `Metrics changed (${changed.length})`,
      h("span", { class: "sub" }, ` bars: change relative to the baseline${pair ? `, ${names[0]}` : ""}`),
    ),
    rows.length ? rows : h("p", { class: "sub" }, "No metric differs."),
    same.length ? h("p", { class: "sub unchanged" }, `Same in every run: ${same.map((d) => `${d.metric} ${fmt(d.values[0])}`).join(", ")}`) : null,
  );
}

// One run's change of one metric: a bar from the middle (right: up, left: down) and the numbers.
function deltaRow(data, d, i, scale, runLabel) {
  const value = d.values[i];
  const delta = (d.deltas || [])[i - 1];
  const rel = relative(delta, d.values[0]);
  const width = rel === null ? 0 : Math.max(Math.abs(rel) / scale, rel === 0 ? 0 : 0.01) * 50;
  const now = value === null || value === undefined ? "not logged" : fmt(value);
  const change = delta === null || delta === undefined ? "" : ` (${signed(delta)}${rel === null ? "" : `, ${percent(rel)}`})`;
  const label = runLabel === null ? `${fmt(d.values[0])} → ${now}${change}` : `${now}${change}`;
  return h(
    "div",
    { class: "delta-row" },
    runLabel === null
      ? h("span", { class: "delta-run mono", title: d.metric }, d.metric)
      : h("span", { class: "delta-run", title: data.runs[i].run_id }, dot(i), runLabel),
    h(
      "span",
      { class: "track" },
      h("span", { class: "axis" }),
      rel === null
        ? null
        : h("span", {
            class: "delta-bar",
            "data-metric": d.metric,
            "data-run": data.runs[i].run_id,
            "data-relative": rel,
            style: { width: `${width}%`, background: runColor(i), ...(rel < 0 ? { right: "50%" } : { left: "50%" }) },
          }),
    ),
    h("span", { class: "delta-label" }, label),
  );
}

// ---- params -----------------------------------------------------------------------------------

function paramSection(data, names) {
  const changes = Object.entries(data.param_changes || {}).map(([param, values]) => ({ param, values }));
  const title = `Params changed (${changes.length}; ${data.unchanged_params} the same)`;
  if (!changes.length) return h("section", {}, h("h2", {}, title));
  return h(
    "section",
    { class: "params" },
    h("h2", {}, title),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", {}, "param"), names.map((name, i) => h("th", {}, dot(i), name)))),
        h(
          "tbody",
          {},
          changes.map((c) =>
            h(
              "tr",
              { class: "param-row", "data-param": c.param },
              h("td", { class: "mono" }, c.param),
              c.values.map((value, i) =>
                h(
                  "td",
                  { class: `mono${i > 0 && value !== c.values[0] ? " differs" : ""}` },
                  value === null || value === undefined ? h("span", { class: "sub" }, "not set") : value,
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

// ---- features and importances -------------------------------------------------------------------

function featureSection(data, names) {
  const diffs = data.feature_changes || [];
  return h(
    "section",
    { class: "features" },
    h("h2", {}, "Features against the baseline"),
    diffs.map((diff) => {
      const i = data.runs.findIndex((run) => run.run_id === diff.run_id);
      const added = diff.added || [];
      const removed = diff.removed || [];
      return h(
        "div",
        { class: "feature-diff", "data-run": diff.run_id },
        h("div", { class: "delta-run" }, dot(i), names[i] || shortId(diff.run_id), h("span", { class: "sub" }, ` +${added.length} −${removed.length}`)),
        added.length || removed.length
          ? h(
              "div",
              { class: "chips" },
              added.map((f) => h("span", { class: "chip feature-added", title: "added" }, `+ ${f}`)),
              removed.map((f) => h("span", { class: "chip feature-removed", title: "removed" }, `− ${f}`)),
            )
          : h("div", { class: "sub" }, "the same features"),
      );
    }),
  );
}

function importanceSection(data, names) {
  const shifts = Object.entries(data.importance_shifts || {});
  if (!shifts.length) return null;
  const top = Math.max(1e-12, ...shifts.flatMap(([, values]) => values.map((v) => Math.abs(v ?? 0))));
  const join = data.runs.length === 2 ? " → " : " · ";
  return h(
    "section",
    { class: "importances" },
    h("h2", {}, "Importance of the baseline's top features"),
    h("div", { class: "sub key" }, names.map((name, i) => h("span", {}, dot(i), name))),
    shifts.map(([feature, values]) =>
      h(
        "div",
        { class: "delta-row importance", "data-feature": feature },
        h("span", { class: "delta-run mono", title: feature }, feature),
        h(
          "span",
          { class: "imp-track", style: { height: `${values.length * 5 + 2}px` } },
          values.map((value, i) =>
            value === null || value === undefined
              ? null
              : h("span", {
                  class: "importance-bar",
                  "data-run": data.runs[i].run_id,
                  "data-value": value,
                  title: `${names[i]}: ${fmt(value)}`,
                  style: { width: `${(Math.abs(value) / top) * 100}%`, top: `${1 + i * 5}px`, background: runColor(i) },
                }),
          ),
        ),
        h("span", { class: "delta-label" }, values.map((v) => (v === null || v === undefined ? "–" : fmt(v))).join(join)),
      ),
    ),
  );
}

// ---- what is drawn (read by the browser tests) ------------------------------------------------

window.viewState = () => ({
  state: document.body.dataset.state,
  title: document.querySelector("h1")?.textContent,
  runs: [...document.querySelectorAll(".run-card")].map((n) => n.dataset.run),
  deltaBars: [...document.querySelectorAll(".delta-bar")].map((n) => ({
    metric: n.dataset.metric,
    run: n.dataset.run,
    relative: Number(n.dataset.relative),
    width: n.getBoundingClientRect().width,
  })),
  metrics: [...document.querySelectorAll(".metric")].map((n) => n.dataset.metric),
  params: [...document.querySelectorAll(".param-row")].map((n) => n.dataset.param),
  added: [...document.querySelectorAll(".feature-added")].map((n) => n.textContent.slice(2)),
  removed: [...document.querySelectorAll(".feature-removed")].map((n) => n.textContent.slice(2)),
  importanceBars: [...document.querySelectorAll(".importance-bar")].map((n) => ({
    feature: n.closest(".importance").dataset.feature,
    run: n.dataset.run,
    value: Number(n.dataset.value),
  })),
  fallback: document.querySelector("[data-fallback]")?.dataset.fallback,
});
