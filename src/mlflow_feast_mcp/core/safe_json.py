"""Bounded JSON for stored values (params, tags, artifacts, dataset schemas): a value too large or
nested too deep is refused with `UnreadableJson`, never a `RecursionError` out of a tool, and the
caller reports that value as unreadable for its run alone."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64
MAX_CHARS = 5_000_000


class UnreadableJson(ValueError):
    """Stored text that is not JSON we read: malformed, too deep or too large."""


def _depth_ok(text: str, limit: int) -> bool:
    """Bracket depth outside strings stays within `limit` (a linear scan before json.loads recurses)."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def loads(text: str | bytes, max_depth: int = MAX_DEPTH, max_chars: int = MAX_CHARS) -> Any:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableJson("not UTF-8 text") from exc
    if len(text) > max_chars:
        raise UnreadableJson(f"{len(text):,} characters (limit {max_chars:,})")
    brackets = text.count("[") + text.count("{")  # C-speed count: most values need no scan
    if brackets > max_depth and not _depth_ok(text, max_depth):
        raise UnreadableJson(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnreadableJson(f"not JSON ({type(exc).__name__})") from exc
