"""The MCP Apps views in a real headless Chromium: a tool's view fetched the way a host fetches it
(`_meta.ui.resourceUri`, then `resources/read`), its result from a real call, both handed to the
test host page (views/test/host.js, the official AppBridge) by views/test/drive.mjs through
playwright-core pointed at Debian's Chromium.

`.ci/run` installs Chromium and runs `npm ci` in views/, and sets MLFLOW_FEAST_MCP_VIEWS=1: then a
missing piece fails the tests. Without it, the browser tests skip only when Chromium is absent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VIEWS_DIR = ROOT / "views"
PACKAGE_VIEWS = ROOT / "src" / "mlflow_feast_mcp" / "resources" / "ui"
VIEWS_ENV = "MLFLOW_FEAST_MCP_VIEWS"
CHROMIUM_ENV = "MLFLOW_FEAST_MCP_CHROMIUM"
BUDGET = 150 * 1024


def required() -> bool:
    return os.environ.get(VIEWS_ENV) == "1"


def chromium() -> str | None:
    for candidate in (os.environ.get(CHROMIUM_ENV), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def missing_build_tools() -> list[str]:
    missing = [] if shutil.which("node") else ["node (Node.js 20+)"]
    for package in ("esbuild", "playwright-core", "uplot", "@modelcontextprotocol/ext-apps"):
        if not (VIEWS_DIR / "node_modules" / package / "package.json").is_file():
            missing.append(f"views/node_modules/{package} (run `npm ci` in views/)")
    return missing


def need_build_tools() -> None:
    """Fail (CI, or where Chromium is installed) or skip (elsewhere) without node and views' modules."""
    missing = missing_build_tools()
    if not missing:
        return
    if required() or chromium():
        pytest.fail(f"the views' build tools are missing: {'; '.join(missing)}", pytrace=False)
    pytest.skip(f"no Chromium and no views build tools ({'; '.join(missing)}); .ci/run installs them")


def need_browser() -> str:
    path = chromium()
    if path is None:
        if required():
            pytest.fail(f"{VIEWS_ENV}=1 but there is no Chromium (apt-get install chromium)", pytrace=False)
        pytest.skip(
            f"no Chromium at /usr/bin/chromium (Debian's chromium package; or set {CHROMIUM_ENV}): "
            f".ci/run installs it, and {VIEWS_ENV}=1 makes its absence a failure"
        )
    need_build_tools()
    return path


def build(out: Path, host: Path | None = None) -> None:
    args = ["node", str(VIEWS_DIR / "build.mjs"), "--out", str(out)]
    if host is not None:
        args += ["--host", str(host)]
    subprocess.run(args, cwd=VIEWS_DIR, check=True, capture_output=True, text=True, timeout=120)


@dataclass
class Delivery:
    """What a host holds after a tool call: the view's HTML and the result to hand it."""

    tool: str
    arguments: dict[str, Any]
    view: Path
    mime_type: str
    result: dict[str, Any]  # the CallToolResult as JSON, as it crossed the wire

    @property
    def data(self) -> dict[str, Any]:
        return self.result.get("structuredContent") or {}


async def deliver(client: Any, tool: str, folder: Path, **arguments: Any) -> Delivery:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    uri = tools[tool].meta["ui"]["resourceUri"]
    contents = (await client.read_resource(uri)).contents[0]
    view = folder / uri.rsplit("/", 1)[-1]
    view.write_text(contents.text, encoding="utf-8")
    result = await client.call_tool(tool, arguments)
    return Delivery(
        tool,
        arguments,
        view,
        contents.mime_type,
        result.model_dump(mode="json", by_alias=True, exclude_none=True),
    )


def show(
    delivery: Delivery,
    host_js: Path,
    steps: list[dict[str, Any]],
    *,
    theme: str = "light",
    width: int = 760,
    browser: str | None = None,
) -> dict[str, Any]:
    """Runs the steps in Chromium; returns {log, requests, errors, steps: [one result per step]}."""
    spec = {
        "view": str(delivery.view),
        "host_js": str(host_js),
        "tool_name": delivery.tool,
        "tool_input": delivery.arguments,
        "tool_result": delivery.result,
        "theme": theme,
        "width": width,
        "steps": steps,
    }
    env = {**os.environ, CHROMIUM_ENV: browser or chromium() or ""}
    done = subprocess.run(
        ["node", str(VIEWS_DIR / "test" / "drive.mjs")],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=VIEWS_DIR,
    )
    assert done.returncode == 0, f"drive.mjs failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)
