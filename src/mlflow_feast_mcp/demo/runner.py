"""`mlflow-feast-mcp demo`: seed (or reuse) the NBA world, start a real MLflow server, Feast's UI
(`feast ui`) and the MCP server on streamable HTTP, answer the seed's questions live through an MCP client, print how to
connect, and serve until Ctrl-C (or exit after the answers with --once).

On a reused seed the MCP server starts (and Feast loads) while `mlflow server` boots, so a restart
costs about the MLflow server's start-up; the phases are printed with their times."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from . import predictions, processes, seeder
from .feast_ui import FeastUi, describe
from .questions import QUESTIONS

PORT_SCAN = 50


# ---------------------------------------------------------------------------------------------
# Output


def _say(line: str = "") -> None:
    print(line, flush=True)


def _section(title: str) -> None:
    _say()
    _say(f"== {title} " + "=" * max(0, 76 - len(title)))


def _pick_port(wanted: int, what: str, taken: Collection[int] = ()) -> int:
    if wanted not in taken and processes.port_is_free(wanted):
        return wanted
    for port in range(wanted + 1, wanted + PORT_SCAN):
        if port not in taken and processes.port_is_free(port):
            _say(f"! port {wanted} ({what}) is in use: using {port} instead (pass --{what}-port to choose)")
            return port
    raise SystemExit(
        f"mlflow-feast-mcp demo: port {wanted} ({what}) and the next {PORT_SCAN - 1} are in use; "
        f"pass --{what}-port with a free port"
    )


def _process_age() -> float | None:
    """Seconds since this process started (Linux /proc), to count the interpreter and CLI imports."""
    try:
        import os

        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


class Phases:
    """Start-up phases: when each began and ended, in seconds since the command started."""

    def __init__(self) -> None:
        age = _process_age()
        self.t0 = time.monotonic() - (age or 0.0)
        self.rows: list[tuple[str, float, float]] = []
        if age is not None:
            self.rows.append(("python start-up and CLI imports", 0.0, age))

    def now(self) -> float:
        return time.monotonic() - self.t0

    def done(self, name: str, began: float) -> float:
        end = self.now()
        self.rows.append((name, began, end))
        return end - began

    def table(self) -> str:
        lines = [
            f"  {name:<40} {end - began:5.1f} s   (+{began:.1f} .. +{end:.1f})"
            for name, began, end in self.rows
        ]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, float]:
        return {name: round(end - began, 2) for name, began, end in self.rows} | {
            "total": round(self.now(), 2)
        }


# ---------------------------------------------------------------------------------------------
# The MCP server, in process on a thread


class McpHttpThread:
    def __init__(
        self, tracking_uri: str, feast_repo: Path, port: int, predictions_uri: str | None = None
    ) -> None:
        import uvicorn

        from ..core.settings import Settings
        from ..server.app import build_server
        from ..server.http import http_app, uvicorn_config

        settings = Settings(tracking_uri=tracking_uri, feast_repo=feast_repo, predictions_uri=predictions_uri)
        app = http_app(build_server(settings), "127.0.0.1", port, None, [])
        config = uvicorn_config(app, "127.0.0.1", port)
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
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(3)
        if self.thread.is_alive():  # open streams (an Inspector, an agent): do not wait for them
            self.server.force_exit = True
            self.thread.join(3)


# ---------------------------------------------------------------------------------------------
# The seed's questions, answered through an MCP client


def _first_lines(result: Any, n: int = 4) -> str:
    text = "".join(getattr(c, "text", "") for c in result.content)
    return "\n".join(text.strip().splitlines()[:n])


def _answer(text: str) -> None:
    _say(textwrap.fill(text, width=100, initial_indent="   A: ", subsequent_indent="      "))


async def ask_questions(url: str) -> int:
    """Ask QUESTIONS through `mcp.Client(url)`, printing each call and answer; returns the number
    of tool errors."""
    from mcp import Client

    errors = 0
    async with Client(url) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        _say(f"connected to {url}: {len(tools)} tools ({', '.join(tools)})")
        for n, question in enumerate(QUESTIONS, start=1):
            _say()
            _say(f"Q{n}. {question.text}")
            started = time.monotonic()
            result = await client.call_tool(question.tool, question.arguments)
            _say(f"   -> {question.call_text()}  ({time.monotonic() - started:.2f} s)")
            if result.is_error:
                errors += 1
                _say("   ! tool error: " + _first_lines(result, 6).replace("\n", "\n     "))
                continue
            _answer(question.answer(result.structured_content or {}))
    return errors


# ---------------------------------------------------------------------------------------------
# How to connect


def console_script() -> str:
    """The absolute path of the `mlflow-feast-mcp` console script next to this interpreter."""
    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    return str(exe) if exe.exists() else (shutil.which("mlflow-feast-mcp") or "mlflow-feast-mcp")


def client_config(
    mlflow_url: str, mcp_url: str, feast_repo: Path, predictions_uri: str | None = None
) -> dict[str, Any]:
    """mcp.json for this demo: stdio (the client spawns its own server) and HTTP (this one)."""
    env = {"MLFLOW_TRACKING_URI": mlflow_url, "FEAST_REPO_PATH": str(feast_repo)}
    if predictions_uri:
        env["MLFLOW_FEAST_MCP_PREDICTIONS_URI"] = predictions_uri
    return {
        "mcpServers": {
            "mlflow-feast": {"command": console_script(), "args": ["serve"], "env": env},
            "mlflow-feast-http": {"type": "http", "url": mcp_url},
        }
    }


def connect_instructions(
    mlflow_url: str, mcp_url: str, feast_repo: Path, predictions_uri: str | None = None
) -> str:
    config = client_config(mlflow_url, mcp_url, feast_repo, predictions_uri)
    stdio = config["mcpServers"]["mlflow-feast"]
    command, env = stdio["command"], stdio["env"]
    env_flags = " ".join(f"-e {k}={v}" for k, v in env.items())
    return "\n".join(
        [
            'mcp.json (Claude Desktop, Cursor; VS Code: the same entries under "servers"): stdio spawns '
            "its own server, http uses this one",
            json.dumps(config, indent=2),
            "",
            "Claude Code:",
            f"  claude mcp add --transport http mlflow-feast-http {mcp_url}",
            "  claude mcp add "
            + " ".join(f"--env {k}={v}" for k, v in env.items())
            + f" mlflow-feast -- {command} serve",
            "",
            "MCP Inspector:",
            f"  CLI, HTTP:  npx -y @modelcontextprotocol/inspector --cli {mcp_url} --transport http "
            "--method tools/list",
            f"  CLI, stdio: npx -y @modelcontextprotocol/inspector --cli {env_flags} {command} serve "
            "--method tools/list",
            f"  UI:         npx -y @modelcontextprotocol/inspector   (Transport: Streamable HTTP, URL: {mcp_url})",
            "",
            f"Feast repo the demo applied (FEAST_REPO_PATH): {feast_repo}",
        ]
    )


# ---------------------------------------------------------------------------------------------
# The command


def _prepare_workdir(args: argparse.Namespace) -> Path:
    workdir = Path(args.dir).expanduser().resolve()
    if args.reset:
        _say("--reset: deleting the seeded store")
        seeder.reset_workdir(workdir)
    elif seeder.load_report(workdir) is None:
        seeder.reset_workdir(workdir)  # no marker: an empty folder or an interrupted seed
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _serve_until_interrupted(mlflow_proc: subprocess.Popen, mcp_thread: McpHttpThread) -> int:
    _say("serving until Ctrl-C ...")
    while True:
        time.sleep(1)
        if mlflow_proc.poll() is not None:
            _say(f"! the MLflow server exited (code {mlflow_proc.returncode}); stopping")
            return 1
        if not mcp_thread.thread.is_alive():
            _say("! the MCP server stopped; stopping")
            return 1


def _start(
    workdir: Path, args: argparse.Namespace, phases: Phases
) -> tuple[subprocess.Popen, McpHttpThread, str, Path]:
    """Start MLflow and the MCP server side by side on a reused seed; on a first run, seed while
    MLflow boots (the Feast steps need no MLflow), then start the MCP server."""
    mlflow_port = _pick_port(args.mlflow_port, "mlflow")
    mcp_port = _pick_port(args.mcp_port, "mcp", taken={mlflow_port})
    mlflow_url = f"http://127.0.0.1:{mlflow_port}"
    _say(f"starting MLflow server on {mlflow_url} (log: {workdir / 'mlflow-server.log'}) ...")
    began = phases.now()
    mlflow_proc = seeder.start_demo_mlflow(workdir, mlflow_port)
    up: list[float] = []

    def mlflow_ready() -> None:
        if not up:
            processes.wait_http(f"{mlflow_url}/health", 180, mlflow_proc)
            up.append(phases.done("MLflow server start (to /health)", began))
            _say(f"MLflow server: {mlflow_url}")

    reused = seeder.load_report(workdir)
    mcp_thread: McpHttpThread | None = None
    predictions_uri = predictions.predictions_uri(workdir)
    try:
        if reused is not None:
            mcp_thread = _start_mcp(mlflow_url, Path(reused.feast_repo), mcp_port, phases, predictions_uri)
            # the table is read while MLflow boots; predicting again (--predict) waits for it
            _predictions(workdir, mlflow_url, Path(reused.feast_repo), args.predict, phases, mlflow_ready)
            mlflow_ready()
        seeding = phases.now()
        report = seeder.seed(workdir, mlflow_url, small=args.small, progress=_say, mlflow_ready=mlflow_ready)
        phases.done("seed (reused)" if report.reused else "seed", seeding)
        mlflow_ready()
        if reused is None:
            _predictions(workdir, mlflow_url, Path(report.feast_repo), args.predict, phases, mlflow_ready)
        if mcp_thread is None:
            mcp_thread = _start_mcp(mlflow_url, Path(report.feast_repo), mcp_port, phases, predictions_uri)
    except BaseException:
        if mcp_thread is not None:
            mcp_thread.stop()
        processes.stop_process(mlflow_proc)
        raise
    return mlflow_proc, mcp_thread, mlflow_url, Path(report.feast_repo)


def _start_feast_ui(feast_repo: Path, workdir: Path, args: argparse.Namespace, *urls: str) -> FeastUi | None:
    """`feast ui` over the demo's repo on the next free port from --feast-ui-port (not awaited); the
    repo's Feast MLflow integration pointed at this MLflow (`urls[0]`) first."""
    if args.once or not getattr(args, "feast_ui", True):
        return None
    seeder.enable_feast_mlflow(feast_repo, urls[0])  # this MLflow (a reused seed may have had another port)
    taken = {int(u.rsplit(":", 1)[1].split("/")[0]) for u in urls}
    port = _pick_port(getattr(args, "feast_ui_port", 8080), "feast-ui", taken=taken)
    _say(f"starting the Feast UI (feast ui) on http://127.0.0.1:{port} (log: {workdir / 'feast-ui.log'}) ...")
    return FeastUi(feast_repo, port, workdir / "feast-ui.log")


def _feast_ui_ready(feast_ui: FeastUi | None, began: float, phases: Phases) -> str | None:
    """Wait for the Feast UI and say where it is; a UI that does not come up is reported, not fatal."""
    if feast_ui is None:
        return None
    try:
        projects = feast_ui.wait()
    except RuntimeError as exc:
        _say(f"! {exc}")
        return None
    phases.done("Feast UI start (to /health)", began)
    _say(describe(feast_ui.url, projects))
    return feast_ui.url


def _predictions(
    workdir: Path, mlflow_url: str, feast_repo: Path, again: bool, phases: Phases, mlflow_ready: Any
) -> None:
    began = phases.now()
    batch = predictions.demo_step(
        workdir, mlflow_url, feast_repo, again=again, progress=_say, mlflow_ready=mlflow_ready
    )
    phases.done("generate_game_predictions" if batch else "predictions (reused)", began)


def _start_mcp(
    mlflow_url: str, feast_repo: Path, port: int, phases: Phases, predictions_uri: str
) -> McpHttpThread:
    began = phases.now()
    thread = McpHttpThread(mlflow_url, feast_repo, port, predictions_uri)
    thread.start()
    phases.done("MCP server start (imports, HTTP up)", began)
    _say(f"MCP server (streamable HTTP): {thread.url}")
    return thread


def run(args: argparse.Namespace) -> int:
    phases = Phases()
    workdir = _prepare_workdir(args)
    _section(f"mlflow-feast-mcp demo in {workdir}")
    mlflow_proc: subprocess.Popen | None = None
    mcp_thread: McpHttpThread | None = None
    feast_ui: FeastUi | None = None

    def _terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        mlflow_proc, mcp_thread, mlflow_url, feast_repo = _start(workdir, args, phases)
        ui_began = phases.now()  # it boots while the questions run
        feast_ui = _start_feast_ui(feast_repo, workdir, args, mlflow_url, mcp_thread.url)
        _section("The seed's questions, answered live through an MCP client")
        import anyio

        began = phases.now()
        errors = anyio.run(ask_questions, mcp_thread.url)
        phases.done(f"{len(QUESTIONS)} questions through MCP", began)
        feast_ui_url = _feast_ui_ready(feast_ui, ui_began, phases)
        _section("Start-up phases")
        _say(phases.table())
        _say("phases: " + json.dumps(phases.as_dict()))
        if args.once:
            _say()
            _say(f"answered in {phases.now():.0f}s; --once: stopping MLflow and the MCP server and exiting")
            return 1 if errors else 0
        _section("Connect your agent")
        _say(
            connect_instructions(mlflow_url, mcp_thread.url, feast_repo, predictions.predictions_uri(workdir))
        )
        _say()
        feast_part = f" | Feast UI {feast_ui_url}" if feast_ui_url else ""
        _say(f"ready in {phases.now():.0f}s: MLflow UI {mlflow_url}{feast_part} | MCP {mcp_thread.url}")
        return _serve_until_interrupted(mlflow_proc, mcp_thread)
    except KeyboardInterrupt:
        _say("\nstopping ...")
        return 0
    finally:
        if feast_ui is not None:
            feast_ui.stop()
        if mcp_thread is not None:
            mcp_thread.stop()
        processes.stop_process(mlflow_proc)
        signal.signal(signal.SIGTERM, previous)
