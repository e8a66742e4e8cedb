"""Metrics of an eval run, a terminal table and JSON.

Per run: accuracy (and pass^k when each case ran k trials: the share of cases whose every trial
passed), accuracy per category, tool calls per case, response tokens per call and per case (the
text content the model reads; see records.TOKEN_METHOD), tool-definition tokens (tools/list),
unexpected tool errors (an expected NOT_FOUND error is counted apart), budget overruns, latency
p50/p95 per call and per case (nearest-rank percentiles), and a per-tool breakdown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import mean
from typing import Any

from .records import TOKEN_METHOD, CaseResult, Transcript


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _r(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def _spread(values: list[int]) -> dict[str, Any]:
    return {
        "mean": _r(mean(values)) if values else 0,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values, default=0),
    }


def _by_category(results: list[CaseResult]) -> dict[str, dict[str, Any]]:
    categories: dict[str, dict[str, Any]] = {}
    for cat in sorted({r.category for r in results}):
        rs = [r for r in results if r.category == cat]
        ok = sum(r.passed for r in rs)
        categories[cat] = {
            "cases": len({r.case_id for r in rs}),
            "passed": ok,
            "trials": len(rs),
            "accuracy": _r(ok / len(rs), 4) if rs else 0.0,
        }
    return categories


def _by_tool(calls: list[Any]) -> dict[str, dict[str, Any]]:
    tools: dict[str, dict[str, Any]] = {}
    for name in sorted({c.tool for c in calls}):
        cs = [c for c in calls if c.tool == name]
        tokens = [c.response_tokens for c in cs]
        latencies = [c.latency_ms for c in cs]
        tools[name] = {
            "calls": len(cs),
            "errors": sum(c.is_error and not c.expected_error for c in cs),
            "expected_errors": sum(c.expected_error for c in cs),
            "tokens_mean": _r(mean(tokens)),
            "tokens_max": max(tokens),
            "latency_p50_ms": _r(percentile(latencies, 50)),
            "latency_p95_ms": _r(percentile(latencies, 95)),
        }
    return tools


def summarize(transcript: Transcript) -> dict[str, Any]:
    results = transcript.results
    calls = [c for r in results for c in r.calls]
    by_case: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_case[r.case_id].append(r)
    trials = max((len(v) for v in by_case.values()), default=0)
    per_case_tokens = [r.response_tokens for r in results]
    per_case_calls = [len(r.calls) for r in results]
    passed = sum(r.passed for r in results)
    summary: dict[str, Any] = {
        "mode": transcript.mode,
        "transport": transcript.transport,
        "cases": len(by_case),
        "trials_per_case": trials,
        "passed": passed,
        "failed": len(results) - passed,
        "accuracy": _r(passed / len(results), 4) if results else 0.0,
        "failures": [
            {"case": r.case_id, "trial": r.trial, "reason": r.reason, "answer": r.answer}
            for r in results
            if not r.passed
        ],
        "by_category": _by_category(results),
        "tool_calls": len(calls),
        "tool_calls_per_case": {
            "mean": _r(mean(per_case_calls), 2) if results else 0,
            "max": max(per_case_calls, default=0),
        },
        "response_tokens_per_call": _spread([c.response_tokens for c in calls]),
        "response_tokens_per_case": {**_spread(per_case_tokens), "total": sum(per_case_tokens)},
        "tool_definition_tokens": transcript.tool_definition_tokens,
        "token_method": TOKEN_METHOD,
        "errors": sum(c.is_error and not c.expected_error for c in calls),
        "expected_errors": sum(c.expected_error for c in calls),
        "harness_errors": sum(bool(r.harness_error) for r in results),
        "over_budget": [
            {"case": r.case_id, "trial": r.trial, "over": r.over_budget} for r in results if r.over_budget
        ],
        "latency_ms": {
            "call_p50": _r(percentile([c.latency_ms for c in calls], 50)),
            "call_p95": _r(percentile([c.latency_ms for c in calls], 95)),
            "case_p50": _r(percentile([r.duration_ms for r in results], 50)),
            "case_p95": _r(percentile([r.duration_ms for r in results], 95)),
        },
        "per_tool": _by_tool(calls),
    }
    if trials > 1:
        summary["pass_hat_k"] = {
            "k": trials,
            "value": _r(sum(all(r.passed for r in rs) for rs in by_case.values()) / len(by_case), 4),
        }
    llm_in = [r.llm_input_tokens for r in results if r.llm_input_tokens is not None]
    if llm_in:
        summary["llm_tokens"] = {
            "input_total": sum(llm_in),
            "output_total": sum(r.llm_output_tokens or 0 for r in results),
            "input_per_case": _r(mean(llm_in)),
        }
    return summary


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_table(summary: dict[str, Any]) -> str:
    s = summary
    out = [
        f"mode {s['mode']} over {s['transport']}: {s['passed']}/{s['passed'] + s['failed']} passed "
        f"(accuracy {s['accuracy']:.1%}) across {s['cases']} cases"
        + (f"; pass^{s['pass_hat_k']['k']} {s['pass_hat_k']['value']:.1%}" if "pass_hat_k" in s else ""),
        "",
        _table(
            ["category", "cases", "passed", "accuracy"],
            [[k, v["cases"], v["passed"], f"{v['accuracy']:.0%}"] for k, v in s["by_category"].items()],
        ),
        "",
        _table(
            ["metric", "value"],
            [
                ["tool calls", s["tool_calls"]],
                [
                    "tool calls per case (mean / max)",
                    f"{s['tool_calls_per_case']['mean']} / {s['tool_calls_per_case']['max']}",
                ],
                [
                    "response tokens per call (mean / p50 / p95 / max)",
                    "{mean} / {p50} / {p95} / {max}".format(**s["response_tokens_per_call"]),
                ],
                [
                    "response tokens per case (mean / p50 / p95 / max)",
                    "{mean} / {p50} / {p95} / {max}".format(**s["response_tokens_per_case"]),
                ],
                ["response tokens, all cases", s["response_tokens_per_case"]["total"]],
                ["tool-definition tokens (tools/list)", s["tool_definition_tokens"]],
                ["tool errors (unexpected / expected NOT_FOUND)", f"{s['errors']} / {s['expected_errors']}"],
                ["harness errors", s["harness_errors"]],
                ["cases over budget", len(s["over_budget"])],
                [
                    "latency per call p50 / p95 (ms)",
                    f"{s['latency_ms']['call_p50']} / {s['latency_ms']['call_p95']}",
                ],
                [
                    "latency per case p50 / p95 (ms)",
                    f"{s['latency_ms']['case_p50']} / {s['latency_ms']['case_p95']}",
                ],
            ]
            + (
                [
                    [
                        "LLM tokens in / out",
                        f"{s['llm_tokens']['input_total']} / {s['llm_tokens']['output_total']}",
                    ]
                ]
                if "llm_tokens" in s
                else []
            ),
        ),
        "",
        _table(
            ["tool", "calls", "errors", "exp.err", "tok mean", "tok max", "p50 ms", "p95 ms"],
            [
                [
                    name,
                    t["calls"],
                    t["errors"],
                    t["expected_errors"],
                    t["tokens_mean"],
                    t["tokens_max"],
                    t["latency_p50_ms"],
                    t["latency_p95_ms"],
                ]
                for name, t in s["per_tool"].items()
            ],
        ),
        f"tokens: {s['token_method']}",
    ]
    if s["failures"]:
        out += ["", "failures:"] + [
            f"  {f['case']} (trial {f['trial']}): {f['reason']}" for f in s["failures"]
        ]
    if s["over_budget"]:
        out += ["", "over budget:"] + [f"  {o['case']}: {', '.join(o['over'])}" for o in s["over_budget"]]
    return "\n".join(out)


def progress_line(n: int, total: int, result: CaseResult) -> str:
    mark = "PASS" if result.passed else "FAIL"
    trial = f" #{result.trial}" if result.trial else ""
    line = (
        f"[{n:>3}/{total}] {mark} {result.case_id}{trial}  {len(result.calls)} call(s), "
        f"{result.response_tokens} tok, {result.duration_ms:.0f} ms"
    )
    if not result.passed:
        line += f"  <- {result.reason}"
    return line
