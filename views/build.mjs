// Builds each view into one self-contained HTML file (scripts and styles inlined, nothing fetched at
// run time) in src/mlflow_feast_mcp/resources/ui/, the files the server serves as ui:// resources.
//
//   node build.mjs               write the views into the package
//   node build.mjs --out DIR     write them into DIR instead
//   node build.mjs --check       fail if the committed views differ from a fresh build
//   node build.mjs --host DIR    also bundle the test host (tests/, the official AppBridge) into DIR
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE_DIR = join(here, "..", "src", "mlflow_feast_mcp", "resources", "ui");
const BUDGET = 150 * 1024;
const VIEWS = {
  curves: { uses: ["uplot"] },
  comparison: { uses: [] },
};

function option(name) {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

function notice(pkg) {
  const meta = JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8"));
  const license = readFileSync(join(here, "node_modules", pkg, "LICENSE"), "utf8").trim();
  return `${meta.name} ${meta.version} (${meta.license})\n${license}`;
}

async function bundle(entry, loader) {
  const out = await esbuild.build({
    entryPoints: [join(here, "src", entry)],
    bundle: true,
    minify: true,
    write: false,
    format: loader === "js" ? "iife" : undefined,
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    legalComments: "none",
    logLevel: "warning",
  });
  return out.outputFiles[0].text.trim();
}

async function buildView(name, { uses }) {
  const [js, css] = await Promise.all([bundle(`${name}.js`, "js"), bundle(`${name}.css`, "css")]);
  if (/<\/(script|style)/i.test(js + css)) throw new Error(`${name}: the bundle would close its own tag`);
  const credits = [
    `Built by views/build.mjs from views/src (mlflow-feast-mcp). Do not edit: rebuild.`,
    ...uses.map(notice),
  ].join("\n\n");
  const template = readFileSync(join(here, "src", `${name}.html`), "utf8");
  return template
    .replace("</title>", () => `</title>\n<!--\n${credits.replaceAll("--", "- -")}\n-->`)
    .replace("/*CSS*/", () => css)
    .replace("/*JS*/", () => js);
}

async function buildHost(dir) {
  mkdirSync(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(here, "test", "host.js")],
    bundle: true,
    format: "iife",
    platform: "browser",
    outfile: join(dir, "host.js"),
    logLevel: "warning",
  });
}

const check = process.argv.includes("--check");
const out = option("--out") || PACKAGE_DIR;
let stale = [];
for (const [name, spec] of Object.entries(VIEWS)) {
  const html = await buildView(name, spec);
  const size = Buffer.byteLength(html);
  if (size > BUDGET) throw new Error(`${name}.html is ${size} bytes, over the ${BUDGET}-byte budget`);
  const target = join(out, `${name}.html`);
  if (check) {
    let committed = "";
    try {
      committed = readFileSync(target, "utf8");
    } catch {}
    if (committed !== html) stale.push(target);
  } else {
    mkdirSync(out, { recursive: true });
    writeFileSync(target, html);
  }
  console.log(`${name}.html ${(size / 1024).toFixed(1)} KB`);
}
const host = option("--host");
if (host) await buildHost(host);
if (stale.length) {
  console.error(`stale (run \`npm run build\` in views/): ${stale.join(", ")}`);
  process.exit(1);
}
