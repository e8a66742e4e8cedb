// The view's half of MCP Apps (SEP-1865, protocol 2026-01-26): JSON-RPC 2.0 over postMessage with
// the host window. The view asks `ui/initialize`, applies the host context it gets back (theme,
// style variables), says `ui/notifications/initialized`, then draws what the host sends:
// `ui/notifications/tool-input` (the arguments), `ui/notifications/tool-result` (the CallToolResult),
// `ui/notifications/tool-cancelled`, `ui/notifications/host-context-changed`. It reports its height
// with `ui/notifications/size-changed` and answers `ping` and `ui/resource-teardown`.
// The official App class (@modelcontextprotocol/ext-apps) does the same with zod and the MCP SDK
// bundled in, over 500 KB; these few messages are all a read-only view needs.

export const PROTOCOL_VERSION = "2026-01-26";

export function connect({ name, version, onInput, onResult, onCancelled, onContext }) {
  const host = window.parent;
  const pending = new Map();
  let nextId = 1;
  let context = {};

  const send = (message) => host.postMessage({ jsonrpc: "2.0", ...message }, "*");
  const notify = (method, params = {}) => send({ method, params });
  const request = (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      send({ id, method, params });
    });

  const changeContext = (update) => {
    context = { ...context, ...update };
    onContext?.(context);
  };
  const notifications = {
    "ui/notifications/tool-input": (params) => onInput?.(params.arguments || {}),
    "ui/notifications/tool-result": (params) => onResult?.(params),
    "ui/notifications/tool-cancelled": (params) => onCancelled?.(params.reason),
    "ui/notifications/host-context-changed": changeContext,
  };
  const requests = { ping: () => ({}), "ui/resource-teardown": () => ({}) };

  window.addEventListener("message", (event) => {
    const message = event.data;
    if (event.source !== host || !message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      if (message.error) waiting.reject(new Error(message.error.message));
      else waiting.resolve(message.result);
    } else if (message.id === undefined) {
      notifications[message.method]?.(message.params || {});
    } else if (requests[message.method]) {
      send({ id: message.id, result: requests[message.method](message.params || {}) });
    } else {
      send({ id: message.id, error: { code: -32601, message: `Method not found: ${message.method}` } });
    }
  });

  return request("ui/initialize", {
    appInfo: { name, version },
    appCapabilities: { availableDisplayModes: ["inline"] },
    protocolVersion: PROTOCOL_VERSION,
  }).then((result) => {
    changeContext(result?.hostContext || {});
    notify("ui/notifications/initialized");
    reportSize(notify);
    return result;
  });
}

// The height the document wants (not the iframe's current one), sent whenever it changes.
function reportSize(notify) {
  let last = "";
  let queued = false;
  const measure = () => {
    queued = false;
    const root = document.documentElement;
    const previous = root.style.height;
    root.style.height = "max-content";
    const height = Math.ceil(root.getBoundingClientRect().height);
    root.style.height = previous;
    const width = Math.ceil(window.innerWidth);
    if (`${width}x${height}` !== last) {
      last = `${width}x${height}`;
      notify("ui/notifications/size-changed", { width, height });
    }
  };
  const queue = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(measure);
    }
  };
  new ResizeObserver(queue).observe(document.body);
  queue();
}
