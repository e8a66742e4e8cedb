"""Where start-up time goes: `python -X importtime` over what `serve` imports before the handshake,
the heaviest modules by cumulative import time."""

from __future__ import annotations

import subprocess
import sys

from .bench_common import log

SERVE_IMPORTS = (
    "import mlflow_feast_mcp.cli, mlflow_feast_mcp.server.app; "
    "from mlflow_feast_mcp.server.app import build_server; from mlflow_feast_mcp.core.settings import Settings; "
    "build_server(Settings())"
)


def import_profile(top: int = 12) -> dict:
    log("import-time profile of the stdio start path (python -X importtime) ...")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", SERVE_IMPORTS], capture_output=True, text=True, timeout=120
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(cum_us), int(self_us), name.rstrip()))
    top_level = [r for r in rows if not r[2].startswith("  ")]
    total_ms = sum(r[0] for r in top_level) / 1000
    heavy = sorted(rows, key=lambda r: -r[0])[:top]
    heavy_mods = {r[2].strip() for r in rows}
    return {
        "total_import_ms": round(total_ms, 1),
        "heaviest": [{"module": n.strip(), "cumulative_ms": round(c / 1000, 1)} for c, _, n in heavy],
        "imports_mlflow": "mlflow" in heavy_mods,
        "imports_feast": "feast" in heavy_mods,
    }
