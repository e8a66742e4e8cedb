"""What an eval run records: every tool call, every case's answer and grade, and the transcript
(JSON) that replay mode re-grades."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, Field

from .cases import NOT_FOUND

TOKEN_METHOD = "approx: ceil(characters / 4) (no tokenizer installed offline; tiktoken is not a dependency)"
_NOT_FOUND_ERROR = re.compile(
    r"((?:^|:\s*)No [a-z][a-z ]*\b|\bnot found\b|does not exist|\bno such\b|\bhas no\b|\bDid you mean\b)",
    re.IGNORECASE,
)


def approx_tokens(text: str) -> int:
    """Tokens of a text, approximated as ceil(chars / 4) (see TOKEN_METHOD)."""
    return math.ceil(len(text) / 4) if text else 0


def error_answer(text: str) -> str:
    """The answer a failed call gives: NOT_FOUND for a not-found error, else 'ERROR: ...'."""
    return NOT_FOUND if _NOT_FOUND_ERROR.search(text) else "ERROR: " + text[:300]


class CallRecord(BaseModel):
    tool: str
    arguments: dict[str, Any] = {}
    is_error: bool = False
    expected_error: bool = False
    text: str = Field("", description="the text content the model reads")
    structured: Any = None
    latency_ms: float = 0.0
    response_chars: int = 0
    response_tokens: int = 0


class CaseResult(BaseModel):
    case_id: str
    category: str
    question: str
    mode: str
    trial: int = 0
    calls: list[CallRecord] = []
    answer: Any = None
    final_text: str | None = Field(None, description="the agent's final message (llm mode)")
    expected: Any = None
    passed: bool = False
    reason: str = ""
    over_budget: list[str] = []
    harness_error: str | None = None
    duration_ms: float = 0.0
    llm_input_tokens: int | None = None
    llm_output_tokens: int | None = None

    @property
    def response_tokens(self) -> int:
        return sum(c.response_tokens for c in self.calls)


class Transcript(BaseModel):
    version: int = 1
    mode: str
    transport: str
    created: str
    token_method: str = TOKEN_METHOD
    variables: dict[str, Any] = {}
    tool_definition_tokens: int = 0
    results: list[CaseResult]
