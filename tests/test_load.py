"""Load, bounded in time: 50 concurrent MCP clients x 20 calls each across the tools against one
`serve --transport http` subprocess (zero errors, every answer equal to its reference, server memory
steady), and 1,000 sequential calls over stdio without memory growth. Latencies are printed (-s) and
written to load.txt in the test's tmp dir."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest

from support.mlflow_world import MODEL
from support.servers import free_port, running

pytestmark = pytest.mark.anyio

CLIENTS = 50
CALLS_PER_CLIENT = 20
STDIO_CALLS = 1_000
MB = 1024 * 1024


def feast_repo_for(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    if (Path(__file__).parent / "support" / "feast_world.py").exists():
        return request.getfixturevalue("feast_world").file_repo
    return None


def call_mix(world: Any, with_feast: bool) -> list[tuple[str, dict]]:
    runs = world.runs
    mix = [
        ("mlflow_list_experiments", {}),
        ("mlflow_search_runs", {"page_size": 5}),
        ("mlflow_get_run", {"run_id": runs["seed"]}),
        ("mlflow_get_run_features", {"run_id": runs["parts"]}),
        ("mlflow_get_model_version", {"version_ref": "champion"}),
        ("mlflow_list_registered_models", {}),
        ("mlflow_list_artifacts", {"run_id": runs["seed"], "depth": 1}),
        ("mlflow_get_registered_model", {"model_name": MODEL}),
    ]
    if with_feast:
        mix += [
            ("feast_list_feature_views", {}),
            ("feast_describe_feature_view", {"name": "game_features"}),
            ("feast_list_entities", {}),
            ("feast_list_data_sources", {}),
            ("feast_list_feature_services", {}),
            ("check_feature_alignment", {"run_or_model": runs["seed"]}),
        ]
    return mix


def env_for(world: Any, repo: Path | None, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_FEAST_MCP_")}
    return env | {"MLFLOW_TRACKING_URI": world.uri, "FEAST_REPO_PATH": str(repo or tmp_path / "no_repo")}


@pytest.fixture
def http_server(world, request, tmp_path) -> Iterator[tuple[psutil.Process, str, bool]]:
    repo = feast_repo_for(request, tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with running(
        [sys.executable, "-m", "mlflow_feast_mcp", "serve", "--transport", "http", "--port", str(port)],
        ready_url=url,
        log=tmp_path / "serve.log",
        env=env_for(world, repo, tmp_path),
    ) as proc:
        yield psutil.Process(proc.pid), url, repo is not None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def test_50_concurrent_http_clients(http_server, world, tmp_path):
    from mcp import Client

    server, url, with_feast = http_server
    mix = call_mix(world, with_feast)
    reference: dict[int, Any] = {}
    async with Client(url) as client:  # reference answers, and a warm server (backends loaded)
        for _ in range(2):
            for i, (tool, args) in enumerate(mix):
                result = await client.call_tool(tool, args)
                assert not result.is_error, f"{tool}: {result.content}"
                reference[i] = result.structured_content
    rss_before = server.memory_info().rss
    latencies: list[float] = []
    errors: list[str] = []
    wrong: list[str] = []

    async def one_client(n: int) -> None:
        async with Client(url) as client:
            for k in range(CALLS_PER_CLIENT):
                i = (n * 7 + k) % len(mix)
                tool, args = mix[i]
                start = time.perf_counter()
                try:
                    result = await client.call_tool(tool, args)
                except Exception as exc:  # a transport failure is an error too
                    errors.append(f"{tool}: {type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - start)
                if result.is_error:
                    errors.append(f"{tool}: {result.content[0].text[:200]}")
                elif result.structured_content != reference[i]:
                    wrong.append(tool)

    started = time.perf_counter()
    with anyio.fail_after(150):
        async with anyio.create_task_group() as group:
            for n in range(CLIENTS):
                group.start_soon(one_client, n)
    wall = time.perf_counter() - started
    rss_after = server.memory_info().rss
    p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
    report = (
        f"HTTP load: {CLIENTS} concurrent clients x {CALLS_PER_CLIENT} calls = {len(latencies)} answered in "
        f"{wall:.1f} s ({len(latencies) / wall:.0f} calls/s); errors {len(errors)}, wrong {len(wrong)}; "
        f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
        f"server RSS {rss_before / MB:.0f} MB -> {rss_after / MB:.0f} MB"
    )
    print("\n" + report)
    (tmp_path / "load.txt").write_text(report + "\n")
    assert not errors, errors[:5]
    assert not wrong, f"{len(wrong)} answers differ from the reference: {sorted(set(wrong))}"
    assert len(latencies) == CLIENTS * CALLS_PER_CLIENT
    assert rss_after - rss_before < 150 * MB, report


async def test_1000_sequential_stdio_calls_without_memory_growth(world, request, tmp_path):
    from mcp import Client, StdioServerParameters

    repo = feast_repo_for(request, tmp_path)
    mix = call_mix(world, repo is not None)
    cheap = [c for c in mix if c[0].startswith("feast_") or c[0] in ("mlflow_get_run", "mlflow_search_runs")]
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mlflow_feast_mcp", "serve"],
        env=env_for(world, repo, tmp_path),
    )
    me = psutil.Process()
    latencies: list[float] = []
    rss: dict[int, int] = {}
    with anyio.fail_after(240):
        async with Client(params) as client:
            server = next(
                p for p in me.children(recursive=True) if "mlflow_feast_mcp" in " ".join(p.cmdline())
            )
            for n in range(STDIO_CALLS):
                tool, args = cheap[n % len(cheap)]
                start = time.perf_counter()
                result = await client.call_tool(tool, args)
                latencies.append(time.perf_counter() - start)
                assert not result.is_error, f"call {n} {tool}: {result.content[0].text[:200]}"
                if n + 1 in (100, 550, STDIO_CALLS):
                    rss[n + 1] = server.memory_info().rss
    growth = rss[STDIO_CALLS] - rss[100]
    report = (
        f"stdio: {STDIO_CALLS} sequential calls, p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms; server RSS after 100/550/1000 calls: "
        + " / ".join(f"{v / MB:.0f} MB" for v in rss.values())
    )
    print("\n" + report)
    (tmp_path / "load.txt").write_text(report + "\n")
    assert growth < 40 * MB, report
