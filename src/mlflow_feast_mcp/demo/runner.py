"""`mlflow-feast-mcp demo`: seed (or reuse) the NBA world, start a real MLflow server and the MCP
server on streamable HTTP, answer the seed's questions live through an MCP client, print how to
connect, and serve until Ctrl-C (or exit at once with --once)."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from . import seeder

PORT_SCAN = 50


# ---------------------------------------------------------------------------------------------
# Output


def _say(line: str = "") -> None:
    print(line, flush=True)


def _section(title: str) -> None:
    _say()
    _say(f"== {title} " + "=" * max(0, 76 - len(title)))


def _pick_port(wanted: int, what: str) -> int:
    if seeder.port_is_free(wanted):
        return wanted
    for port in range(wanted + 1, wanted + PORT_SCAN):
        if seeder.port_is_free(port):
            _say(f"! port {wanted} ({what}) is in use: using {port} instead (pass --{what}-port to choose)")
            return port
    raise SystemExit(
        f"mlflow-feast-mcp demo: port {wanted} ({what}) and the next {PORT_SCAN - 1} are in use; "
        f"pass --{what}-port with a free port"
    )


# ---------------------------------------------------------------------------------------------
# The MCP server, in process on a thread


class McpHttpThread:
    def __init__(self, tracking_uri: str, feast_repo: Path, port: int) -> None:
        import uvicorn

        from ..core.settings import Settings
        from ..server.app import build_server
        from ..server.http import http_app

        settings = Settings(tracking_uri=tracking_uri, feast_repo=feast_repo)
        app = http_app(build_server(settings), "127.0.0.1", port, None, [])
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # main thread owns them
        self.thread = threading.Thread(target=self.server.run, name="mcp-http", daemon=True)
        self.url = f"http://127.0.0.1:{port}/mcp"

    def start(self, timeout: float = 60.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the MCP HTTP server stopped during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the MCP HTTP server did not start within {timeout:.0f}s")
            time.sleep(0.1)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(3)
        if self.thread.is_alive():  # open streams (an Inspector, an agent): do not wait for them
            self.server.force_exit = True
            self.thread.join(3)


# ---------------------------------------------------------------------------------------------
# The seed's questions, answered through an MCP client


def _fmt_args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def _first_lines(result: Any, n: int = 4) -> str:
    text = "".join(getattr(c, "text", "") for c in result.content)
    return "\n".join(text.strip().splitlines()[:n])


def _num(value: Any) -> str:
    return f"{value}" if value is not None else "n/a"


class Asker:
    def __init__(self, client: Any, tools: set[str]) -> None:
        self.client, self.tools = client, tools
        self.errors = 0

    async def call(self, name: str, args: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
        _say(f"   -> {name}({_fmt_args(args)})")
        result = await self.client.call_tool(name, args)
        if result.is_error:
            self.errors += 1
            _say("   ! tool error: " + _first_lines(result, 6).replace("\n", "\n     "))
            return None, result
        return result.structured_content or {}, result

    @staticmethod
    def question(n: int, text: str) -> None:
        _say()
        _say(f"Q{n}. {text}")

    @staticmethod
    def answer(text: str) -> None:
        wrapped = textwrap.fill(text, width=100, initial_indent="   A: ", subsequent_indent="      ")
        _say(wrapped)


def _features_line(features: list[str], limit: int = 30) -> str:
    shown = ", ".join(features[:limit])
    return shown + (f", ... (+{len(features) - limit})" if len(features) > limit else "")


def _version_line(v: dict[str, Any]) -> str:
    ver, run = v.get("version", {}), v.get("run") or {}
    metrics = run.get("metrics", {})
    aliases = ver.get("aliases") or []
    return (
        f"v{ver.get('version')} (stage {ver.get('stage')}"
        + (f", aliases {', '.join('@' + a for a in aliases)}" if aliases else "")
        + f"): run {run.get('run_name')} - {run.get('algorithm')} {run.get('model_version')}, "
        f"{run.get('feature_count')} features, test_accuracy={_num(metrics.get('test_accuracy'))}"
    )


def _input_props(tool: Any) -> dict[str, Any]:
    schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None) or {}
    return schema.get("properties", {}) if isinstance(schema, dict) else {}


async def ask_questions(url: str) -> int:
    """Ask the seed's questions through `mcp.Client(url)`; returns the number of tool errors."""
    from mcp import Client

    async with Client(url) as client:
        listed = await client.list_tools()
        tool_objs = {t.name: t for t in listed.tools}
        ask = Asker(client, set(tool_objs))
        _say(f"connected to {url}: {len(tool_objs)} tools ({', '.join(sorted(tool_objs))})")

        ask.question(1, "Which features did the latest run use?")
        data, _ = await ask.call("mlflow_get_run_features", {"run_id": "latest"})
        if data is not None:
            ask.answer(
                f"run {data.get('run_name')} ({data.get('run_id', '')[:8]}) used {data.get('feature_count')} "
                f"features (from {data.get('source')}): {_features_line(data.get('features', []))}. "
                f"Top: {', '.join(data.get('top_features', [])[:5])}."
            )

        ask.question(2, "What was the last test_accuracy?")
        data, _ = await ask.call("mlflow_search_runs", {"page_size": 1})
        if data is not None and data.get("runs"):
            run = data["runs"][0]
            ask.answer(
                f"test_accuracy={_num(run.get('metrics', {}).get('test_accuracy'))} in the newest run "
                f"{run.get('run_name')} ({run.get('algorithm')} {run.get('model_version')}, "
                f"{run.get('status')}, started {run.get('start_time')})."
            )

        ask.question(3, "What is in Production?")
        prod, _ = await ask.call("mlflow_get_model_version", {"version_ref": "Production"})
        if prod is not None:
            res = prod.get("resolution", {})
            conflicts = res.get("conflicts") or []
            ask.answer(
                f"{res.get('model_name')} {_version_line(prod)}, resolved by {res.get('resolved_by')}."
                + (f" CONFLICT: {'; '.join(conflicts)}." if conflicts else " No alias/stage conflict.")
            )

        ask.question(4, "How does Staging differ from Production?")
        refs = [f"{seeder.MODEL_NAME}/Production", f"{seeder.MODEL_NAME}/Staging"]
        cmp, _ = await ask.call("mlflow_compare_runs", {"run_ids": refs})
        if cmp is not None:
            params = {
                c["param"]: c["values"]
                for c in cmp.get("param_changes", [])
                if c["param"] in ("algorithm", "model_version", "feature_count")
            }
            metric = next((m for m in cmp.get("metric_deltas", []) if m["metric"] == "test_accuracy"), None)
            diff = next(iter(cmp.get("feature_changes", [])), {})
            runs = cmp.get("runs", [])
            versions = cmp.get("versions") or ["Production", "Staging"]
            parts = [
                f"{versions[0]}: run {runs[0].get('run_name')}; {versions[1]}: run {runs[1].get('run_name')}.",
                "Changed: "
                + (", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in params.items()) or "no headline params")
                + ".",
            ]
            if metric:
                parts.append(
                    f"test_accuracy {metric['values'][0]} -> {metric['values'][1]} "
                    f"(delta {metric['delta_vs_first'][1]})."
                )
            parts.append(
                f"Features added in Staging: {', '.join(diff.get('added', [])) or 'none'}; "
                f"removed: {', '.join(diff.get('removed', [])) or 'none'}."
            )
            ask.answer(" ".join(parts))

        ask.question(5, "Which features does game_features define?")
        if "feast_describe_feature_view" in tool_objs:
            data, _ = await ask.call("feast_describe_feature_view", {"name": "game_features"})
            if data is not None:
                fields = data.get("fields", [])
                entities = ", ".join(e.get("join_key", e.get("name", "")) for e in data.get("entities", []))
                ask.answer(
                    f"game_features ({data.get('kind', 'feature view')}, keyed by {entities or 'n/a'}) "
                    f"defines {len(fields)} features: "
                    + ", ".join(f"{f.get('name')}:{f.get('dtype')}" for f in fields)
                    + "."
                )
        else:
            _say("   (skipped: this server has no feast_describe_feature_view tool yet)")

        ask.question(6, "Does feature_repo match the latest registered model?")
        if "check_feature_alignment" in tool_objs:
            props = _input_props(tool_objs["check_feature_alignment"])
            latest, _ = await ask.call("mlflow_get_model_version", {"version_ref": "latest"})
            args: dict[str, Any]
            if "version_ref" in props:
                args = {"version_ref": "latest"}
            elif "model_version" in props:
                args = {"model_version": "latest"}
            elif "run_id" in props and latest is not None:
                args = {"run_id": latest["version"]["run_id"]}
            else:
                args = {}
            data, result = await ask.call("check_feature_alignment", args)
            if data is not None:
                verdict = data.get("verdict") or data.get("summary")
                missing = data.get("missing") or data.get("missing_in_feast") or []
                if isinstance(missing, list) and missing and isinstance(missing[0], dict):
                    missing = [m.get("feature", m.get("name")) for m in missing]
                head = f"latest version: {_version_line(latest)}. " if latest else ""
                if verdict is not None:
                    ask.answer(
                        head
                        + f"verdict: {verdict}"
                        + (f"; missing in Feast: {', '.join(map(str, missing))}" if missing else "")
                        + "."
                    )
                else:
                    ask.answer(head + _first_lines(result, 3).replace("\n", " "))
        else:
            _say("   (skipped: this server has no check_feature_alignment tool yet)")
        return ask.errors


# ---------------------------------------------------------------------------------------------
# How to connect


def connect_instructions(mlflow_url: str, mcp_url: str, feast_repo: Path) -> str:
    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    command = str(exe) if exe.exists() else (shutil.which("mlflow-feast-mcp") or "mlflow-feast-mcp")
    env = {"MLFLOW_TRACKING_URI": mlflow_url, "FEAST_REPO_PATH": str(feast_repo)}
    mcp_json = {
        "mcpServers": {
            "mlflow-feast": {"command": command, "args": ["serve"], "env": env},
            "mlflow-feast-http": {"type": "http", "url": mcp_url},
        }
    }
    env_flags = " ".join(f"-e {k}={v}" for k, v in env.items())
    return "\n".join(
        [
            "mcp.json (Claude Desktop / Claude Code / Cursor / VS Code): stdio spawns its own server, "
            "http uses this one",
            json.dumps(mcp_json, indent=2),
            "",
            "MCP Inspector:",
            f"  CLI:  npx @modelcontextprotocol/inspector --cli {mcp_url} --transport http "
            "--method tools/list",
            f"  UI:   npx @modelcontextprotocol/inspector   (Transport: Streamable HTTP, URL: {mcp_url})",
            f"  stdio UI: npx @modelcontextprotocol/inspector {env_flags} {command} serve",
        ]
    )


# ---------------------------------------------------------------------------------------------
# The command


def run(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).expanduser().resolve()
    t0 = time.monotonic()
    _section(f"mlflow-feast-mcp demo in {workdir}")
    if args.reset:
        _say("--reset: deleting the seeded store")
        seeder.reset_workdir(workdir)
    elif seeder.load_report(workdir) is None:
        seeder.reset_workdir(workdir)  # no marker: an empty folder or an interrupted seed
    workdir.mkdir(parents=True, exist_ok=True)

    mlflow_port = _pick_port(args.mlflow_port, "mlflow")
    mcp_port = _pick_port(args.mcp_port, "mcp")
    if mcp_port == mlflow_port:
        mcp_port = _pick_port(mcp_port + 1, "mcp")
    mlflow_url = f"http://127.0.0.1:{mlflow_port}"
    mlflow_proc = None
    mcp_thread: McpHttpThread | None = None

    def _terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        _say(f"starting MLflow server on {mlflow_url} (log: {workdir / 'mlflow-server.log'}) ...")
        mlflow_proc = seeder.start_mlflow_server(workdir, mlflow_port)
        seeder.wait_for_http(f"{mlflow_url}/health", 180, mlflow_proc)
        _say(f"MLflow UI: {mlflow_url}")

        report = seeder.seed(workdir, mlflow_url, small=args.small, progress=_say)
        feast_repo = Path(report.feast_repo)

        mcp_thread = McpHttpThread(mlflow_url, feast_repo, mcp_port)
        mcp_thread.start()
        _say(f"MCP server (streamable HTTP): {mcp_thread.url}")

        _section("The seed's questions, answered live through an MCP client")
        import anyio

        errors = anyio.run(ask_questions, mcp_thread.url)

        _section("Connect your agent")
        _say(connect_instructions(mlflow_url, mcp_thread.url, feast_repo))
        _say()
        _say(f"ready in {time.monotonic() - t0:.0f}s: MLflow UI {mlflow_url} | MCP {mcp_thread.url}")
        if args.once:
            return 1 if errors else 0
        _say("serving until Ctrl-C ...")
        while True:
            time.sleep(1)
            if mlflow_proc.poll() is not None:
                _say(f"! the MLflow server exited (code {mlflow_proc.returncode}); stopping")
                return 1
            if not mcp_thread.thread.is_alive():
                _say("! the MCP server stopped; stopping")
                return 1
    except KeyboardInterrupt:
        _say("\nstopping ...")
        return 0
    finally:
        if mcp_thread is not None:
            mcp_thread.stop()
        seeder.stop_process(mlflow_proc, timeout=5)
        signal.signal(signal.SIGTERM, previous)
