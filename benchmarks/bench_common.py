"""Shared pieces: the seeded store and its MLflow server, spawning our server (stdio / HTTP),
timing statistics and response sizes."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_feast_mcp.demo.processes import free_port, running

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
CHARS_PER_TOKEN = 4  # ~tokens = chars / 4 (stated in every table)
BUDGET = 20_000  # the server's default response budget, in characters


def log(line: str = "") -> None:
    print(line, file=sys.stderr, flush=True)


def stats_ms(samples: list[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds of samples in seconds."""
    if not samples:
        return {"n": 0}
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    digits = 3 if ms[0] < 1 else 2
    return {
        "n": len(ms),
        "p50": round(statistics.median(ms), digits),
        "p95": round(p95, digits),
        "mean": round(statistics.fmean(ms), digits),
    }


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content or [])


def structured_view(result: Any) -> str:
    """What a structured-reading client (Claude Code, VS Code) hands the model: the compact JSON of
    structuredContent (JSON.stringify), or the text when there is none."""
    if result.structured_content is None:
        return text_of(result)
    return json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))


def sizes(result: Any) -> dict[str, int]:
    """What a call costs: `chars` is the text content a text-reading client gives the model (~tokens =
    chars/4); `structured_chars` what a structured-reading client gives it; `wire` the whole JSON-RPC
    result (text content plus structuredContent)."""
    text = text_of(result)
    try:
        wire = len(json.dumps(result.model_dump(by_alias=True, exclude_none=True, mode="json")))
    except Exception:
        wire = len(text)
    return {
        "chars": len(text),
        "structured_chars": len(structured_view(result)),
        "tokens": -(-len(text) // CHARS_PER_TOKEN),
        "wire_chars": wire,
    }


def model_visible_definitions(tools: list[Any]) -> int:
    """Characters of tools/list a model reads: each tool's name, description and input schema."""
    return len(
        json.dumps(
            [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools],
            ensure_ascii=False,
            separators=(",", ":"),
        )
    )


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# ---------------------------------------------------------------------------------------------
# The demo store


@dataclass
class Store:
    workdir: Path
    mlflow_url: str
    feast_repo: Path
    report: Any  # seeder.SeedReport

    def run_id(self, role: str) -> str:
        return self.report.run(role).run_id

    def version(self, *, stage: str | None = None, alias: str | None = None) -> Any:
        return self.report.version_with(stage=stage, alias=alias)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_FEAST_MCP_")}
        env.update(
            MLFLOW_TRACKING_URI=self.mlflow_url,
            FEAST_REPO_PATH=str(self.feast_repo),
            PYTHONWARNINGS="ignore",
        )
        return env


@contextlib.contextmanager
def demo_store(workdir: Path, small: bool) -> Iterator[Store]:
    """Seed the NBA demo store in `workdir` (first time only), serve it with a real `mlflow server`
    for the duration of the benchmark."""
    from mlflow_feast_mcp.demo import seeder

    workdir = workdir.resolve()
    if seeder.load_report(workdir) is None:
        log(f"seeding the demo store in {workdir} (first run only, a few minutes) ...")
        seeder.reset_workdir(workdir)
        with seeder.running_mlflow_server(workdir) as url:
            seeder.seed(workdir, url, small=small, progress=lambda line: log("  " + line))
    report = seeder.load_report(workdir)
    log(f"starting mlflow server over {workdir / 'mlflow.db'} ...")
    with seeder.running_mlflow_server(workdir) as url:
        yield Store(workdir=workdir, mlflow_url=url, feast_repo=Path(report.feast_repo), report=report)


# ---------------------------------------------------------------------------------------------
# Our server


def server_command(*extra: str) -> list[str]:
    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlflow_feast_mcp"]
    return [*base, "serve", *extra]


def stdio_params(store: Store) -> Any:
    from mcp import StdioServerParameters

    cmd = server_command("--tracking-uri", store.mlflow_url, "--feast-repo", str(store.feast_repo))
    return StdioServerParameters(command=cmd[0], args=cmd[1:], env=store.env(), cwd=str(store.workdir))


def mcp_client(target: Any, **kwargs: Any) -> Any:
    """An MCP client with the client-side response cache off: every call reaches the server."""
    from mcp import Client

    return Client(target, cache=None, **kwargs)


@contextlib.contextmanager
def http_server(store: Store) -> Iterator[tuple[str, subprocess.Popen]]:
    """Our server on streamable HTTP in a subprocess; yields (url, process)."""
    port = free_port()
    cmd = server_command(
        "--transport", "http", "--port", str(port), "--tracking-uri", store.mlflow_url,
        "--feast-repo", str(store.feast_repo),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with running(cmd, ready_url=f"{url}/healthz", env=store.env(), cwd=store.workdir) as proc:
        yield f"{url}/mcp", proc


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None
