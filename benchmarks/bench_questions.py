"""The seed's questions, asked of this server and of the peer MCP servers over stdio on the same
store: which calls answer each, their total response size (chars of text content; ~tokens =
chars / 4), latency, and whether the answer holds the expected facts. A peer with no tool for a
question "cannot answer" it (registry stages/aliases, Feast)."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .bench_common import (
    BUDGET,
    CHARS_PER_TOKEN,
    log,
    mcp_client,
    model_visible_definitions,
    sizes,
    structured_view,
    text_of,
)

EXPERIMENT = "nba_game_winner_prediction"
MODEL = "game_winner_model"
VIEW = "game_features"

QUESTIONS = {
    "q1_latest_features": "Which features did the latest run use?",
    "q2_last_test_accuracy": "What was the last test_accuracy?",
    "q3_production": "What is in Production?",
    "q4_staging_vs_production": "How does Staging differ from Production?",
    "q5_game_features": "Which features does game_features define?",
    "q6_production_alignment": "Do the Production model's features match feature_repo?",
    "q7_loss_curves": "Train vs validation log loss of the newest runs that logged them (up to three)?",
}
CURVE_ROLES = ("champion", "production")  # the demo runs that log train_logloss / val_logloss, newest first
CURVE_KEYS = ("train_logloss", "val_logloss")


class CannotAnswer(Exception):
    """The server has no tool for this question."""


@dataclass
class Asked:
    calls: list[dict] = field(default_factory=list)
    text: str = ""
    structured: str = ""  # what a structured-reading client hands the model, over all calls
    errors: int = 0

    @property
    def chars(self) -> int:
        return sum(c["chars"] for c in self.calls)

    @property
    def structured_chars(self) -> int:
        return sum(c["structured_chars"] for c in self.calls)


Call = Callable[[str, dict], Awaitable[str]]


def _recorder(client: Any, asked: Asked) -> Call:
    async def call(tool: str, args: dict) -> str:
        result = await client.call_tool(tool, args)
        size = sizes(result)
        text = text_of(result)
        asked.calls.append({"tool": tool, "args": args, **size, "error": bool(result.is_error)})
        asked.errors += bool(result.is_error)
        asked.text += "\n" + text
        asked.structured += "\n" + structured_view(result)
        return text

    return call


# ---------------------------------------------------------------------------------------------
# Expected facts (from the seed report and the Feast repo): an answer "holds" when all are present


def expected_facts(store) -> dict[str, list[str]]:
    import warnings

    warnings.filterwarnings("ignore")
    from feast import FeatureStore

    latest = store.report.runs[-1]
    prod, staging = store.version(stage="Production"), store.version(stage="Staging")
    prod_run, staging_run = store.report.run(prod.run_role), store.report.run(staging.run_role)
    fs = FeatureStore(repo_path=str(store.feast_repo))
    view_fields = [f.name for f in fs.get_feature_view(VIEW).features]
    acc = lambda r: f"{r.test_accuracy:.4f}"[:5]  # noqa: E731 - e.g. '0.663'
    return {
        "q1_latest_features": latest.features,
        "q2_last_test_accuracy": [acc(latest)],
        "q3_production": [prod.run_id, acc(prod_run)],
        "q4_staging_vs_production": [prod.run_id, staging.run_id, acc(prod_run), acc(staging_run)],
        "q5_game_features": view_fields,
        "q6_production_alignment": [prod.run_id],
        "q4_with_compare": [prod.run_id, staging.run_id, acc(prod_run), acc(staging_run)],
        "q7_loss_curves": [store.run_id(role) for role in CURVE_ROLES] + list(CURVE_KEYS),
    }


def holds(text: str, facts: list[str]) -> tuple[bool, list[str]]:
    missing = [f for f in facts if f not in text]
    return not missing, missing


# ---------------------------------------------------------------------------------------------
# Plans: the calls each server needs for each question (an agent's shortest path)


def ours(store) -> dict[str, Callable[[Call], Awaitable[None]]]:
    async def q1(call: Call) -> None:
        await call("mlflow_get_run_features", {"run_id": "latest"})

    async def q2(call: Call) -> None:
        await call("mlflow_search_runs", {"page_size": 1})

    async def q3(call: Call) -> None:
        await call("mlflow_get_model_version", {"version_ref": "Production"})

    async def q4(call: Call) -> None:
        # one call: model versions by reference, compared through their training runs
        await call("mlflow_compare_runs", {"run_ids": [f"{MODEL}/Production", f"{MODEL}/Staging"]})

    async def q4_with_compare(call: Call) -> None:
        # the longer path an agent may take: resolve both versions, then compare their runs
        prod = await call("mlflow_get_model_version", {"version_ref": "Production"})
        staging = await call("mlflow_get_model_version", {"version_ref": "Staging"})
        ids = [_run_id_after(prod, store.version(stage="Production").run_id),
               _run_id_after(staging, store.version(stage="Staging").run_id)]  # fmt: skip
        await call("mlflow_compare_runs", {"run_ids": ids})

    async def q5(call: Call) -> None:
        await call("feast_describe_feature_view", {"name": VIEW})

    async def q6(call: Call) -> None:
        await call("check_feature_alignment", {"run_or_model": f"{MODEL}/Production"})

    async def q7(call: Call) -> None:
        # one call: both metrics of the newest runs that logged them, under one point budget
        await call("mlflow_get_metric_history", {"metric_keys": list(CURVE_KEYS), "last_runs": 3})

    plans = dict(zip(QUESTIONS, (q1, q2, q3, q4, q5, q6, q7), strict=True))
    plans["q4_with_compare"] = q4_with_compare
    return plans


def _run_id_after(text: str, expected: str) -> str:
    """The run id an agent would read off a previous answer (checked against the seed report)."""
    return expected if expected in text else (re.findall(r"\b[0-9a-f]{32}\b", text) or [expected])[0]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def kkruglik(store) -> dict[str, Callable[[Call], Awaitable[None]]]:
    """kkruglik/mlflow-mcp 0.4.1: MlflowClient results as JSON; stages via get_latest_versions."""
    prod, staging = store.version(stage="Production"), store.version(stage="Staging")

    async def latest_run(call: Call) -> None:
        exp = await call("get_experiment_by_name", {"name": EXPERIMENT})
        exp_id = (_json(exp) or {}).get("experiment_id", store.report.experiment_id)
        await call("get_runs", {"experiment_id": str(exp_id), "limit": 1,
                                "order_by": ["attributes.start_time DESC"]})  # fmt: skip

    async def q3(call: Call) -> None:
        await call("get_latest_versions", {"name": MODEL, "stages": ["Production"]})
        await call("get_model_version", {"model_name": MODEL, "version": str(prod.version)})

    async def q4(call: Call) -> None:
        await call("get_latest_versions", {"name": MODEL, "stages": ["Production", "Staging"]})
        await call("get_model_version", {"model_name": MODEL, "version": str(prod.version)})
        await call("get_model_version", {"model_name": MODEL, "version": str(staging.version)})

    async def feast(call: Call) -> None:
        raise CannotAnswer("no Feast tools")

    async def curves(call: Call) -> None:
        # the runs that logged the curve, then one uncapped history per run and metric
        exp = await call("get_experiment_by_name", {"name": EXPERIMENT})
        exp_id = (_json(exp) or {}).get("experiment_id", store.report.experiment_id)
        await call("query_runs", {"experiment_id": str(exp_id), "query": "metrics.val_logloss > 0", "limit": 3,
                                  "order_by": ["attributes.start_time DESC"]})  # fmt: skip
        for role in CURVE_ROLES:
            for key in CURVE_KEYS:
                await call("get_run_metric", {"run_id": store.run_id(role), "metric_name": key})

    return dict(zip(QUESTIONS, (latest_run, latest_run, q3, q4, feast, feast, curves), strict=True))


def builtin(store, tools: set[str]) -> dict[str, Callable[[Call], Awaitable[None]]]:
    """`mlflow mcp run` (MLFLOW_MCP_TOOLS=all): MLflow CLI commands as tools, CLI text output."""
    search = next((t for t in ("search_runs", "list_runs", "runs_list") if t in tools), None)
    get = next((t for t in ("get_run", "describe_run", "runs_describe") if t in tools), None)

    async def latest_run(call: Call) -> None:
        if search is None or get is None:
            raise CannotAnswer("no run search/get tools")
        text = await call(search, _builtin_search_args(search, store))
        run_id = _run_id_after(text, store.report.runs[-1].run_id)
        await call(get, {"run_id": run_id})

    async def registry(call: Call) -> None:
        raise CannotAnswer("no Model Registry tools (stages, aliases, versions)")

    async def feast(call: Call) -> None:
        raise CannotAnswer("no Feast tools")

    async def curves(call: Call) -> None:
        raise CannotAnswer("no metric history tool")

    return dict(
        zip(QUESTIONS, (latest_run, latest_run, registry, registry, feast, feast, curves), strict=True)
    )


BUILTIN_SEARCH_ARGS: dict[str, dict] = {}


def _builtin_search_args(tool: str, store) -> dict:
    return BUILTIN_SEARCH_ARGS.get(tool) or {"experiment_id": store.report.experiment_id}


# ---------------------------------------------------------------------------------------------
# Running a plan


async def ask_all(client: Any, plans: dict, facts: dict[str, list[str]], repeats: int) -> dict[str, Any]:
    """Ask every question `repeats` times after one warm-up pass; sizes from the last pass."""
    out: dict[str, Any] = {}
    for qid, plan in plans.items():
        try:
            warm = Asked()
            await plan(_recorder(client, warm))
        except CannotAnswer as why:
            out[qid] = {"answerable": False, "reason": str(why)}
            continue
        times = []
        asked = warm
        for _ in range(repeats):
            asked = Asked()
            t = time.perf_counter()
            await plan(_recorder(client, asked))
            times.append(time.perf_counter() - t)
        ok, missing = holds(asked.text, facts[qid])
        ok_structured, missing_structured = holds(asked.structured, facts[qid])
        out[qid] = {
            "answerable": True,
            "calls": len(asked.calls),
            "tools": [c["tool"] for c in asked.calls],
            "chars": asked.chars,
            "structured_chars": asked.structured_chars,
            "tokens": -(-asked.chars // CHARS_PER_TOKEN),
            "wire_chars": sum(c["wire_chars"] for c in asked.calls),
            "largest_response_chars": max(c["chars"] for c in asked.calls),
            "over_budget": any(max(c["chars"], c["structured_chars"]) > BUDGET for c in asked.calls),
            "errors": asked.errors,
            "latency_ms_p50": round(statistics.median(times) * 1000, 1) if times else None,
            "holds_expected_facts": ok,
            "missing_facts": missing[:5],
            "structured_holds_expected_facts": ok_structured,
            "structured_missing_facts": missing_structured[:5],
        }
    return out


async def run_ours(store, params: Any, repeats: int) -> tuple[dict, dict]:
    facts = expected_facts(store)
    async with mcp_client(params, read_timeout_seconds=120) as client:
        listed = await client.list_tools()
        answers = await ask_all(client, ours(store), facts, repeats)
    return answers, definitions_of(listed.tools)


def definitions_of(tools: list[Any]) -> dict[str, Any]:
    """The catalogue's size: all of tools/list, the part a model reads, the longest description."""
    return {
        "tool_count": len(tools),
        "tools_list_chars": len(json.dumps([t.model_dump(mode="json", exclude_none=True) for t in tools])),
        "model_visible_chars": model_visible_definitions(tools),
        "longest_description": max((len(t.description or "") for t in tools), default=0),
    }


async def run_peer(params: Any, plans_for: Callable[[set[str]], dict], facts: dict, repeats: int) -> dict:
    async with mcp_client(params, mode="legacy", read_timeout_seconds=300) as client:
        listed = await client.list_tools()
        names = {t.name for t in listed.tools}
        answers = await ask_all(client, plans_for(names), facts, repeats)
    return {**definitions_of(listed.tools), "questions": answers}


def log_answers(label: str, answers: dict) -> None:
    for qid, a in answers.items():
        if not a["answerable"]:
            log(f"  {label:<18} {qid:<26} cannot answer: {a['reason']}")
        else:
            log(
                f"  {label:<18} {qid:<26} {a['calls']} calls, {a['chars']:>6} text / "
                f"{a.get('structured_chars', a['chars']):>6} structured chars, "
                f"{a['latency_ms_p50']} ms, facts {'ok' if a['holds_expected_facts'] else 'MISSING ' + str(a['missing_facts'])}"
            )
