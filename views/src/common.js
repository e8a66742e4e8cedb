// What both views share: building DOM from stored strings (always as text, never as HTML), the
// host's theme and style variables, run colours, number formatting, and the fallbacks for results
// that are errors or carry no structured content, and the life cycle with the host.

import { connect } from "./bridge.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Light and dark variants of one palette (Tableau 10, lightened for dark backgrounds): run i has
// colour i in both views and in every panel.
const PALETTES = {
  light: ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"],
  dark: ["#5aa9e6", "#ffa04d", "#5fd35f", "#ff6b6b", "#b99ae0", "#c49c94", "#f7a8d8", "#bdbdbd", "#e0e05a", "#4fe0f0"],
};

export function runColor(index) {
  const palette = PALETTES[theme()];
  return palette[index % palette.length];
}

export function theme() {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

// The host context's theme and CSS variables (the spec's --color-*, --font-* names); without a
// host theme, the system's preference.
export function applyHostContext(context) {
  const root = document.documentElement;
  const prefersDark = window.matchMedia?.("(prefers-color-scheme: dark)").matches;
  const chosen = context.theme === "dark" || context.theme === "light" ? context.theme : prefersDark ? "dark" : "light";
  const changed = root.dataset.theme !== chosen;
  root.dataset.theme = chosen;
  root.style.colorScheme = chosen;
  for (const [name, value] of Object.entries(context.styles?.variables || {})) {
    if (name.startsWith("--") && typeof value === "string") root.style.setProperty(name, value);
  }
  return changed;
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function fmt(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(5)));
}

export function signed(value) {
  if (value === null || value === undefined) return "–";
  return (value > 0 ? "+" : value < 0 ? "−" : "±") + fmt(Math.abs(value));
}

export function textOf(result) {
  return (result.content || [])
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

// An error result, or one without structured content (a host that drops it): the text, as text.
export function plainAnswer(result, title) {
  return h(
    "section",
    { class: result.isError ? "answer error" : "answer", "data-fallback": result.isError ? "error" : "text" },
    h("h2", {}, result.isError ? `${title}: the tool answered with an error` : title),
    h("pre", {}, textOf(result) || "(no text)"),
  );
}

export function setState(state) {
  document.body.dataset.state = state;
}

export function shortId(id) {
  return String(id || "").slice(0, 8);
}

// A view's life cycle with the host: `waiting` until the call starts, `pending(args)` while it runs,
// then `draw(result)` on each result and again when the host's theme changes; a cancellation before
// any result, or a host that does not start the view, is said in words.
export function startView({ name, waiting, pending, draw }) {
  const app = document.getElementById("app");
  const say = (text) => app.replaceChildren(h("p", { class: "sub" }, text));
  let result = null;
  applyHostContext({});
  setState("waiting");
  say(waiting);
  connect({
    name,
    version: "1.0.0",
    onInput: (args) => {
      if (!result) say(pending(args));
    },
    onResult: (received) => {
      result = received;
      draw(result);
    },
    onCancelled: (reason) => {
      if (result) return;
      say(`Cancelled${reason ? `: ${reason}` : ""}.`);
      setState("cancelled");
    },
    onContext: (context) => {
      if (applyHostContext(context) && result) draw(result);
    },
  }).catch((error) => say(`This host did not start the view: ${error.message}`));
}
