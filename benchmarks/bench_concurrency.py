"""Throughput over streamable HTTP with 1, 10 and 50 concurrent clients, each its own MCP session
(all opened before the clock starts) making a fixed number of calls from a mix of MLflow, registry
and Feast reads. The clients run in this process, on the same machine as the server and MLflow."""

from __future__ import annotations

import time

import anyio

from .bench_common import http_server, log, mcp_client, peak_rss_mb, rss_mb, stats_ms, text_of

MIX = [
    ("mlflow_search_runs", {"page_size": 5}),
    ("mlflow_get_model_version", {"version_ref": "Production"}),
    ("feast_list_feature_views", {}),
    ("mlflow_get_run_features", {"run_id": "latest"}),
]


async def _client(
    url: str, calls: int, offset: int, latencies: list[float], errors: list[str], ready, go
) -> None:
    async with mcp_client(url, read_timeout_seconds=120) as client:
        ready()
        await go.wait()  # sessions are opened first: the clock measures calls, not handshakes
        for i in range(calls):
            tool, args = MIX[(offset + i) % len(MIX)]
            t = time.perf_counter()
            try:
                result = await client.call_tool(tool, args)
                if result.is_error:
                    errors.append(f"{tool}: {text_of(result)[:240]}")
            except Exception as exc:
                errors.append(f"{tool}: {type(exc).__name__}")
            latencies.append(time.perf_counter() - t)


async def run(store, levels: list[int], calls_per_client: int) -> dict:
    out: dict = {"mix": [t for t, _ in MIX], "calls_per_client": calls_per_client, "levels": {}}
    with http_server(store) as (url, proc):
        async with mcp_client(url) as warm:  # backends loaded, caches warm
            for tool, args in MIX:
                await warm.call_tool(tool, args)
        for k in levels:
            latencies: list[float] = []
            errors: list[str] = []
            go = anyio.Event()
            connected = [0]
            t0 = 0.0

            def ready(k: int = k, connected: list = connected, go: anyio.Event = go) -> None:
                nonlocal t0
                connected[0] += 1
                if connected[0] == k:
                    t0 = time.perf_counter()
                    go.set()

            async with anyio.create_task_group() as tg:
                for i in range(k):
                    tg.start_soon(_client, url, calls_per_client, i, latencies, errors, ready, go)
            wall = time.perf_counter() - t0
            row = {
                "clients": k,
                "calls": len(latencies),
                "errors": len(errors),
                "error_samples": sorted(set(errors))[:3],
                "wall_s": round(wall, 2),
                "calls_per_s": round(len(latencies) / wall, 1),
                "latency_ms": stats_ms(latencies),
                "server_rss_mb": rss_mb(proc.pid),
            }
            out["levels"][str(k)] = row
            log(
                f"  {k:>3} clients: {row['calls_per_s']} calls/s, p50 {row['latency_ms'].get('p50')} ms, "
                f"p95 {row['latency_ms'].get('p95')} ms, errors {len(errors)}"
            )
        out["server_peak_rss_mb"] = peak_rss_mb(proc.pid)
    return out
