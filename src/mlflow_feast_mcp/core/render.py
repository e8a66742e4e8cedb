"""Compact text for the model: `key: value` lines and `a | b | c` tables instead of indented JSON.

Strings that come from the stores (names, descriptions, tags, artifact text) are data: anything
that could read as a new line of the answer (newlines, table separators) is quoted as JSON, so a
stored "ignore previous instructions" stays visibly inside a value."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from .formatting import round_number

_SAFE_PUNCTUATION = set(" _-.:/@=+,()[]#%*<>'")


def scalar(value: Any) -> str:
    if isinstance(value, float):
        return str(round_number(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    text = str(value)
    if text and all(ch.isalnum() or ch in _SAFE_PUNCTUATION for ch in text) and len(text) <= 200:
        return text
    return json.dumps(text, ensure_ascii=False)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _cell(value: Any) -> str:
    if _is_scalar(value):
        return scalar(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_cell(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return scalar(str(value))


def table(rows: Sequence[Mapping[str, Any]], indent: str = "") -> list[str]:
    """Rows of dicts as a header line plus one `|`-separated line per row; empty columns dropped."""
    columns: list[str] = []
    for row in rows:
        for key, value in row.items():
            if key not in columns and not _empty(value):
                columns.append(key)
    lines = [indent + " | ".join(columns)]
    for row in rows:
        lines.append(indent + " | ".join(_cell(row.get(c)) for c in columns))
    return lines


def render(data: BaseModel | Mapping[str, Any], indent: str = "") -> str:
    """Render a model (or its dump) compactly; empty fields and `truncated: no` are left out."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", exclude_none=True)
    lines: list[str] = []
    for key, value in data.items():
        if _empty(value) or (key == "truncated" and value is False):
            continue
        if _is_scalar(value):
            lines.append(f"{indent}{key}: {scalar(value)}")
        elif isinstance(value, Mapping):
            if all(_is_scalar(v) for v in value.values()):
                lines.append(f"{indent}{key}: " + ", ".join(f"{k}={scalar(v)}" for k, v in value.items()))
            else:
                lines.append(f"{indent}{key}:")
                lines.append(render(value, indent + "  "))
        elif all(_is_scalar(v) for v in value):
            lines.append(f"{indent}{key} ({len(value)}): " + ", ".join(scalar(v) for v in value))
        elif all(isinstance(v, Mapping) for v in value):
            lines.append(f"{indent}{key} ({len(value)}):")
            lines.extend(table(value, indent + "  "))
        else:
            lines.append(f"{indent}{key}: {_cell(value)}")
    return "\n".join(line for line in lines if line)
