"""`python -m benchmarks [--quick] [--json OUT] [--only SECTIONS] [--no-peers]`: seeds (first time) and
serves the demo store, measures this server and its peers, prints a markdown table and writes JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from . import (
    bench_cold,
    bench_concurrency,
    bench_latency,
    bench_peers,
    bench_profile,
    bench_questions,
    bench_restart,
    bench_scale,
)
from .bench_common import BUDGET, CHARS_PER_TOKEN, RESULTS, demo_store, load_average, log, stdio_params

SECTIONS = ("profile", "cold", "restart", "latency", "questions", "concurrency", "peers", "scale")
TARGETS = {
    "structured_vs_text": 1.25,
    "initialize_s": 1.0,
    "first_mlflow_s": 1.5,
    "warm_ratio": 2.0,
    "tokens_vs_best_peer": 1 / 3,
    "budget_chars": BUDGET,
    "peak_mb_100k": 400,
    "restart_s": 15.0,
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="few repetitions (minutes, for a smoke run)")
    p.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="JSON output path")
    p.add_argument("--store", type=Path, default=RESULTS / "store", help="demo store folder (seeded once)")
    p.add_argument("--small-seed", action="store_true", help="seed with fewer estimators (faster)")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    p.add_argument("--no-peers", action="store_true", help="skip the peer MCP servers")
    p.add_argument("--markdown", type=Path, help="also write the tables to this markdown file")
    p.add_argument(
        "--scale",
        default="",
        help="opt-in: run counts for benchmarks/scale_search.py, e.g. 10000,100000 (minutes to hours)",
    )
    return p.parse_args(argv)


async def measure(store, args: argparse.Namespace, only: set[str]) -> dict[str, Any]:
    n_cold = 3 if args.quick else 5
    n_warm = 8 if args.quick else 40
    repeats = 2 if args.quick else 5
    levels = [1, 10, 50]
    per_client = 4 if args.quick else 20
    out: dict[str, Any] = {}
    if "profile" in only:
        out["profile"] = bench_profile.import_profile()
    if "cold" in only:
        out["cold"] = await bench_cold.run(store, n_cold)
    if "restart" in only:
        out["restart"] = bench_restart.run(store, 1 if args.quick else 3)
    if "latency" in only:
        out["latency"] = await bench_latency.run(store, n_warm)
    if "questions" in only:
        log("seed questions through this server (stdio) ...")
        out["questions"], out["definitions"] = await bench_questions.run_ours(
            store, stdio_params(store), repeats
        )
        bench_questions.log_answers("mlflow-feast-mcp", out["questions"])
    if "concurrency" in only:
        log(f"HTTP concurrency {levels} x {per_client} calls ...")
        out["concurrency"] = await bench_concurrency.run(store, levels, per_client)
    if "peers" in only and not args.no_peers:
        out["peers"] = await bench_peers.run(store, n_cold, repeats)
    if "scale" in only:
        out["scale"] = scale_results(args.scale)
    return out


def scale_results(sizes: str) -> dict[str, Any]:
    """The 10k/100k-run figures come from benchmarks/scale_search.py (opt-in: --scale)."""
    wanted = [int(x) for x in sizes.split(",") if x.strip()]
    if not wanted:
        return {"skipped": "not run (opt-in: --scale 10000,100000 runs benchmarks/scale_search.py)"}
    return bench_scale.run(wanted)


# ---------------------------------------------------------------------------------------------
# Tables


def _f(value: Any, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _ms(stat: dict | None) -> str:
    if not stat or "p50" not in stat:
        return "n/a" if not stat or "error" not in stat else "error"
    digits = 3 if stat["p50"] < 1 else 1
    return f"{stat['p50']:.{digits}f} / {stat['p95']:.{digits}f}"


def tables(data: dict[str, Any]) -> str:
    r = data["results"]
    lines: list[str] = []
    add = lines.append
    env = data["environment"]
    add(f"Measured {env['when']} on {env['cpus']} CPUs, load average before/after "
        f"{env['load_before']} / {env['load_after']}; mode {'quick' if env['quick'] else 'full'}. "
        f"~tokens = chars / {CHARS_PER_TOKEN}.")  # fmt: skip
    add("")
    peers = r.get("peers", {})
    if "cold" in r:
        add("### Cold start over stdio (median, seconds from spawn)")
        add("")
        add("| server | initialize answered | first MLflow answer | first Feast answer |")
        add("| --- | --- | --- | --- |")
        m = r["cold"]["median"]
        add(
            f"| mlflow-feast-mcp | {_f(m['initialize_s'])} | {_f(m['first_mlflow_s'])} | {_f(m['first_feast_s'])} |"
        )
        for name, label in (
            ("builtin", "MLflow built-in `mlflow mcp run`"),
            ("kkruglik", "kkruglik mlflow-mcp"),
        ):
            cold = peers.get(name, {}).get("cold")
            if cold:
                pm = cold["median"]
                add(
                    f"| {label} | {_f(pm['initialize_s'])} | {_f(pm['first_mlflow_s'])} | cannot answer (no Feast) |"
                )
        add("")
    if "restart" in r:
        lines.extend(_restart_table(r["restart"]))
    if "latency" in r:
        add("### Warm latency per tool, p50 / p95 ms (same run, same store)")
        add("")
        add(
            "Raw = the same data read directly: the tool's own MLflow REST requests replayed with httpx "
            "(MLflow tools), `FeatureStore` registry calls (Feast tools); `MlflowClient` doing the natural "
            "equivalent calls shown beside. Ratio = server p50 / raw p50."
        )
        add("")
        floor = r["latency"].get("ping_floor", {})
        add(
            "Transport floor (an MCP request touching no backend: prompts/list, p50 / p95 ms): "
            f"stdio {_ms(floor.get('stdio'))}, HTTP {_ms(floor.get('http'))}. "
            "MLflow round trips per call: warm (with the server's cache) / cold."
        )
        add("")
        add(
            "| tool | MLflow round trips | response chars (text / structured) | raw REST / FeatureStore | "
            "MlflowClient | stdio | HTTP | ratio stdio | ratio HTTP |"
        )
        add("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for tool, row in r["latency"]["tools"].items():
            raw = row.get("feature_store") if row["kind"] == "feast" else row.get("rest_replay")
            size = row["response"]
            shown = f"{size['chars']:,} / {size.get('structured_chars', size['chars']):,}"
            add(f"| `{tool}` | {row['round_trips_warm']}/{row['round_trips']} | {shown} | {_ms(raw)} | "
                f"{_ms(row.get('mlflow_client'))} | {_ms(row.get('stdio'))} | {_ms(row.get('http'))} | "
                f"{_f(row.get('ratio_stdio'))} | {_f(row.get('ratio_http'))} |")  # fmt: skip
        add("")
    if "questions" in r:
        add("### Seed questions: calls, what the model reads (text client / structured client) and latency")
        add("")
        add(
            "Text clients (Claude Desktop, Cursor) give the model the text content; structured clients "
            "(Claude Code, VS Code) give it `JSON.stringify(structuredContent)` (the text when there is none)."
        )
        add("")
        add(
            "| question | mlflow-feast-mcp | kkruglik mlflow-mcp | MLflow built-in | "
            "ours / best peer (text, structured) | our structured / our text |"
        )
        add("| --- | --- | --- | --- | --- | --- |")
        for qid, text in bench_questions.QUESTIONS.items():
            mine = r["questions"].get(qid, {})
            cells = [_answer_cell(mine)]
            for name in ("kkruglik", "builtin"):
                a = peers.get(name, {}).get("questions", {}).get(qid)
                cells.append(_answer_cell(a) if a else "not run")
            best = _best_peer(peers, qid)
            ratio = "no peer answers"
            if best and mine.get("answerable"):
                ratio = f"{mine['chars'] / best[0]:.2f}, {mine.get('structured_chars', 0) / best[1]:.2f}"
            own = f"{mine['structured_chars'] / mine['chars']:.2f}" if mine.get("chars") else "-"
            add(f"| {text} | " + " | ".join(cells) + f" | {ratio} | {own} |")
        add("")
        d = r.get("definitions")
        if d:
            add(
                f"- mlflow-feast-mcp: {d['tool_count']} tools, tools/list {d['tools_list_chars']:,} chars, of which "
                f"the model reads {d['model_visible_chars']:,} (names, descriptions, input schemas); longest "
                f"description {d['longest_description']} chars."
            )
        extra = r["questions"].get("q4_with_compare")
        if extra and extra.get("answerable"):
            add(
                f"- Staging vs Production with computed deltas (+ `mlflow_compare_runs`): {_answer_cell(extra)}."
            )
        for name, label in (("kkruglik", "kkruglik mlflow-mcp"), ("builtin", "MLflow built-in")):
            p = peers.get(name, {})
            if "tool_count" in p:
                visible = (
                    f", model-visible {p['model_visible_chars']:,}" if "model_visible_chars" in p else ""
                )
                add(
                    f"- {label}: {p['tool_count']} tools, tools/list {p['tools_list_chars']:,} chars{visible}."
                )
        if "peers" in r and "versions" in peers:
            add(
                f"- peers from `{peers['venv']}`: "
                + ", ".join(f"{k} {v}" for k, v in peers["versions"].items())
            )
        if "skipped" in peers:
            add(f"- peers skipped: {peers['skipped']}")
        add("")
    if "concurrency" in r:
        c = r["concurrency"]
        add(f"### HTTP concurrency (mix: {', '.join(c['mix'])}; {c['calls_per_client']} calls per client)")
        add("")
        add("| clients | calls/s | p50 ms | p95 ms | errors | server RSS MB |")
        add("| --- | --- | --- | --- | --- | --- |")
        for row in c["levels"].values():
            add(
                f"| {row['clients']} | {row['calls_per_s']} | {row['latency_ms'].get('p50')} | "
                f"{row['latency_ms'].get('p95')} | {row['errors']} | {row['server_rss_mb']} |"
            )
        add(f"\nServer peak RSS (VmHWM) over the run: {c.get('server_peak_rss_mb')} MB.")
        add("")
    if "profile" in r:
        p = r["profile"]
        add(
            f"### Start path imports (`python -X importtime`): {p['total_import_ms']:.0f} ms; "
            f"imports mlflow: {p['imports_mlflow']}, imports feast: {p['imports_feast']}"
        )
        add("")
        add(", ".join(f"{h['module']} {h['cumulative_ms']:.0f} ms" for h in p["heaviest"][:8]))
        add("")
    scale = r.get("scale", {})
    if scale and "skipped" not in scale:
        add("### Scale (benchmarks/scale_search.py: paging mlflow_search_runs through N runs, HTTP)")
        add("")
        for n, row in scale.items():
            add(f"{int(n):,} runs (exit {row.get('rc')}):")
            add("")
            add("\n".join(row.get("table", [])) or row.get("error", ""))
            add("")
    add("### Targets")
    add("")
    add("| target | measured | met |")
    add("| --- | --- | --- |")
    for row in data["targets"]:
        add(f"| {row['target']} | {row['measured']} | {row['met']} |")
    return "\n".join(lines)


def _restart_table(restart: dict[str, Any]) -> list[str]:
    out = ["### Demo restart with a reused seed (`demo --once` over the seeded store, median, seconds)", ""]
    if "median" not in restart:
        return [*out, f"error: {restart.get('error')}", ""]
    m = restart["median"]
    phases = m["phases"]
    out += [
        "| answers printed (from spawn) | process exit | " + " | ".join(phases) + " |",
        "| --- | --- | " + " | ".join("---" for _ in phases) + " |",
        f"| {_f(m['ready_s'], 1)} | {_f(m['exit_s'], 1)} | "
        + " | ".join(_f(v, 1) for v in phases.values())
        + " |",
        "",
        "MLflow and the MCP server start side by side; the phases overlap, so they do not add up.",
        "",
    ]
    return out


def _best_peer(peers: dict, qid: str) -> tuple[int, int] | None:
    """The best peer's (text chars, structured chars) among those whose answer holds the facts."""
    best: tuple[int, int] | None = None
    for name in ("kkruglik", "builtin"):
        a = peers.get(name, {}).get("questions", {}).get(qid)
        if a and a.get("answerable") and a.get("holds_expected_facts"):
            sizes = (a["chars"], a.get("structured_chars", a["chars"]))
            best = sizes if best is None else (min(best[0], sizes[0]), min(best[1], sizes[1]))
    return best


def _answer_cell(a: dict | None) -> str:
    if not a:
        return "n/a"
    if not a.get("answerable"):
        return f"cannot answer ({a.get('reason')})"
    flag = "" if a.get("holds_expected_facts") else " (facts missing)"
    if "structured_holds_expected_facts" in a and not a["structured_holds_expected_facts"]:
        flag += " (facts missing from structured)"
    structured = a.get("structured_chars", a["chars"])
    return f"{a['calls']} calls, {a['chars']:,} / {structured:,} ch, {a['latency_ms_p50']} ms{flag}"


def targets(r: dict[str, Any]) -> list[dict[str, str]]:
    out = []

    def row(target: str, measured: str, met: bool | None) -> None:
        out.append(
            {
                "target": target,
                "measured": measured,
                "met": "n/a" if met is None else ("yes" if met else "NO"),
            }
        )

    cold = r.get("cold", {}).get("median", {})
    if cold:
        row(
            "initialize < 1.0 s",
            f"{_f(cold.get('initialize_s'))} s",
            cold.get("initialize_s") is not None and cold["initialize_s"] < TARGETS["initialize_s"],
        )
        row(
            "first MLflow answer < 1.5 s from spawn",
            f"{_f(cold.get('first_mlflow_s'))} s",
            cold.get("first_mlflow_s") is not None and cold["first_mlflow_s"] < TARGETS["first_mlflow_s"],
        )
    restart = r.get("restart", {}).get("median", {})
    if restart:
        row(
            "demo restart with a reused seed < 15 s (to the answers)",
            f"{_f(restart.get('ready_s'), 1)} s",
            restart["ready_s"] < TARGETS["restart_s"],
        )
    lat = r.get("latency", {}).get("tools", {})
    if lat:
        floor = r["latency"].get("ping_floor", {})
        for transport in ("stdio", "http"):
            ratios = {
                t: row_[f"ratio_{transport}"]
                for t, row_ in lat.items()
                if row_.get(f"ratio_{transport}") and row_["kind"] != "feast"
            }
            over = sorted(t for t, v in ratios.items() if v >= TARGETS["warm_ratio"])
            worst = max(ratios.items(), key=lambda kv: kv[1]) if ratios else ("n/a", 0)
            row(
                f"warm p50 < 2x raw, MLflow tools ({transport})",
                f"{len(ratios) - len(over)}/{len(ratios)} under 2x; worst {worst[0]} {worst[1]}x"
                + (f"; over: {', '.join(over)}" if over else ""),
                not over if ratios else None,
            )
            base = (floor.get(transport) or {}).get("p50")
            feast = {t: row_[transport]["p50"] for t, row_ in lat.items() if row_["kind"] == "feast"}
            if feast and base is not None:
                above = max(v - base for v in feast.values())
                row(
                    f"warm p50 < 2x raw, Feast tools ({transport})",
                    f"raw FeatureStore reads are in-memory (µs), under any IPC round trip: not reachable by "
                    f"any MCP server; tools take at most {above:.1f} ms above the {base:.1f} ms transport floor",
                    False,
                )
    qs = r.get("questions", {})
    peers = r.get("peers", {})
    if qs:
        verdicts, met = [], True
        for qid, mine in qs.items():
            if qid not in bench_questions.QUESTIONS:
                continue
            best = _best_peer(peers, qid)
            own = mine.get("structured_chars", 0) / mine["chars"] if mine.get("chars") else 0.0
            structured_met = own <= TARGETS["structured_vs_text"]
            if best is None:
                verdicts.append(f"{qid.split('_')[0]}: no peer answers; structured/text {own:.2f}")
                met &= structured_met
                continue
            text_ratio, structured_ratio = mine["chars"] / best[0], mine.get("structured_chars", 0) / best[1]
            met &= max(text_ratio, structured_ratio) <= TARGETS["tokens_vs_best_peer"] and structured_met
            verdicts.append(
                f"{qid.split('_')[0]}: {text_ratio:.2f} text, {structured_ratio:.2f} structured, own {own:.2f}"
            )
        row(
            "per question, both client views <= 1/3 of best peer; structured <= 1.25x our text",
            "; ".join(verdicts),
            met if peers.get("kkruglik") else None,
        )
    sizes = [row_["response"]["chars"] for row_ in lat.values()] + [
        c for a in qs.values() if a.get("answerable") for c in [a.get("largest_response_chars", 0)]
    ]
    if sizes:
        row("no response over 20,000 chars", f"largest {max(sizes):,} chars", max(sizes) <= BUDGET)
    scale = r.get("scale", {})
    peak = None
    for value in scale.values() if isinstance(scale, dict) else []:
        if isinstance(value, dict):
            peak = value.get("peak_rss_mb") or peak
    row(
        "peak memory < 400 MB at 100,000 runs",
        f"{peak} MB" if peak else scale.get("skipped", "not measured"),
        (peak < TARGETS["peak_mb_100k"]) if peak else None,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    if unknown := only - set(SECTIONS):
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    env = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": load_average(),
        "quick": args.quick,
    }
    t0 = time.monotonic()
    with demo_store(args.store, small=args.small_seed) as store:
        results = anyio.run(measure, store, args, only)
    env["load_after"] = load_average()
    env["duration_s"] = round(time.monotonic() - t0, 1)
    data = {"environment": env, "results": results, "targets": targets(results)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=2, default=str))
    table = tables(data)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    log(f"\nJSON: {args.json}  ({env['duration_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
