"""The llm mode: an agent loop over the server's tools, with the Anthropic Messages API or any
OpenAI-compatible chat-completions endpoint, spoken with httpx (no vendor SDK).

Each case is asked `k` times (trials). The agent sees the server's tools (tools/list, converted to
the provider's tool format), calls them through the real MCP client, and must end with a line
``ANSWER: <value>`` (JSON for lists, numbers and booleans; ``NOT_FOUND`` when the data does not
hold the answer). The final text is graded by the same grader as the other modes.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from .cases import Case
from .grader import parse_final_answer
from .modes import Progress, call_tool, connect, finish, jsonable, tool_definitions, transport_name, truths
from .oracle import Oracle
from .records import CaseResult, Transcript

SYSTEM_PROMPT = """\
You answer questions about machine-learning models and features for the NBA game-winner project.
MLflow (runs, metrics, artifacts, Model Registry) and Feast (feature definitions) are the sources of
truth: answer only from what the tools return, never from memory. Use as few tool calls as you need.
End your reply with one line `ANSWER: <value>`, where <value> is JSON for a list, number or boolean
(e.g. ANSWER: ["a", "b"], ANSWER: 0.65, ANSWER: true) and plain text otherwise. If the data does not
hold the answer (an unknown model, run, view, alias, metric or file), reply `ANSWER: NOT_FOUND`."""

DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o-mini"}


class LLMConfig(BaseModel):
    api: Literal["anthropic", "openai"] = "anthropic"
    base_url: str = "https://api.anthropic.com"
    api_key: str | None = None
    model: str = DEFAULT_MODELS["anthropic"]
    max_tokens: int = 1024
    temperature: float = 0.0
    max_turns: int = 8
    timeout: float = 120.0

    @classmethod
    def from_env(
        cls,
        api: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
    ) -> LLMConfig | None:
        """A configuration when ANTHROPIC_API_KEY / OPENAI_API_KEY or a base URL is given, else None."""
        api = api or ("anthropic" if os.environ.get("ANTHROPIC_API_KEY") or not base_url else "openai")
        if api == "anthropic":
            key = api_key or os.environ.get("ANTHROPIC_API_KEY")
            url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
        else:
            key = api_key or os.environ.get("OPENAI_API_KEY")
            url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        if not key and not base_url:
            return None
        return cls(api=api, base_url=url.rstrip("/"), api_key=key, model=model or DEFAULT_MODELS[api])


class _Turn(BaseModel):
    text: str = ""
    tool_calls: list[tuple[str, str, dict[str, Any]]] = []  # (id, name, arguments)
    input_tokens: int = 0
    output_tokens: int = 0


class _Provider:
    def __init__(self, config: LLMConfig, tools: list[Any], http: httpx.AsyncClient) -> None:
        self.config, self.http = config, http
        self.tools = tools

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        response = await self.http.post(self.config.base_url + path, json=body, headers=headers)
        if response.status_code >= 400:
            raise RuntimeError(f"LLM endpoint answered {response.status_code}: {response.text[:500]}")
        return response.json()


class _Anthropic(_Provider):
    def start(self, question: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": question}]

    async def turn(self, messages: list[dict[str, Any]]) -> _Turn:
        tools = [
            {"name": t.name, "description": t.description or "", "input_schema": t.input_schema}
            for t in self.tools
        ]
        body = {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "temperature": self.config.temperature,
            "system": SYSTEM_PROMPT,
            "messages": messages,
            "tools": tools,
        }
        headers = {"anthropic-version": "2023-06-01", "content-type": "application/json"}
        if self.config.api_key:
            headers["x-api-key"] = self.config.api_key
        data = await self._post("/v1/messages", body, headers)
        content = data.get("content") or []
        messages.append({"role": "assistant", "content": content})
        usage = data.get("usage") or {}
        return _Turn(
            text="".join(b.get("text", "") for b in content if b.get("type") == "text"),
            tool_calls=[
                (b["id"], b["name"], b.get("input") or {}) for b in content if b.get("type") == "tool_use"
            ],
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
        )

    def add_results(self, messages: list[dict[str, Any]], results: list[tuple[str, str, bool]]) -> None:
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": call_id, "content": text, "is_error": is_error}
                    for call_id, text, is_error in results
                ],
            }
        )


class _OpenAI(_Provider):
    def start(self, question: str) -> list[dict[str, Any]]:
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}]

    async def turn(self, messages: list[dict[str, Any]]) -> _Turn:
        tools = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description or "",
                    "parameters": t.input_schema,
                },
            }
            for t in self.tools
        ]
        body = {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "temperature": self.config.temperature,
            "messages": messages,
            "tools": tools,
        }
        headers = {"content-type": "application/json"}
        if self.config.api_key:
            headers["authorization"] = f"Bearer {self.config.api_key}"
        data = await self._post("/chat/completions", body, headers)
        message = (data.get("choices") or [{}])[0].get("message") or {}
        messages.append({k: v for k, v in message.items() if v is not None})
        calls = []
        for c in message.get("tool_calls") or []:
            raw = c.get("function", {}).get("arguments") or "{}"
            try:
                args = json.loads(raw) if isinstance(raw, str) else dict(raw)
            except ValueError:
                args = {"_unparsable_arguments": raw}
            calls.append((c.get("id", ""), c.get("function", {}).get("name", ""), args))
        usage = data.get("usage") or {}
        return _Turn(
            text=message.get("content") or "",
            tool_calls=calls,
            input_tokens=int(usage.get("prompt_tokens", 0)),
            output_tokens=int(usage.get("completion_tokens", 0)),
        )

    def add_results(self, messages: list[dict[str, Any]], results: list[tuple[str, str, bool]]) -> None:
        for call_id, text, _ in results:
            messages.append({"role": "tool", "tool_call_id": call_id, "content": text})


async def run_case_llm(
    client: Any, provider: _Anthropic | _OpenAI, case: Case, question: str, trial: int
) -> CaseResult:
    started = time.perf_counter()
    result = CaseResult(case_id=case.id, category=case.category, question=question, mode="llm", trial=trial)
    messages = provider.start(question)
    tokens_in = tokens_out = 0
    try:
        for _ in range(provider.config.max_turns):
            turn = await provider.turn(messages)
            tokens_in += turn.input_tokens
            tokens_out += turn.output_tokens
            if not turn.tool_calls:
                result.final_text = turn.text
                result.answer = jsonable(parse_final_answer(turn.text))
                break
            outputs = []
            for call_id, name, args in turn.tool_calls:
                record = await call_tool(client, name, args)
                record.expected_error = record.is_error and case.expect_error
                result.calls.append(record)
                outputs.append((call_id, record.text, record.is_error))
            provider.add_results(messages, outputs)
        else:
            result.harness_error = f"no final answer after {provider.config.max_turns} turns"
    except Exception as exc:  # the endpoint failed: the case fails, the run goes on
        result.harness_error = f"{type(exc).__name__}: {exc}"
    result.llm_input_tokens, result.llm_output_tokens = tokens_in, tokens_out
    result.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    return result


async def run_llm(
    target: Any,
    cases: list[Case],
    oracle: Oracle,
    config: LLMConfig,
    k: int = 1,
    progress: Progress | None = None,
) -> Transcript:
    variables = oracle.variables()
    expected = truths(oracle, cases, variables)
    results: list[CaseResult] = []
    total = len(cases) * k
    async with connect(target) as client, httpx.AsyncClient(timeout=config.timeout) as http:
        tools, definition_tokens = await tool_definitions(client)
        provider = (_Anthropic if config.api == "anthropic" else _OpenAI)(config, tools, http)
        n = 0
        for case in cases:
            question = case.render_question(variables)
            for trial in range(k):
                result = finish(
                    await run_case_llm(client, provider, case, question, trial), case, expected[case.id]
                )
                results.append(result)
                n += 1
                if progress:
                    progress(n, total, result)
    return Transcript(
        mode="llm",
        transport=transport_name(target),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        variables=jsonable(variables),
        tool_definition_tokens=definition_tokens,
        results=results,
    )
