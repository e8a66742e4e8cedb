// A minimal MCP Apps host for the browser tests, built on the official host side of the protocol
// (AppBridge from @modelcontextprotocol/ext-apps), so the views are checked against the reference
// implementation rather than against this project's reading of the spec. Like the real hosts, it
// renders the view's HTML in a sandboxed iframe (scripts only, an opaque origin), waits for the
// view's `ui/initialize` and `ui/notifications/initialized`, then sends the tool's arguments
// (`ui/notifications/tool-input`) and its CallToolResult (`ui/notifications/tool-result`), and
// resizes the iframe to the height the view reports (`ui/notifications/size-changed`).
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const log = [];
let context = {};

async function start({ html, toolName, toolInput, toolResult, theme, width }) {
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.style.cssText = `width:${width}px;height:200px;border:0;display:block`;
  document.getElementById("stage").append(iframe);

  context = {
    theme,
    displayMode: "inline",
    availableDisplayModes: ["inline"],
    containerDimensions: { width, maxHeight: 6000 },
    locale: "en-US",
    platform: "web",
    toolInfo: { tool: { name: toolName, inputSchema: { type: "object" } } },
  };
  const bridge = new AppBridge(
    null,
    { name: "mlflow-feast-mcp test host", version: "1.0.0" },
    { openLinks: {}, logging: {} },
    { hostContext: context },
  );
  const initialized = new Promise((resolve) => (bridge.oninitialized = resolve));
  bridge.onsizechange = ({ height }) => {
    log.push({ size: height });
    if (height) iframe.style.height = `${height}px`;
  };
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.srcdoc = html;
  await initialized;
  log.push({ initialized: bridge.getAppVersion(), capabilities: bridge.getAppCapabilities() });
  await bridge.sendToolInput({ arguments: toolInput });
  await bridge.sendToolResult(toolResult);
  log.push("result sent");
  window.hostBridge = bridge;
}

function setTheme(theme) {
  context = { ...context, theme };
  window.hostBridge.setHostContext(context);
}

window.mcpHost = { start, setTheme, log };
