"""The issue-12 questions on the kinds world, as tool calls, with the answer sizes a note reports.

`await measure(client, world)` calls each tool through a real MCP client and returns one row per call
(question, tool, arguments, is_error, text and structured sizes, text)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from support.feast_kinds_world import MODEL, KindsWorld


@dataclass
class Measured:
    question: str
    tool: str
    arguments: dict[str, Any]
    is_error: bool
    text_chars: int
    structured_chars: int
    text: str


def question_calls(world: KindsWorld) -> list[tuple[str, str, dict[str, Any]]]:
    run = world.training_run_id
    return [
        ("which views exist and how is each fed?", "feast_list_feature_views", {}),
        ("which views exist and how is each fed?", "feast_list_data_sources", {}),
        ("which views exist and how is each fed?", "feast_list_projects", {}),
        (
            "what does the on-demand view need at request time?",
            "feast_describe_feature_view",
            {"name": "checkout_features"},
        ),
        (
            "is the champion aligned with Feast as it was when it trained, and as it is now?",
            "check_feature_alignment",
            {"run_or_model": f"{MODEL}@champion"},
        ),
        (
            "is the champion aligned with Feast as it was when it trained, and as it is now?",
            "validate_training_run",
            {"run_id": run},
        ),
        (
            "is the champion aligned with Feast as it was when it trained, and as it is now?",
            "check_feature_alignment",
            {"run_or_model": world.marketing_run_id},
        ),
        ("when was the repo last applied and what changed?", "feast_get_feature_view_history", {}),
        (
            "when was the repo last applied and what changed?",
            "feast_get_feature_view_history",
            {"name": "customer_stats"},
        ),
    ]


async def measure(client: Any, world: KindsWorld) -> list[Measured]:
    rows = []
    for question, tool, arguments in question_calls(world):
        result = await client.call_tool(tool, arguments)
        text = "\n".join(getattr(block, "text", "") for block in result.content)
        structured = result.structured_content
        rows.append(
            Measured(
                question=question,
                tool=tool,
                arguments=arguments,
                is_error=bool(result.is_error),
                text_chars=len(text),
                structured_chars=len(json.dumps(structured)) if structured is not None else 0,
                text=text,
            )
        )
    return rows
