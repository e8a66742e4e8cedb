"""Warm per-tool latency over stdio and streamable HTTP, next to the same read done with the raw
clients in the same run:

* REST replay: the exact MLflow REST requests the tool made on its first (cold-cache) call, recorded
  in process with an httpx hook and replayed sequentially with a plain ``httpx.Client``
  (the tools issue their requests sequentially too). This is "the same data, read raw".
* MlflowClient: the natural ``MlflowClient`` calls for the same data (for the MLflow tools).
* FeatureStore: the natural ``FeatureStore`` registry calls (for the Feast tools), store opened once.

Ratio = server p50 / raw p50 (REST replay for MLflow tools, FeatureStore for Feast tools)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .bench_common import http_server, log, mcp_client, peak_rss_mb, sizes, stats_ms, stdio_params, text_of

MODEL = "game_winner_model"
VIEW = "game_features"


@dataclass
class Case:
    tool: str
    args: dict[str, Any]
    kind: str  # mlflow | feast | both
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # recorded REST round trips
    warm_round_trips: int = 0  # on the second call (what the server's cache saves)
    size: dict[str, int] = field(default_factory=dict)


def cases(store) -> list[Case]:
    prod = store.version(stage="Production").run_id
    staging = store.version(stage="Staging").run_id
    return [
        Case("mlflow_list_experiments", {}, "mlflow"),
        Case("mlflow_describe_experiment", {}, "mlflow"),
        Case("mlflow_search_runs", {"page_size": 20}, "mlflow"),
        Case("mlflow_get_run", {"run_id": prod}, "mlflow"),
        Case("mlflow_get_run_features", {"run_id": prod}, "mlflow"),
        Case("mlflow_compare_runs", {"run_ids": [prod, staging]}, "mlflow"),
        Case("mlflow_get_metric_history", {"run_ids": [prod], "metric_keys": ["val_logloss"]}, "mlflow"),
        Case("mlflow_list_artifacts", {"run_id": prod}, "mlflow"),
        Case("mlflow_read_artifact", {"run_id": prod, "path": "training_artifacts/features.json"}, "mlflow"),
        Case("mlflow_list_registered_models", {}, "mlflow"),
        Case("mlflow_search_logged_models", {}, "mlflow"),
        Case("mlflow_get_registered_model", {"model_name": MODEL}, "mlflow"),
        Case("mlflow_get_model_version", {"version_ref": "Production"}, "mlflow"),
        Case("feast_list_projects", {}, "feast"),
        Case("feast_list_feature_views", {}, "feast"),
        Case("feast_describe_feature_view", {"name": VIEW}, "feast"),
        Case("feast_list_entities", {}, "feast"),
        Case("feast_list_data_sources", {}, "feast"),
        Case("feast_list_feature_services", {}, "feast"),
        Case("feast_get_feature_view_history", {"name": VIEW}, "feast"),
        Case("check_feature_alignment", {"run_or_model": f"{MODEL}/Production"}, "both"),
        Case("validate_training_run", {"run_id": prod}, "both"),
    ]


# ---------------------------------------------------------------------------------------------
# Round trips: record what each tool asks MLflow for, in process


async def record_round_trips(store, all_cases: list[Case]) -> None:
    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    settings = Settings(tracking_uri=store.mlflow_url, feast_repo=store.feast_repo)
    server = build_server(settings)
    backends = server.backends
    current: list[tuple[str, str, bytes]] = []

    async def hook(request: Any) -> None:
        current.append(
            (request.method, str(request.url), request.content if request.method != "GET" else b"")
        )

    async with mcp_client(server) as client:
        api = await backends.mlflow()
        api._http.event_hooks["request"].append(hook)
        await backends.feast()
        for case in all_cases:
            if hasattr(api, "cache"):  # every tool's first call from a cold cache
                api.cache.clear()
                api._terminal.clear()
            current.clear()
            result = await client.call_tool(case.tool, case.args)
            if result.is_error:
                raise RuntimeError(f"{case.tool}({case.args}) failed: {text_of(result)[:300]}")
            case.requests = list(current)
            case.size = sizes(result)
            current.clear()
            await client.call_tool(case.tool, case.args)
            case.warm_round_trips = len(current)


def replay(requests: list[tuple[str, str, bytes]], http: Any) -> None:
    for method, url, body in requests:
        headers = {"Content-Type": "application/json"} if body else None
        response = http.request(method, url, content=body or None, headers=headers)
        response.raise_for_status()


# ---------------------------------------------------------------------------------------------
# Raw clients: MlflowClient and FeatureStore, the natural calls for the same data


def mlflow_client_reads(store) -> dict[str, Callable[[], Any]]:
    import warnings

    warnings.filterwarnings("ignore")
    import tempfile

    from mlflow.tracking import MlflowClient

    c = MlflowClient(tracking_uri=store.mlflow_url, registry_uri=store.mlflow_url)
    prod = store.version(stage="Production").run_id
    staging = store.version(stage="Staging").run_id
    exp = c.get_experiment_by_name("nba_game_winner_prediction").experiment_id
    tmp = tempfile.mkdtemp(prefix="bench-artifacts-")

    def features(run_id: str):
        run = c.get_run(run_id)
        path = c.download_artifacts(run_id, "training_artifacts/features.json", tmp)
        return run, open(path).read()

    def get_model_version():
        model = c.get_registered_model(MODEL)
        version = c.get_latest_versions(MODEL, stages=["Production"])[0]
        return model, version, features(version.run_id)

    return {
        "mlflow_list_experiments": lambda: c.search_experiments(),
        "mlflow_describe_experiment": lambda: c.search_runs([exp], max_results=1000),
        "mlflow_search_logged_models": lambda: c.search_logged_models(experiment_ids=[exp]),
        "mlflow_search_runs": lambda: (
            c.get_experiment_by_name("nba_game_winner_prediction"),
            c.search_runs([exp], max_results=20, order_by=["attributes.start_time DESC"]),
        ),
        "mlflow_get_run": lambda: (
            c.get_run(prod),
            c.list_artifacts(prod),
            c.search_model_versions(f"run_id = '{prod}'"),
        ),
        "mlflow_get_run_features": lambda: features(prod),
        "mlflow_compare_runs": lambda: (features(prod), features(staging)),
        "mlflow_get_metric_history": lambda: (c.get_run(prod), c.get_metric_history(prod, "val_logloss")),
        "mlflow_list_artifacts": lambda: c.list_artifacts(prod),
        "mlflow_read_artifact": lambda: open(
            c.download_artifacts(prod, "training_artifacts/features.json", tmp)
        ).read(),
        "mlflow_list_registered_models": lambda: c.search_registered_models(),
        "mlflow_get_registered_model": lambda: (
            c.get_registered_model(MODEL),
            c.search_model_versions(f"name = '{MODEL}'"),
        ),
        "mlflow_get_model_version": get_model_version,
    }


def feature_store_reads(store) -> dict[str, Callable[[], Any]]:
    import warnings

    warnings.filterwarnings("ignore")
    from feast import FeatureStore

    fs = FeatureStore(repo_path=str(store.feast_repo))
    project = fs.project

    def history():
        registry = fs.registry
        return registry.list_feature_view_versions(VIEW, project)

    return {
        "feast_list_projects": lambda: fs.list_projects(),
        "feast_list_feature_views": lambda: fs.registry.list_all_feature_views(project, allow_cache=True),
        "feast_describe_feature_view": lambda: fs.registry.get_any_feature_view(
            VIEW, project, allow_cache=True
        ),
        "feast_list_entities": lambda: fs.list_entities(),
        "feast_list_data_sources": lambda: fs.list_data_sources(),
        "feast_list_feature_services": lambda: fs.list_feature_services(),
        "feast_get_feature_view_history": history,
    }


def time_sync(fn: Callable[[], Any], n: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


async def time_calls(client: Any, case: Case, n: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        await client.call_tool(case.tool, case.args)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        result = await client.call_tool(case.tool, case.args)
        out.append(time.perf_counter() - t)
        if result.is_error:
            raise RuntimeError(f"{case.tool} failed: {text_of(result)[:300]}")
    return out


async def run(store, n: int) -> dict:
    import httpx

    all_cases = cases(store)
    log("recording MLflow round trips per tool (in process, cold cache) ...")
    await record_round_trips(store, all_cases)

    rows: dict[str, dict[str, Any]] = {
        c.tool: {
            "args": c.args,
            "kind": c.kind,
            "round_trips": len(c.requests),
            "round_trips_warm": c.warm_round_trips,
            "response": c.size,
        }
        for c in all_cases
    }
    client_reads, store_reads = mlflow_client_reads(store), feature_store_reads(store)
    settle()
    log(f"raw reads (x{n}) ...")
    with httpx.Client(timeout=30) as http:  # sync, like a script would: steadier than an async client here
        for case in all_cases:
            if case.requests:
                samples = time_sync(lambda case=case: replay(case.requests, http), n)
                rows[case.tool]["rest_replay"] = stats_ms(samples)
    for tool, fn in client_reads.items():
        try:
            rows[tool]["mlflow_client"] = stats_ms(time_sync(fn, n))
        except Exception as exc:
            rows[tool]["mlflow_client"] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    for tool, fn in store_reads.items():
        try:
            rows[tool]["feature_store"] = stats_ms(time_sync(fn, n))
        except Exception as exc:
            rows[tool]["feature_store"] = {"error": f"{type(exc).__name__}: {exc}"[:200]}

    floor: dict[str, dict] = {}
    settle()
    log(f"warm tool calls over stdio (x{n}) ...")
    async with mcp_client(stdio_params(store), read_timeout_seconds=120) as client:
        floor["stdio"] = stats_ms(await time_pings(client, n))
        for case in all_cases:
            rows[case.tool]["stdio"] = stats_ms(await time_calls(client, case, n))
    log(f"warm tool calls over HTTP (x{n}) ...")
    with http_server(store) as (url, proc):
        async with mcp_client(url, read_timeout_seconds=120) as client:
            floor["http"] = stats_ms(await time_pings(client, n))
            for case in all_cases:
                rows[case.tool]["http"] = stats_ms(await time_calls(client, case, n))
        http_peak = peak_rss_mb(proc.pid)

    for row in rows.values():
        raw = row.get("rest_replay") if row["kind"] == "mlflow" else row.get("feature_store")
        if row["kind"] == "both":
            raw = row.get("rest_replay")
        if raw and raw.get("p50"):
            row["raw_p50"] = raw["p50"]
            row["ratio_stdio"] = round(row["stdio"]["p50"] / raw["p50"], 2)
            row["ratio_http"] = round(row["http"]["p50"] / raw["p50"], 2)
    return {"tools": rows, "ping_floor": floor, "http_server_peak_rss_mb": http_peak}


def settle() -> None:
    """Freeze this process's heap before timing. It has imported mlflow and feast (for the raw
    reads), and a full collection over them pauses it for 60-130 ms: that pause would land in
    whichever call, raw or through a server, happened to trigger it."""
    gc.collect()
    gc.freeze()


async def time_pings(client: Any, n: int) -> list[float]:
    """The transport's floor: an MCP request that touches no backend (ping where the protocol
    version has it, else prompts/list)."""
    try:
        await client.send_ping()
        request = client.send_ping
    except Exception:
        request = client.list_prompts
    for _ in range(3):
        await request()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await request()
        out.append(time.perf_counter() - t)
    return out
