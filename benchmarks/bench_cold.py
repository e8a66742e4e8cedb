"""Cold start over stdio: process spawn -> handshake answered -> first MLflow answer -> first Feast
answer, each from spawn, median over N fresh processes."""

from __future__ import annotations

import statistics
import time
from typing import Any

from .bench_common import log, mcp_client, stdio_params, text_of


async def cold_once(
    params: Any,
    mlflow_call: tuple[str, dict] | None,
    feast_call: tuple[str, dict] | None,
    mode: str = "auto",
) -> dict[str, float | None]:
    """One fresh process: seconds from spawn to each milestone (None: no such call or it failed)."""
    out: dict[str, float | None] = {"initialize_s": None, "first_mlflow_s": None, "first_feast_s": None}
    t0 = time.perf_counter()
    async with mcp_client(params, mode=mode, read_timeout_seconds=300) as client:
        out["initialize_s"] = time.perf_counter() - t0
        for key, call in (("first_mlflow_s", mlflow_call), ("first_feast_s", feast_call)):
            if call is None:
                continue
            result = await client.call_tool(*call)
            if result.is_error:
                log(f"  ! {call[0]} failed: {text_of(result)[:200]}")
                continue
            out[key] = time.perf_counter() - t0
    return out


def median_of(rows: list[dict[str, float | None]]) -> dict[str, float | None]:
    keys = rows[0].keys() if rows else []
    med: dict[str, float | None] = {}
    for key in keys:
        values = [r[key] for r in rows if r[key] is not None]
        med[key] = round(statistics.median(values), 3) if values else None
    return med


async def cold_start(params: Any, n: int, label: str, mlflow_call, feast_call, mode: str = "auto") -> dict:
    rows = []
    for i in range(n):
        row = await cold_once(params, mlflow_call, feast_call, mode)
        log(
            f"  cold {label} {i + 1}/{n}: "
            + ", ".join(f"{k}={v:.2f}" if v is not None else f"{k}=n/a" for k, v in row.items())
        )
        rows.append(row)
    return {
        "median": median_of(rows),
        "samples": [{k: v and round(v, 3) for k, v in r.items()} for r in rows],
    }


async def run(store, n: int) -> dict:
    log(f"cold start over stdio (x{n}) ...")
    return await cold_start(
        stdio_params(store),
        n,
        "mlflow-feast-mcp",
        ("mlflow_search_runs", {"page_size": 1}),
        ("feast_list_feature_views", {}),
    )
