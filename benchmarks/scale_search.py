"""Scale check: a store seeded by benchmarks/seed_scale.py (N runs), searched and paged through the
tools over MCP, with exact counts and the server's peak memory. Not a timed test: it prints figures.

    python benchmarks/scale_search.py --store sqlite:////dev/shm/scale.db --runs 10000 --seed
    python benchmarks/scale_search.py --store postgresql://postgres@127.0.0.1:5432/mlflow --runs 100000 --seed
    python benchmarks/scale_search.py --store throwaway-postgres --runs 100000 --seed   # own temp cluster

It starts `mlflow server` on the store (workers 1, served artifacts in a temp dir) and
`mlflow-feast-mcp serve --transport http --stateless` in front of it (REST backend; `--via client` points
the tool server at the store URI itself, MlflowClient backend), then for each query of
seed_scale.QUERIES follows `mlflow_search_runs` page tokens to the end and checks: the number of rows
equals the generator's count, no run id twice, start times strictly descending (the stable order). It
reports pages, seconds for the first page and for all, and the tool server's RSS before and its peak
(VmHWM) after paging through everything."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import seed_scale

from mlflow_feast_mcp.demo.processes import (
    free_port,
    start_mlflow_server,
    start_process,
    stop_process,
    wait_http,
)

BIN = Path(sys.executable).parent


def rss_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":")
            fields[key] = int(value.split()[0])
    return fields


async def page_through(url: str, experiment: str, filter_: str, page_size: int) -> dict:
    from mcp import Client

    rows: list[dict] = []
    pages, first_s = 0, None
    token: str | None = None
    t0 = time.perf_counter()
    async with Client(url) as client:
        while True:
            args: dict = {"experiment": experiment, "page_size": page_size}
            if filter_:
                args["filter"] = filter_
            if token:
                args["page_token"] = token
            result = await client.call_tool("mlflow_search_runs", args)
            if result.is_error:
                raise RuntimeError(f"page {pages}: {result.content[0].text}")
            data = result.structured_content or {}
            rows += data["runs"]
            pages += 1
            first_s = first_s if first_s is not None else time.perf_counter() - t0
            token = data.get("next_page_token")
            if not token:
                break
    return {"rows": rows, "pages": pages, "first_page_s": first_s, "all_s": time.perf_counter() - t0}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--store", required=True, help="the store URI seed_scale.py seeded (or will, with --seed)"
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", action="store_true", help="seed the store first (bulk mode)")
    parser.add_argument("--experiment", default=seed_scale.DEFAULT_EXPERIMENT)
    parser.add_argument("--page-size", type=int, default=200, help="mlflow_search_runs page_size (max 200)")
    parser.add_argument("--via", choices=["rest", "client"], default="rest")
    parser.add_argument(
        "--queries", default=",".join(reversed(seed_scale.QUERIES)), help="QUERIES keys, cheapest first"
    )
    return parser.parse_args(argv)


def serve_store(store: str, work: Path) -> tuple[subprocess.Popen, str]:
    """`mlflow server` on the store (workers 1, served artifacts in `work`); returns it and its URL."""
    port = free_port()
    proc = start_mlflow_server(port, store, log=work / "mlflow.log", artifacts_destination=work / "artifacts")
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health", timeout=300, proc=proc)
    return proc, url


def serve_tools(tracking: str, work: Path) -> tuple[subprocess.Popen, str]:
    """`mlflow-feast-mcp serve --transport http --stateless` over `tracking`; returns it and its URL."""
    port = free_port()
    command = [
        str(BIN / "mlflow-feast-mcp"), "serve", "--transport", "http", "--stateless", "--port", str(port),
        "--tracking-uri", tracking, "--feast-repo", str(work / "no_feast"),
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_FEAST_MCP_MLFLOW_TIMEOUT": "60"}
    proc = start_process(command, log=work / "mcp.log", env=env)
    wait_http(f"http://127.0.0.1:{port}/healthz", timeout=120, proc=proc)
    return proc, f"http://127.0.0.1:{port}/mcp"


def check_queries(args: argparse.Namespace, url: str) -> bool:
    """Page through every query; print a table row each; True when every count and order is exact."""
    print("| query | expected | rows | distinct | ordered | pages | first page s | all pages s | ms/page |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    for key in args.queries.split(","):
        filter_ = seed_scale.QUERIES[key][0]
        want = seed_scale.expected(args.runs, key)
        got = asyncio.run(page_through(url, args.experiment, filter_, args.page_size))
        ids = [r["run_id"] for r in got["rows"]]
        starts = [r["start_time"] for r in got["rows"]]
        names = [r["run_name"] for r in got["rows"]]
        ordered = names == sorted(names, reverse=True) and starts == sorted(starts, reverse=True)
        exact = len(ids) == want == len(set(ids))
        ok = ok and exact and ordered
        print(
            f"| {key} | {want:,} | {len(ids):,} | {len(set(ids)):,} | {ordered} | {got['pages']} "
            f"| {got['first_page_s']:.2f} | {got['all_s']:.1f} | {1000 * got['all_s'] / got['pages']:.0f} |",
            flush=True,
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on `kill`
    cluster = None
    if args.store == "throwaway-postgres":
        from support.postgres import PostgresCluster

        cluster = PostgresCluster(("mlflow",)).start()
        args.store = cluster.url("mlflow")
    work = Path(tempfile.mkdtemp(prefix="scale-search-"))
    procs: list[subprocess.Popen] = []
    try:
        if args.seed:
            print(
                seed_scale.seed(args.store, args.runs, args.experiment, 1, "mlflow-artifacts:/"), flush=True
            )
        tracking = args.store
        if args.via == "rest":
            mlflow, tracking = serve_store(args.store, work)
            procs.append(mlflow)
        server, url = serve_tools(tracking, work)
        procs.append(server)
        rss_start = rss_kb(server.pid)
        print(
            f"runs={args.runs:,} store={args.store.split('://')[0]} via={args.via} page_size={args.page_size}"
        )
        ok = check_queries(args, url)
        rss_end = rss_kb(server.pid)
        print(
            f"tool server RSS: {rss_start['VmRSS'] / 1024:.0f} MB after start, "
            f"{rss_end['VmRSS'] / 1024:.0f} MB at the end, peak {rss_end['VmHWM'] / 1024:.0f} MB"
        )
        print("exact: all counts, no duplicates, stable order" if ok else "MISMATCH: see the table")
        return 0 if ok else 1
    finally:
        for proc in reversed(procs):
            stop_process(proc)
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
