"""Smaller tool definitions. Clients pay for `tools/list` in tokens on every conversation (and cut or
degrade on long catalogues), so the generated noise goes: pydantic's `title` on every node;
`anyOf: [{type: X}, {type: null}]` for optional scalars, which in an output says `type: [X, "null"]`
and in an input says nothing an omitted argument does not (so it becomes `type: X`); `default: null`;
string lengths and list sizes on inputs, which the server still enforces with a clear error.
Validation uses the models, not these schemas, so nothing about what is accepted or returned changes."""

from __future__ import annotations

from typing import Any

INPUT_NOISE = ("maxLength", "minLength", "maxItems")


def _input_noise(key: str, value: Any) -> bool:
    """Bounds and defaults that tell the model nothing: string lengths, `minimum` 0 or 1, and
    defaults that are empty or false (an omitted argument says the same)."""
    if key in INPUT_NOISE:
        return True
    if key in ("minimum", "minItems"):
        return value in (0, 1)
    return key == "default" and value in (None, False, 0, "", [], {})


def _collapse_nullable(node: dict[str, Any], output: bool) -> dict[str, Any]:
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return node
    null = [o for o in options if o == {"type": "null"}]
    other = [o for o in options if o != {"type": "null"}]
    if len(null) != 1 or "$ref" in other[0] or not isinstance(other[0].get("type"), str):
        return node
    merged = {k: v for k, v in node.items() if k != "anyOf"}
    merged.update(other[0])
    merged["type"] = [other[0]["type"], "null"] if output else other[0]["type"]
    if not output and merged.get("default", 0) is None:
        del merged["default"]
    return merged


def compact_schema(schema: Any, *, output: bool = False, _names: bool = False) -> Any:
    """`output`: also drop `default` (a result's defaults say nothing a reader needs). `_names`:
    `schema` maps names to schemas (`properties`, `$defs`), whose keys are never keywords."""
    if isinstance(schema, dict):
        node = {}
        for key, value in schema.items():
            noise = (key == "title" and isinstance(value, str)) or (
                key == "default" if output else _input_noise(key, value)
            )
            if not _names and noise:
                continue
            node[key] = compact_schema(
                value, output=output, _names=not _names and key in ("properties", "$defs")
            )
        return node if _names else _collapse_nullable(node, output)
    if isinstance(schema, list):
        return [compact_schema(item, output=output) for item in schema]
    return schema
