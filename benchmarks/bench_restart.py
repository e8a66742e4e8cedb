"""Restart of a seeded demo: `mlflow-feast-mcp demo --once` over the benchmark's store, seeded
already (the reuse path a second `make demo` takes), N times on fresh ports. Per sample: seconds
from spawn to the answers printed (the demo's own clock, which starts at process start), to the
process exit (both servers stopped), and the demo's phases."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mlflow_feast_mcp.demo.processes import free_port

from .bench_common import log

PHASES_PREFIX = "phases: "


def restart_once(store: Any) -> dict[str, Any]:
    mlflow_port = free_port()
    mcp_port = free_port()
    while mcp_port == mlflow_port:
        mcp_port = free_port()
    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlflow_feast_mcp"]
    command += [
        "demo", "--once", "--dir", str(store.workdir),
        "--mlflow-port", str(mlflow_port), "--mcp-port", str(mcp_port),
    ]  # fmt: skip
    env = {k: v for k, v in store.env().items() if k not in ("MLFLOW_TRACKING_URI", "FEAST_REPO_PATH")}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    exit_s = time.perf_counter() - started
    line = next((x for x in done.stdout.splitlines() if x.startswith(PHASES_PREFIX)), None)
    if done.returncode != 0 or line is None:
        return {"error": f"exit {done.returncode}: {(done.stdout + done.stderr)[-600:]}"}
    phases = json.loads(line.removeprefix(PHASES_PREFIX))
    return {"ready_s": phases.pop("total"), "exit_s": round(exit_s, 2), "phases": phases}


def run(store: Any, n: int) -> dict[str, Any]:
    log(f"demo restart over the seeded store (x{n}) ...")
    samples = []
    for i in range(n):
        sample = restart_once(store)
        log(f"  restart {i + 1}/{n}: " + (sample.get("error") or f"ready {sample['ready_s']:.1f} s"))
        samples.append(sample)
    good = [s for s in samples if "error" not in s]
    if not good:
        return {"error": samples[0]["error"], "samples": samples}
    names = list(good[0]["phases"])
    return {
        "median": {
            "ready_s": round(statistics.median(s["ready_s"] for s in good), 2),
            "exit_s": round(statistics.median(s["exit_s"] for s in good), 2),
            "phases": {k: round(statistics.median(s["phases"].get(k, 0.0) for s in good), 2) for k in names},
        },
        "samples": samples,
    }
