"""The scripted and replay modes, and what every mode shares: connecting to the server over a real
transport (in memory, stdio or streamable HTTP), calling a tool with timing and token accounting,
computing the truth, grading, budgets."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any

from .cases import NOT_FOUND, Case, render
from .extract import ExtractError, extract
from .grader import grade, parse_final_answer
from .oracle import Oracle
from .records import CallRecord, CaseResult, Transcript, approx_tokens, error_answer

Progress = Callable[[int, int, CaseResult], None]


# ---------------------------------------------------------------------------------------------
# Transport


@asynccontextmanager
async def connect(target: Any) -> AsyncIterator[Any]:
    """An MCP `Client` over `target`: a server object (in memory), an http(s) URL (streamable HTTP)
    or `StdioServerParameters` (a spawned `mlflow-feast-mcp serve`)."""
    from mcp import Client

    async with Client(target, read_timeout_seconds=120) as client:
        yield client


def transport_name(target: Any) -> str:
    if isinstance(target, str):
        return "http"
    if type(target).__name__ == "StdioServerParameters":
        return "stdio"
    return "memory"


async def tool_definitions(client: Any) -> tuple[list[Any], int]:
    """The server's tools and the approximate tokens of their definitions (tools/list as JSON)."""
    tools = (await client.list_tools()).tools
    payload = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return tools, approx_tokens(json.dumps(payload, separators=(",", ":")))


async def call_tool(client: Any, tool: str, arguments: dict[str, Any]) -> CallRecord:
    started = time.perf_counter()
    try:
        result = await client.call_tool(tool, arguments)
    except Exception as exc:  # a protocol-level failure: recorded as an error the model would see
        text = f"{type(exc).__name__}: {exc}"
        return CallRecord(
            tool=tool,
            arguments=arguments,
            is_error=True,
            text=text,
            latency_ms=(time.perf_counter() - started) * 1000,
            response_chars=len(text),
            response_tokens=approx_tokens(text),
        )
    latency = (time.perf_counter() - started) * 1000
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    return CallRecord(
        tool=tool,
        arguments=arguments,
        is_error=bool(result.is_error),
        text=text,
        structured=result.structured_content,
        latency_ms=round(latency, 3),
        response_chars=len(text),
        response_tokens=approx_tokens(text),
    )


# ---------------------------------------------------------------------------------------------
# Truth, grading, budgets


def truths(oracle: Oracle, cases: list[Case], variables: dict[str, Any]) -> dict[str, Any]:
    """The true answer of every case, computed from MLflow and Feast directly."""
    return {c.id: oracle.answer(c.oracle, **render(c.oracle_args, variables)) for c in cases}


def finish(result: CaseResult, case: Case, expected: Any) -> CaseResult:
    result.expected = expected
    if result.harness_error and result.answer is None:
        result.passed, result.reason = False, f"harness error: {result.harness_error}"
    else:
        g = grade(expected, result.answer, case.compare, case.tolerance)
        result.passed, result.reason = g.passed, g.reason
    over = []
    if len(result.calls) > case.budget.tool_calls:
        over.append(f"tool_calls {len(result.calls)} > {case.budget.tool_calls}")
    if result.response_tokens > case.budget.response_tokens:
        over.append(f"response_tokens {result.response_tokens} > {case.budget.response_tokens}")
    result.over_budget = over
    return result


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# ---------------------------------------------------------------------------------------------
# Scripted mode


async def run_case_scripted(client: Any, case: Case, variables: dict[str, Any]) -> CaseResult:
    """Run the case's plan; the answer is the case's extractor over the last result (or a saved
    variable). A failed call stops the plan; a not-found error answers NOT_FOUND."""
    started = time.perf_counter()
    result = CaseResult(
        case_id=case.id, category=case.category, question=case.render_question(variables), mode="scripted"
    )
    scope = dict(variables)
    last: Any = None
    try:
        for i, step in enumerate(case.plan):
            args = render(step.args, scope)
            record = await call_tool(client, step.tool, args)
            record.expected_error = record.is_error and case.expect_error and i == len(case.plan) - 1
            result.calls.append(record)
            if record.is_error:
                result.answer = error_answer(record.text)
                break
            last = record.structured
            for name, path in step.save.items():
                scope[name] = extract(last, render(path, scope))
        else:
            path = render(case.answer, scope) if case.answer.startswith("$") else case.answer
            if path.startswith("$"):
                result.answer = jsonable(extract(last, path))
            else:
                result.answer = jsonable(render(path, scope))
    except (ExtractError, KeyError, TypeError, ValueError) as exc:
        result.harness_error = f"{type(exc).__name__}: {exc}"
    result.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    return result


async def run_scripted(
    target: Any,
    cases: list[Case],
    oracle: Oracle,
    progress: Progress | None = None,
    variables: dict[str, Any] | None = None,
) -> Transcript:
    variables = variables if variables is not None else oracle.variables()
    expected = truths(oracle, cases, variables)
    results: list[CaseResult] = []
    async with connect(target) as client:
        _, definition_tokens = await tool_definitions(client)
        for n, case in enumerate(cases, 1):
            result = finish(await run_case_scripted(client, case, variables), case, expected[case.id])
            results.append(result)
            if progress:
                progress(n, len(cases), result)
    return Transcript(
        mode="scripted",
        transport=transport_name(target),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        variables=jsonable(variables),
        tool_definition_tokens=definition_tokens,
        results=results,
    )


# ---------------------------------------------------------------------------------------------
# Replay mode


def replay(
    transcript: Transcript,
    cases: list[Case],
    oracle: Oracle,
    progress: Progress | None = None,
) -> Transcript:
    """Re-grade a recorded transcript against fresh truth: the recorded answer (or, for an agent's
    transcript, its final text parsed for 'ANSWER: ...') is graded against what MLflow and Feast say
    now. Results for unknown case ids fail with a reason."""
    by_id = {c.id: c for c in cases}
    variables = oracle.variables()
    wanted = [by_id[r.case_id] for r in transcript.results if r.case_id in by_id]
    expected = truths(oracle, list({c.id: c for c in wanted}.values()), variables)
    out: list[CaseResult] = []
    for n, recorded in enumerate(transcript.results, 1):
        result = recorded.model_copy(deep=True)
        result.mode = f"replay:{recorded.mode}"
        case = by_id.get(recorded.case_id)
        if case is None:
            result.passed, result.reason, result.expected = False, "unknown case id", None
        else:
            if recorded.final_text is not None:
                result.answer = parse_final_answer(recorded.final_text)
            result.harness_error = recorded.harness_error
            finish(result, case, expected[case.id])
            if recorded.expected is not None and jsonable(recorded.expected) != jsonable(result.expected):
                result.reason = (result.reason + "; " if result.reason else "") + (
                    f"truth changed since recording (was {recorded.expected!r})"
                )
        out.append(result)
        if progress:
            progress(n, len(transcript.results), result)
    return Transcript(
        mode="replay",
        transport=transcript.transport,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        variables=jsonable(variables),
        tool_definition_tokens=transcript.tool_definition_tokens,
        results=out,
    )


__all__ = [
    "NOT_FOUND",
    "call_tool",
    "connect",
    "finish",
    "replay",
    "run_case_scripted",
    "run_scripted",
    "tool_definitions",
    "truths",
]
