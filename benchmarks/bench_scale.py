"""Scale (opt-in, `--scale 10000[,100000]`): runs benchmarks/scale_search.py (another module: it
seeds N runs with benchmarks/seed_scale.py into a SQLite store under /dev/shm, serves it with
`mlflow server` and our server over HTTP, pages through filtered searches and checks exact counts)
and keeps its table and the tool server's peak RSS."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .bench_common import log

HERE = Path(__file__).resolve().parent


def run(sizes: list[int], timeout: float = 3600) -> dict:
    script = HERE / "scale_search.py"
    if not script.exists():
        return {"skipped": "benchmarks/scale_search.py is not present"}
    out: dict = {}
    for n in sizes:
        shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")
        db = shm / f"bench-scale-{n}.db"
        cmd = [sys.executable, str(script), "--store", f"sqlite:///{db}", "--runs", str(n)]
        if not db.exists():
            cmd.append("--seed")
        log(f"scale {n:,} runs: {' '.join(cmd)} ...")
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            out[str(n)] = {"error": f"timed out after {timeout:.0f} s"}
            continue
        table = [
            line
            for line in done.stdout.splitlines()
            if line.startswith(("|", "runs=", "tool server", "exact", "MISMATCH"))
        ]
        peak = re.search(r"peak (\d+) MB", done.stdout)
        out[str(n)] = {
            "rc": done.returncode,
            "peak_rss_mb": float(peak.group(1)) if peak else None,
            "table": table,
            "stderr_tail": done.stderr[-500:] if done.returncode else "",
        }
        log("\n".join(table))
    return out
