"""Smaller tool definitions. Clients pay for `tools/list` in tokens on every conversation, so the
generated noise goes: pydantic's `title` on every node, and `anyOf: [{type: X}, {type: null}]`
for optional scalars, which says the same as `type: [X, "null"]`. Validation uses the models, not
these schemas, so nothing about what is accepted or returned changes."""

from __future__ import annotations

from typing import Any


def _collapse_nullable(node: dict[str, Any]) -> dict[str, Any]:
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return node
    null = [o for o in options if o == {"type": "null"}]
    other = [o for o in options if o != {"type": "null"}]
    if len(null) != 1 or not isinstance(other[0].get("type"), str) or "$ref" in other[0]:
        return node
    merged = {k: v for k, v in node.items() if k != "anyOf"}
    merged.update(other[0])
    merged["type"] = [other[0]["type"], "null"]
    return merged


def compact_schema(schema: Any) -> Any:
    if isinstance(schema, dict):
        node = {
            key: compact_schema(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
        return _collapse_nullable(node)
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    return schema
