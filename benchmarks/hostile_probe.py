"""Issue 17's probe: today's server on a hostile store, on hostile stdio input, and on basic-auth MLflow.

    .venv/bin/python -m benchmarks.hostile_probe [--workdir DIR] [--fresh] [--only tools,stall,stdio,auth]
                                                 [--json OUT]

Sections (markdown on stdout, progress on stderr, everything in the JSON):
- `tools`: every tool on the hostile runs (tests/support/hostile_world.py), called through a real
  `mcp.Client` on the server code in memory: sizes of text and structured content, seconds, errors,
  bare errors ("Error executing tool X" and nothing else), lines the server did not write (split at
  CR/LF, and at every separator `str.splitlines` knows), raw control and invisible characters in the
  text, and the process's RSS growth.
- `stall`: p50/p95 of cheap calls (`mlflow_list_experiments`, on a second client) idle and while
  `check_feature_alignment` runs on the 20,000-feature run.
- `stdio`: raw JSON-RPC lines to a spawned `mlflow-feast-mcp serve` (lone surrogate, a 5,000-digit
  integer, list params, 10,000 levels of nesting, a batch, a missing or wrong `jsonrpc`): which get a
  reply within 5 s, and whether the server still answers afterwards.
- `auth`: a real `mlflow server --app-name basic-auth` (tests/support/auth_server.py): MLflow's own REST
  answers for a reader with READ on one experiment and one model, without and with wrong credentials,
  and what our tools answer as that reader.

The store (MLflow server data, the world's ids, an applied Feast repo) is kept in --workdir (default
benchmarks/results/hostile) and reused; --fresh logs it anew (about a minute, see the world's seconds)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from support.hostile_world import (  # noqa: E402
    TEXT_EXPERIMENT,
    TEXT_MODEL,
    HostileWorld,
    foreign_lines,
    hostile_calls,
    invisibles,
    log_hostile_world,
    raw_controls,
)
from support.servers import MlflowServer  # noqa: E402

SECTIONS = ("tools", "stall", "stdio", "auth")
CALL_TIMEOUT = 300.0


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(samples: list[float]) -> dict[str, float | int]:
    if not samples:
        return {"n": 0}
    ms = sorted(s * 1000 for s in samples)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))], 1),
        "max_ms": round(ms[-1], 1),
    }


# ---------------------------------------------------------------------------------------------
# The store


def open_store(workdir: Path, fresh: bool) -> tuple[MlflowServer, HostileWorld, Path]:
    """The hostile world's MLflow server (restarted over the kept database, or logged anew) and an
    applied Feast repo (the project's feature_repo, generated data)."""
    saved = workdir / "world.json"
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    server = MlflowServer(workdir / "mlflow")
    log(f"starting mlflow server on port {server.port} ...")
    server.start()
    if saved.exists():
        world = HostileWorld(**{**json.loads(saved.read_text()), "uri": server.uri})
        world.versions = {k: (v[0], v[1]) for k, v in world.versions.items()}
        log("reusing the hostile world logged in " + str(saved))
    else:
        log("logging the hostile world (about a minute) ...")
        world = log_hostile_world(server.uri, workdir / "scratch")
        saved.write_text(json.dumps(asdict(world), indent=1))
        shutil.rmtree(workdir / "scratch", ignore_errors=True)  # the 50 MB source file
        log(f"logged in {world.seconds['total']} s: {world.seconds}")
    return server, world, feast_repo(workdir)


def feast_repo(workdir: Path) -> Path:
    from support.feast_world import apply, copy_repo

    repo = workdir / "feast_repo"
    if (repo / "data" / "registry.db").exists():
        return repo
    from mlflow_feast_mcp.demo.nba_data import generate

    shutil.rmtree(repo, ignore_errors=True)
    copy_repo(repo)
    generate(repo / "data")
    log("feast apply ...")
    apply(repo, repo / "data")
    return repo


def settings_for(world: HostileWorld, repo: Path) -> Any:
    from mlflow_feast_mcp.core.settings import Settings

    return Settings(
        tracking_uri=world.uri, feast_repo=repo, default_experiment=TEXT_EXPERIMENT, default_model=TEXT_MODEL
    )


def mcp_client(server: Any) -> Any:
    from mcp import Client

    try:
        return Client(server, cache=None, read_timeout_seconds=CALL_TIMEOUT)
    except TypeError:  # an SDK without the client-side cache
        return Client(server, read_timeout_seconds=CALL_TIMEOUT)


# ---------------------------------------------------------------------------------------------
# Every tool on the hostile runs


def call_plan(world: HostileWorld) -> list[tuple[str, str, dict[str, Any]]]:
    return hostile_calls(world)


def measure(tool: str, target: str, result: Any, seconds: float, rss_delta: float) -> dict[str, Any]:
    text = "\n".join(getattr(block, "text", "") for block in result.content or [])
    structured = result.structured_content
    bare = f"Error executing tool {tool}"
    fences = 1 if tool == "mlflow_read_artifact" and not result.is_error else 0
    return {
        "tool": tool,
        "target": target,
        "text_chars": len(text),
        "structured_chars": len(json.dumps(structured)) if structured is not None else 0,
        "seconds": round(seconds, 3),
        "is_error": bool(result.is_error),
        "bare_error": bool(result.is_error) and text.strip() == bare,
        "foreign_lines": len(foreign_lines(text, fences, "newline")),
        "foreign_lines_all": len(foreign_lines(text, fences, "all")),
        "raw_controls": raw_controls(text),
        "invisibles": invisibles(text),
        "rss_mb": round(rss_delta, 1),
        "text_head": text[:160],
    }


async def probe_tools(world: HostileWorld, repo: Path) -> dict[str, Any]:
    from mlflow_feast_mcp.server.app import build_server

    server = build_server(settings_for(world, repo))
    rows: list[dict[str, Any]] = []
    async with mcp_client(server) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        plan = call_plan(world)
        for tool, target, arguments in plan:
            if tool not in listed:
                rows.append({"tool": tool, "target": target, "missing": True})
                continue
            before, start = rss_mb(), time.perf_counter()
            try:
                result = await client.call_tool(tool, arguments)
            except Exception as exc:  # a protocol-level failure: record it, go on
                rows.append(
                    {"tool": tool, "target": target, "exception": f"{type(exc).__name__}: {exc}"[:300]}
                )
                continue
            row = measure(tool, target, result, time.perf_counter() - start, rss_mb() - before)
            rows.append(row)
            log(f"  {tool:32} {target[:40]:40} {row['text_chars']:>9} {row['seconds']:>7.2f}s")
    return {"rows": rows, "not_probed": sorted(listed - {t for t, _, _ in plan})}


def tools_table(section: dict[str, Any]) -> str:
    head = "| tool | target | text chars | structured chars | s | error | bare | foreign (CR/LF) | foreign (all seps) | ctl | inv | RSS+MB |"
    lines = [head, "|" + "---|" * 12]
    for r in section["rows"]:
        if "text_chars" not in r:
            lines.append(
                f"| {r['tool']} | {r['target']} | {r.get('exception') or 'tool missing'} |" + " |" * 9
            )
            continue
        lines.append(
            f"| {r['tool']} | {r['target']} | {r['text_chars']:,} | {r['structured_chars']:,} | {r['seconds']:.2f} "
            f"| {'yes' if r['is_error'] else ''} | {'BARE' if r['bare_error'] else ''} | {r['foreign_lines'] or ''} "
            f"| {r['foreign_lines_all'] or ''} | {r['raw_controls'] or ''} | {r['invisibles'] or ''} "
            f"| {r['rss_mb'] if r['rss_mb'] >= 1 else ''} |"
        )
    if section.get("not_probed"):
        lines.append(f"\nTools listed but not probed: {', '.join(section['not_probed'])}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The stall


# The heavy client: another process, as another user's client is (in this process, parsing and
# schema-checking its 30,000-character answers would block the measuring client's own event loop).
HEAVY_CLIENT = """
import asyncio, json, sys, time
from mcp import Client

async def main(url, args, seconds):
    times = []
    async with Client(url, cache=None, read_timeout_seconds=120) as client:  # every call reaches the server
        await client.call_tool("check_feature_alignment", args)  # warm: the run's artifacts cached
        print("ready", flush=True)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            await client.call_tool("check_feature_alignment", args)
            times.append(time.perf_counter() - start)
    print(json.dumps(times), flush=True)

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])))
"""


async def probe_stall(
    world: HostileWorld, repo: Path, samples: int = 20, window: float = 10.0
) -> dict[str, Any]:
    """Our server over streamable HTTP in a subprocess. Cheap calls on one client: `samples` idle,
    then one every 50 ms for `window` seconds while a second client, in its own process, runs
    `check_feature_alignment` on the 20,000-feature run back to back (one heavy call is too short to
    sample a p95 from): `mlflow_list_experiments` (one MLflow request: it also waits for MLflow's
    single worker, busy serving the heavy call's reads) and `feast_list_entities` (registry in memory:
    no I/O, so its latency is our server's)."""
    from support.servers import free_port, wait_http

    port = free_port()
    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONWARNINGS": "ignore"}
    env["MLFLOW_FEAST_MCP_DEFAULT_EXPERIMENT"] = TEXT_EXPERIMENT
    cmd = [str(exe), "serve", "--transport", "http", "--port", str(port), "--tracking-uri", world.uri,
           "--feast-repo", str(repo)]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    heavy_args = json.dumps({"run_or_model": world.runs["wide_features"]})
    out: dict[str, Any] = {
        "heavy": "check_feature_alignment(wide_features), back to back on another client process",
        "transport": "http",
        "window_s": window,
        "cheap": {},
    }
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=120, proc=proc)
        url = f"http://127.0.0.1:{port}/mcp"
        async with mcp_client(url) as cheap_client:
            for cheap_tool in ("mlflow_list_experiments", "feast_list_entities"):
                await cheap_client.call_tool(cheap_tool, {})  # warm: connections, the registry

                async def cheap(tool: str = cheap_tool) -> float:
                    start = time.perf_counter()
                    await cheap_client.call_tool(tool, {})
                    return time.perf_counter() - start

                idle = [await cheap() for _ in range(samples)]
                heavy = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", HEAVY_CLIENT, url, heavy_args, str(window + 0.5),
                    stdout=asyncio.subprocess.PIPE, env=env,
                )  # fmt: skip
                assert heavy.stdout is not None
                await asyncio.wait_for(heavy.stdout.readline(), 120)  # "ready": warmed up, looping
                await asyncio.sleep(0.2)
                during: list[float] = []
                end = time.perf_counter() + window
                while time.perf_counter() < end:
                    during.append(await cheap())
                    await asyncio.sleep(0.05)
                heavy_times = json.loads((await asyncio.wait_for(heavy.communicate(), 120))[0] or b"[]")
                out["cheap"][cheap_tool] = {
                    "idle": percentiles(idle),
                    "during": percentiles(during),
                    "heavy_calls": len(heavy_times),
                    "heavy_seconds": round(statistics.median(heavy_times), 2) if heavy_times else None,
                }
                log(f"  stall {cheap_tool}: {out['cheap'][cheap_tool]}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return out


def stall_table(s: dict[str, Any]) -> str:
    rows = [
        "| cheap call | when | n | p50 ms | p95 ms | max ms | heavy calls (median s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for tool, figures in s["cheap"].items():
        for label in ("idle", "during"):
            p = figures[label]
            heavy = (
                f"{figures.get('heavy_calls', 1)} ({figures['heavy_seconds']})" if label == "during" else ""
            )
            rows.append(
                f"| {tool} | {label} | {p['n']} | {p.get('p50_ms', '-')} | {p.get('p95_ms', '-')} "
                f"| {p.get('max_ms', '-')} | {heavy} |"
            )
    return "\n".join(rows) + f"\n\nheavy call {s['heavy']} over {s.get('transport', 'memory')}"


# ---------------------------------------------------------------------------------------------
# Raw stdio


def stdio_cases() -> list[tuple[str, str]]:
    """(label, one raw line); every request's id is its position + 100 (see probe_stdio)."""

    def call(i: int, arguments: str, tool: str = "mlflow_list_experiments") -> str:
        return f'{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}'

    deep = "[" * 10_000 + "]" * 10_000
    return [
        ("control: valid call", call(100, "{}")),
        ("lone surrogate \\ud800 in an argument", call(101, '{"name_contains":"\\ud800"}')),
        ("5,000-digit integer argument", call(102, '{"page_size":' + "9" * 5000 + "}")),
        (
            "params sent as a list",
            '{"jsonrpc":"2.0","id":103,"method":"tools/call","params":["mlflow_list_experiments",{}]}',
        ),
        ("10,000 levels of nesting", call(104, '{"name_contains":' + deep + "}")),
        (
            "batch of two requests",
            '[{"jsonrpc":"2.0","id":105,"method":"ping"},{"jsonrpc":"2.0","id":1105,"method":"ping"}]',
        ),
        ("missing jsonrpc", '{"id":106,"method":"ping"}'),
        ("jsonrpc 1.0", '{"jsonrpc":"1.0","id":107,"method":"ping"}'),
        ("truncated JSON", '{"jsonrpc":"2.0","id":108,"method":"ping"'),
        ("id of 5,000 digits", '{"jsonrpc":"2.0","id":' + "9" * 5000 + ',"method":"ping"}'),
        ("unknown method", '{"jsonrpc":"2.0","id":110,"method":"no/such"}'),
        ("control: ping", '{"jsonrpc":"2.0","id":111,"method":"ping"}'),
    ]


def probe_stdio(
    world: HostileWorld, repo: Path, timeout: float = 5.0, command: list[str] | None = None
) -> dict[str, Any]:
    """Write each case to a fresh line of a spawned server's stdin (`mlflow-feast-mcp serve`, or
    `command`), wait up to `timeout` for a reply, then check with a ping that the server still answers."""
    import selectors

    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONWARNINGS": "ignore"}
    cmd = command or [str(exe), "serve", "--tracking-uri", world.uri, "--feast-repo", str(repo)]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    assert proc.stdin and proc.stdout
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    buffer = b""

    def send(line: str) -> None:
        proc.stdin.write(line.encode("utf-8", "surrogatepass") + b"\n")
        proc.stdin.flush()

    def replies(wait: float) -> list[dict[str, Any] | str]:
        """Every line the server writes within `wait` seconds (stops at the first quiet 0.3 s after one)."""
        nonlocal buffer
        got: list[dict[str, Any] | str] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not selector.select(min(0.3 if got else 1.0, max(0.0, deadline - time.monotonic()))):
                if got:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 1 << 20)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    got.append(json.loads(line))
                except ValueError:
                    got.append(line.decode("utf-8", "replace")[:200])
        return got

    rows = []
    try:
        send(json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
        }))  # fmt: skip
        handshake = replies(60)
        send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
        for i, (label, line) in enumerate(stdio_cases()):
            start = time.monotonic()
            send(line)
            got = replies(timeout)
            ping_id = 1000 + i
            send(f'{{"jsonrpc":"2.0","id":{ping_id},"method":"ping"}}')
            alive = any(isinstance(g, dict) and g.get("id") == ping_id for g in replies(timeout))
            answers = [g for g in got if not (isinstance(g, dict) and g.get("id") == ping_id)]
            first = answers[0] if answers else None
            summary = (
                "no reply"
                if first is None
                else json.dumps(first.get("error") or {"result": str(first.get("result"))[:80]})[:200]
                if isinstance(first, dict)
                else str(first)[:200]
            )
            rows.append({
                "case": label,
                "replied": bool(answers),
                "seconds": round(time.monotonic() - start, 2) if answers else None,
                "reply": summary,
                "reply_id": first.get("id") if isinstance(first, dict) else None,
                "still_alive": alive,
            })  # fmt: skip
            log(f"  stdio {label:40} {'replied' if answers else 'NO REPLY'}; alive {alive}")
    finally:
        proc.kill()
        proc.wait(10)
    return {"handshake_ok": bool(handshake), "timeout_s": timeout, "rows": rows}


def stdio_table(s: dict[str, Any]) -> str:
    rows = ["| case | reply within 5 s | reply | server alive after |", "|---|---|---|---|"]
    for r in s["rows"]:
        reply = r["reply"].replace("|", "\\|")
        rows.append(
            f"| {r['case']} | {'yes' if r['replied'] else '**no**'} | {reply} | {'yes' if r['still_alive'] else 'NO'} |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------
# Basic auth


def auth_requests(world: Any, kind: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    e, r, m = (getattr(world, f"{kind}_{x}") for x in ("experiment", "run", "model"))
    return [
        ("experiments/get", "GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": e}),
        (
            "experiments/get-by-name",
            "GET",
            "/api/2.0/mlflow/experiments/get-by-name",
            {"experiment_name": f"auth_{kind}"},
        ),
        ("runs/get", "GET", "/api/2.0/mlflow/runs/get", {"run_id": r}),
        ("runs/search", "POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": [e]}),
        (
            "metrics/get-history",
            "GET",
            "/api/2.0/mlflow/metrics/get-history",
            {"run_ids": [r], "metric_keys": ["test_accuracy"]},
        ),
        ("artifacts/list", "GET", "/api/2.0/mlflow/artifacts/list", {"run_id": r}),
        (
            "mlflow-artifacts/artifacts",
            "GET",
            "/api/2.0/mlflow-artifacts/artifacts",
            {"path": f"{e}/{r}/artifacts"},
        ),
        ("registered-models/get", "GET", "/api/2.0/mlflow/registered-models/get", {"name": m}),
        ("model-versions/get", "GET", "/api/2.0/mlflow/model-versions/get", {"name": m, "version": "1"}),
        ("model-versions/search", "GET", "/api/2.0/mlflow/model-versions/search", {"filter": f"name='{m}'"}),
    ]


def auth_common() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        ("experiments/search", "POST", "/api/2.0/mlflow/experiments/search", {"max_results": 100}),
        ("registered-models/search", "GET", "/api/2.0/mlflow/registered-models/search", {"max_results": 100}),
        ("runs/get (no such run)", "GET", "/api/2.0/mlflow/runs/get", {"run_id": "0" * 32}),
        ("experiments/get (no such id)", "GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": "999"}),
        (
            "experiments/get-by-name (no such)",
            "GET",
            "/api/2.0/mlflow/experiments/get-by-name",
            {"experiment_name": "nope"},
        ),
        ("registered-models/get (no such)", "GET", "/api/2.0/mlflow/registered-models/get", {"name": "nope"}),
        ("users/current", "GET", "/api/2.0/mlflow/users/current", {}),
        ("health", "GET", "/health", {}),
        ("version", "GET", "/version", {}),
    ]


async def our_tools_as(server: Any, world: Any, user: str | None) -> list[dict[str, Any]]:
    """What our tools answer with `user`'s credentials in MLflow's variables (None: no credentials)."""
    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    saved = {k: os.environ.pop(k, None) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    if user:
        os.environ.update(server.env(user))
    try:
        settings = Settings(
            tracking_uri=server.uri, feast_repo=Path("/nonexistent"), default_experiment="auth_allowed",
            default_model="auth_allowed_model",
        )  # fmt: skip
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("mlflow_list_experiments", "-", {}),
            ("mlflow_list_registered_models", "-", {}),
        ]
        for kind in ("allowed", "forbidden"):
            run, model = getattr(world, f"{kind}_run"), getattr(world, f"{kind}_model")
            calls += [
                ("mlflow_search_runs", f"{kind} experiment", {"experiment": f"auth_{kind}"}),
                ("mlflow_get_run", f"{kind} run", {"run_id": run}),
                ("mlflow_get_registered_model", f"{kind} model", {"model_name": model}),
                ("mlflow_get_model_version", f"{kind} model v1", {"model_name": model, "version_ref": "1"}),
            ]
        calls.append(("mlflow_get_run", "no such run", {"run_id": "0" * 32}))
        rows = []
        async with mcp_client(build_server(settings)) as client:
            for tool, target, arguments in calls:
                result = await client.call_tool(tool, arguments)
                text = "\n".join(getattr(b, "text", "") for b in result.content or [])
                rows.append({"user": user or "none", "tool": tool, "target": target, "is_error": bool(result.is_error),
                             "text": text[:200]})  # fmt: skip
        return rows
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


async def probe_auth(workdir: Path) -> dict[str, Any]:
    from support.auth_server import ADMIN, READER, BasicAuthMlflowServer, log_auth_world

    root = workdir / "basic_auth"
    shutil.rmtree(root, ignore_errors=True)
    server = BasicAuthMlflowServer(root)
    log(f"starting mlflow server --app-name basic-auth on port {server.port} ...")
    started = time.monotonic()
    server.start()
    try:
        world = log_auth_world(server)
        log(f"basic-auth server up and logged in {time.monotonic() - started:.0f} s")
        rows = []
        who = {"reader": (READER, None), "no credentials": (None, None), "wrong password": (READER, "wrong")}
        for label, (user, password) in who.items():
            requests = [
                (kind, *req) for kind in ("allowed", "forbidden") for req in auth_requests(world, kind)
            ]
            if label == "reader":
                requests += [("-", *req) for req in auth_common()]
            with server.http(user, password) as http:
                for kind, name, method, path, params in requests:
                    resp = http.get(path, params=params) if method == "GET" else http.post(path, json=params)
                    rows.append({
                        "who": label, "resource": kind, "endpoint": name, "status": resp.status_code,
                        "content_type": resp.headers.get("content-type", ""),
                        "www_authenticate": resp.headers.get("www-authenticate"),
                        "body": resp.text[:300],
                    })  # fmt: skip
        with server.http(ADMIN) as admin:
            old = admin.post(
                "/api/2.0/mlflow/experiments/permissions/create",
                json={"experiment_id": world.allowed_experiment, "username": READER, "permission": "READ"},
            )
            perms = admin.get("/api/3.0/mlflow/users/permissions/list", params={"username": READER})
        tools = []
        for user in (ADMIN, READER, None):
            tools += await our_tools_as(server, world, user)
        return {
            "config": server.config_path.read_text().replace(server.users[ADMIN], "<random>"),
            "rest": rows,
            "legacy_permissions_create": {"status": old.status_code, "body": old.text[:200]},
            "reader_permissions": {"status": perms.status_code, "body": perms.text[:600]},
            "tools": tools,
        }
    finally:
        server.stop()


def auth_table(s: dict[str, Any]) -> str:
    rows = ["| who | resource | endpoint | status | body |", "|---|---|---|---|---|"]
    seen: dict[tuple[str, int, str], int] = {}
    for r in s["rest"]:
        body = " ".join(r["body"].split())[:90].replace("|", "\\|")
        if r["who"] != "reader":  # the same answer everywhere: one row per distinct answer
            key = (r["who"], r["status"], body)
            seen[key] = seen.get(key, 0) + 1
            continue
        rows.append(f"| {r['who']} | {r['resource']} | {r['endpoint']} | {r['status']} | {body} |")
    for (who, status, body), count in seen.items():
        rows.append(f"| {who} | all | all {count} endpoints above | {status} | {body} |")
    rows += ["", "| our tool as | tool | target | error | text |", "|---|---|---|---|---|"]
    for t in s["tools"]:
        text = " ".join(t["text"].split())[:110].replace("|", "\\|")
        rows.append(
            f"| {t['user']} | {t['tool']} | {t['target']} | {'yes' if t['is_error'] else ''} | {text} |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.hostile_probe", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "results" / "hostile")
    parser.add_argument("--fresh", action="store_true", help="log the hostile world anew")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="write every figure here (default WORKDIR/probe.json)")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    out: dict[str, Any] = {"load_average": list(os.getloadavg())}
    server = None
    try:
        if {"tools", "stall", "stdio"} & set(only):
            server, world, repo = open_store(args.workdir.resolve(), args.fresh)
            out["world_seconds"] = world.seconds
            out["mlflow_refused"] = world.refused
        if "tools" in only:
            log("tools ...")
            out["tools"] = asyncio.run(probe_tools(world, repo))
            print("## Every tool on the hostile store\n\n" + tools_table(out["tools"]) + "\n")
        if "stall" in only:
            log("stall ...")
            out["stall"] = asyncio.run(probe_stall(world, repo))
            print(
                "## A cheap call while check_feature_alignment runs on 20,000 features\n\n"
                + stall_table(out["stall"])
                + "\n"
            )
        if "stdio" in only:
            log("stdio ...")
            out["stdio"] = probe_stdio(world, repo)
            print("## Raw JSON-RPC lines over stdio\n\n" + stdio_table(out["stdio"]) + "\n")
    finally:
        if server is not None:
            server.stop()
    if "auth" in only:
        log("auth ...")
        out["auth"] = asyncio.run(probe_auth(args.workdir.resolve()))
        print(
            "## MLflow basic-auth: a reader with READ on one experiment and one model\n\n"
            + auth_table(out["auth"])
        )
    target = args.json or args.workdir / "probe.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=1, default=str))
    log(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
