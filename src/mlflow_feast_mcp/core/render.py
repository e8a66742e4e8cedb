"""Compact text for the model: `key: value` lines and `a | b | c` tables instead of indented JSON.

Strings that come from the stores (names, params, tags, descriptions, artifact text) are data, and
one rule renders them (`scalar`): a plain token (letters, digits, `_-.:/@=+,#%*'`) stays bare; anything
else is quoted as a JSON string, with ANSI escape sequences stripped and every character that could
break a line, reorder text or hide it (C0/C1 controls, DEL, U+2028/2029, bidi and zero-width marks,
lone surrogates) escaped as JSON unicode escapes. A stored value therefore can never start a line of the server's
own, and "ignore previous instructions" stays visibly inside quotes. `fence` does the same for the
multi-line text of an artifact, between markers the content cannot close."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from .formatting import round_number

_SAFE_PUNCTUATION = set("_-.:/@=+,#%*'")
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), and two-character escapes
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]"
)
_HIDDEN = "\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff"
_UNSAFE_IN_QUOTES = re.compile(f"[{_HIDDEN}]")
_UNSAFE_IN_FENCE = re.compile(f"[\\x00-\\x08\\x0b-\\x1f{_HIDDEN}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def scalar(value: Any) -> str:
    """One value as text: numbers rounded, booleans yes/no, None '-', strings bare or safely quoted."""
    if isinstance(value, float):
        return str(round_number(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    text = str(value)
    bare = text and len(text) <= 200 and all(ch.isalnum() or ch in _SAFE_PUNCTUATION for ch in text)
    if bare and (text.isascii() or not _UNSAFE_IN_QUOTES.search(text)):
        return text
    quoted = json.dumps(strip_ansi(text), ensure_ascii=False)  # escapes quotes, backslashes and C0
    return _UNSAFE_IN_QUOTES.sub(_escape, quoted)


def fence(content: str, label: str = "artifact content") -> tuple[str, str, str]:
    """(opening, body, closing) for multi-line stored text: ANSI stripped, controls other than newline
    and tab escaped, between markers carrying a nonce the body does not contain."""
    body = _UNSAFE_IN_FENCE.sub(_escape, strip_ansi(content))
    nonce, salt = hashlib.sha256(body.encode("utf-8", "replace")).hexdigest()[:8], 0  # same text, same fence
    while nonce in body:
        salt += 1
        nonce = hashlib.sha256(f"{salt}:{body}".encode("utf-8", "replace")).hexdigest()[:8]
    return f"<<<{label} {nonce}", body, f"{label} {nonce}>>>"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _cell(value: Any) -> str:
    if _is_scalar(value):
        return scalar(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}={_cell(v)}" for k, v in value.items()) + "}"
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
    """Render a model (or its dump) compactly; empty fields and fields at their default are left out
    (as the structured content leaves them out), but a required list that is empty says so ("runs:
    none"), so an empty result never reads as blank."""
    required: set[str] = set()
    if isinstance(data, BaseModel):
        required = {name for name, field in type(data).model_fields.items() if field.is_required()}
        data = data.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    lines: list[str] = []
    for key, value in data.items():
        if value == [] and key in required:
            lines.append(f"{indent}{key}: none")
            continue
        if _empty(value) or (key == "truncated" and value is False):
            continue
        if _is_scalar(value):
            lines.append(f"{indent}{key}: {scalar(value)}")
        elif isinstance(value, Mapping):
            if all(_is_scalar(v) for v in value.values()):
                lines.append(
                    f"{indent}{key}: " + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in value.items())
                )
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
