"""One grader for every mode: typed comparisons of an answer with the oracle's truth.

- ``exact``: equal after light normalisation (strings stripped, case-insensitive; numbers as numbers;
  booleans also from yes/no/true/false; lists compared in order)
- ``number``: within ``tolerance`` (absolute), numbers parsed from text if needed
- ``set``: the same elements in any order (a text answer is split on commas, newlines and spaces)
- ``contains``: every expected item occurs in the answer (in a list, or as a substring of a text)
- ``not_found``: the answer is NOT_FOUND (the data cannot answer the question)

Whatever the comparison, a NOT_FOUND truth only accepts NOT_FOUND, and a NOT_FOUND answer only
passes a NOT_FOUND truth.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel

from .cases import NOT_FOUND

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_ANSWER_LINE = re.compile(r"ANSWER\s*:\s*(.+)", re.IGNORECASE | re.DOTALL)
_TRUE = {"true", "yes", "y", "1", "pass", "exists", "present"}
_FALSE = {"false", "no", "n", "0", "fail", "missing", "absent"}


class Grade(BaseModel):
    passed: bool
    reason: str = ""


def parse_final_answer(text: str) -> Any:
    """The value of an agent's free-text answer: what follows the last 'ANSWER:' (parsed as JSON when
    it is JSON), else the whole text. 'NOT_FOUND' anywhere in the answer part means NOT_FOUND."""
    matches = list(re.finditer(r"ANSWER\s*:", text, re.IGNORECASE))
    part = text[matches[-1].end() :] if matches else text
    part = part.strip().strip("`").strip()
    if part.upper().startswith(NOT_FOUND) or part.upper() == "NOT FOUND":
        return NOT_FOUND
    try:
        return json.loads(part)
    except ValueError:
        return part


def _is_not_found(value: Any) -> bool:
    return isinstance(value, str) and value.strip().upper().replace(" ", "_") == NOT_FOUND


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower().strip(".!")
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        found = _NUMBER.findall(value.replace(",", ""))
        if len(found) == 1 or (found and value.strip().startswith(found[0])):
            return float(found[0])
    return None


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().strip("'\"").strip().lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {str(k).lower(): _norm(v) for k, v in value.items()}
    return value


def _as_items(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, set)):
        return list(value)
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, str):
        return [p for p in re.split(r"[,\s;]+", value.strip().strip("[]")) if p]
    return [value]


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grade(expected: Any, got: Any, compare: str = "exact", tolerance: float = 1e-6) -> Grade:
    if _is_not_found(expected) or compare == "not_found":
        ok = _is_not_found(got)
        return Grade(passed=ok, reason="" if ok else f"expected NOT_FOUND, got {_short(got)}")
    if _is_not_found(got):
        return Grade(passed=False, reason=f"answered NOT_FOUND, expected {_short(expected)}")
    if got is None:
        return Grade(passed=False, reason=f"no answer, expected {_short(expected)}")

    if compare == "number":
        e, g = _as_number(expected), _as_number(got)
        if e is None or g is None:
            return Grade(passed=False, reason=f"not a number: expected {_short(expected)}, got {_short(got)}")
        ok = math.isclose(e, g, abs_tol=tolerance, rel_tol=0)
        return Grade(passed=ok, reason="" if ok else f"expected {e} ± {tolerance}, got {g}")

    if compare == "set":
        e = {json.dumps(_norm(x), sort_keys=True) for x in _as_items(expected)}
        g = {json.dumps(_norm(x), sort_keys=True) for x in _as_items(got)}
        if e == g:
            return Grade(passed=True)
        missing, extra = sorted(e - g), sorted(g - e)
        return Grade(passed=False, reason=f"missing {missing[:8]}, unexpected {extra[:8]}")

    if compare == "contains":
        wanted = _as_items(expected) if isinstance(expected, (list, tuple, set)) else [expected]
        if isinstance(got, (list, tuple, set, dict)):
            pool = {json.dumps(_norm(x), sort_keys=True) for x in _as_items(got)}
            absent = [w for w in wanted if json.dumps(_norm(w), sort_keys=True) not in pool]
        else:
            text = str(got).lower()
            absent = [w for w in wanted if str(w).lower() not in text]
        ok = not absent
        return Grade(passed=ok, reason="" if ok else f"answer lacks {_short(absent)}")

    # exact
    if isinstance(expected, bool):
        g = _as_bool(got)
        ok = g is expected
        return Grade(passed=ok, reason="" if ok else f"expected {expected}, got {_short(got)}")
    if isinstance(expected, (int, float)):
        g = _as_number(got)
        ok = g is not None and math.isclose(float(expected), g, abs_tol=tolerance, rel_tol=0)
        return Grade(passed=ok, reason="" if ok else f"expected {expected}, got {_short(got)}")
    if isinstance(expected, (list, tuple)) and isinstance(got, str):
        got = _as_items(got)
    ok = _norm(expected) == _norm(got)
    return Grade(passed=ok, reason="" if ok else f"expected {_short(expected)}, got {_short(got)}")
