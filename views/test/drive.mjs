// Drives one view in headless Chromium (Debian's, through playwright-core: no browser download):
// loads the test host page, lets it deliver a tool result to the view over MCP Apps, runs the
// steps asked, and prints what it saw as JSON. Read by tests/test_views.py.
//
//   node test/drive.mjs < spec.json
//   spec: {view, host_js, tool_name, tool_input, tool_result, theme, width, scale, steps: [...]}
//   steps: {do: "state"} | {do: "hover", panel, at} | {do: "click", selector} |
//          {do: "theme", theme} | {do: "pixels"} | {do: "dom"} | {do: "screenshot", path}
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const spec = JSON.parse(readFileSync(0, "utf8"));
const executablePath = process.env.MLFLOW_FEAST_MCP_CHROMIUM || "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const report = { log: [], requests: [], errors: [], steps: [] };
const browser = await chromium.launch({ executablePath, headless: true, args: FLAGS });
try {
  const page = await browser.newPage({
    viewport: { width: (spec.width || 760) + 20, height: 900 },
    deviceScaleFactor: spec.scale || 1,
  });
  page.on("request", (request) => report.requests.push(request.url()));
  page.on("pageerror", (error) => report.errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") report.errors.push(`${message.type()}: ${message.text()}`);
  });

  const hostPage = readFileSync(join(here, "host.html"), "utf8");
  const hostJs = readFileSync(spec.host_js, "utf8");
  await page.setContent(hostPage.replace("/*HOST*/", () => hostJs));
  await page.evaluate((args) => window.mcpHost.start(args), {
    html: readFileSync(spec.view, "utf8"),
    toolName: spec.tool_name,
    toolInput: spec.tool_input || {},
    toolResult: spec.tool_result,
    theme: spec.theme || "light",
    width: spec.width || 760,
  });
  const frame = page.frames().find((f) => f !== page.mainFrame());
  await frame.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 15000 });
  await settle(frame);

  for (const step of spec.steps || [{ do: "state" }]) {
    report.steps.push(await run(page, frame, step));
  }
  report.log = await page.evaluate(() => window.mcpHost.log);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report));

async function settle(frame) {
  await frame.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

async function run(page, frame, step) {
  switch (step.do) {
    case "state":
      return frame.evaluate(() => window.viewState());
    case "hover": {
      const box = await frame.locator(".panel .u-over").nth(step.panel || 0).boundingBox();
      await page.mouse.move(box.x + box.width * (step.at ?? 0.5), box.y + box.height * 0.5, { steps: 4 });
      await settle(frame);
      const tip = frame.locator(".tip:not([hidden])");
      return { tips: await tip.allTextContents() };
    }
    case "click":
      await frame.locator(step.selector).first().click();
      await frame.waitForFunction(() => document.body.dataset.state === "ready");
      await settle(frame);
      return frame.evaluate(() => window.viewState());
    case "theme":
      await page.evaluate((theme) => window.mcpHost.setTheme(theme), step.theme);
      await frame.waitForFunction((theme) => document.documentElement.dataset.theme === theme, step.theme);
      await settle(frame);
      return frame.evaluate(() => ({
        theme: document.documentElement.dataset.theme,
        background: getComputedStyle(document.body).backgroundColor,
        color: getComputedStyle(document.body).color,
        state: window.viewState(),
      }));
    case "dom":
      return frame.evaluate(() => ({
        title: document.title,
        images: document.querySelectorAll("img, iframe, object, embed").length,
        scripts: document.querySelectorAll("script").length,
        handlers: [...document.querySelectorAll("*")].filter((n) => [...n.attributes].some((a) => a.name.startsWith("on"))).length,
        text: document.body.innerText,
      }));
    case "pixels":
      return frame.evaluate(countPixels);
    case "screenshot": {
      // The whole view: the page as tall as the iframe (painting stops at the viewport's edge).
      const box = await page.locator("iframe").boundingBox();
      await page.setViewportSize({ width: page.viewportSize().width, height: Math.ceil(box.y + box.height) + 10 });
      await settle(frame);
      await page.locator("iframe").screenshot({ path: step.path });
      return { path: step.path };
    }
    default:
      throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}

// In the view: for each chart, how many canvas pixels are (near) each series' colour.
function countPixels() {
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  return window.viewState().panels.map((panel, p) => {
    const canvas = document.querySelectorAll(".panel canvas")[p];
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    return panel.series.map((s) => {
      const [r, g, b] = hex(s.color);
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60 && data[i + 3] > 200) count++;
      }
      return { run: s.run, shown: s.shown, pixels: count };
    });
  });
}
