"""A small JSONPath-like extractor for tool results.

Paths start at ``$`` (the structured content) and chain:

- ``.key``             a field (``$.version.version``)
- ``[3]`` / ``[-1]``   an index
- ``[*]``              every element (the rest of the path maps over them)
- ``[?key=value]``     the elements whose field equals value (compared as text); ``[?key!=value]``,
                       ``[?key~=text]`` (contains, case-insensitive); ``@`` as key is the element itself;
                       the rest maps over them
- ``|fn``              a function over the value so far: ``len``, ``first``, ``last``, ``keys``,
                       ``values``, ``sort``, ``unique``, ``flatten``, ``bool``, ``upper``, ``lower``,
                       ``word`` (the first word of a text), ``lines`` (split text into lines), ``json``
                       (parse a JSON text), ``round4``

After ``[*]`` or a filter, the result is a list; a missing key inside a mapped list is skipped. A
missing key elsewhere raises ``ExtractError``.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"""\.(?P<key>[A-Za-z_][A-Za-z0-9_\-]*)
      | \[(?P<index>-?\d+)\]
      | \[(?P<star>\*)\]
      | \[\?(?P<fkey>@|[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>!=|~=|=)\s*(?P<fval>[^\]]*)\]
      | \|(?P<fn>[a-z_]+)
      | \["(?P<qkey>[^"]+)"\]
    """,
    re.VERBOSE,
)

_MISSING = object()


class ExtractError(ValueError):
    pass


def _fn(name: str, value: Any) -> Any:
    if name == "len":
        return len(value)
    if name == "first":
        return value[0] if value else None
    if name == "last":
        return value[-1] if value else None
    if name == "keys":
        return list(value.keys())
    if name == "values":
        return list(value.values())
    if name == "sort":
        return sorted(value)
    if name == "unique":
        return list(dict.fromkeys(value))
    if name == "flatten":
        return [x for v in value for x in (v if isinstance(v, list) else [v])]
    if name == "bool":
        return bool(value)
    if name == "upper":
        return str(value).upper()
    if name == "lower":
        return str(value).lower()
    if name == "word":
        words = str(value).split()
        return words[0].strip(":,.") if words else ""
    if name == "lines":
        return str(value).splitlines()
    if name == "json":
        import json

        return json.loads(value)
    if name == "round4":
        return round(float(value), 4)
    raise ExtractError(f"unknown function |{name}")


def _get(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key, _MISSING)
    return getattr(value, key, _MISSING)


def _field(item: Any, dotted: str) -> Any:
    if dotted == "@":
        return item
    for part in dotted.split("."):
        item = _get(item, part)
        if item is _MISSING:
            return _MISSING
    return item


def _matches(item: Any, key: str, op: str, expected: str) -> bool:
    got = _field(item, key)
    if got is _MISSING:
        return False
    expected = expected.strip().strip("'\"")
    text = str(got).lower() if isinstance(got, bool) else str(got)
    if op == "=":
        return text == expected
    if op == "!=":
        return text != expected
    return expected.lower() in text.lower()


def parse(path: str) -> list[re.Match[str]]:
    path = path.strip()
    if not path.startswith("$"):
        raise ExtractError(f"a path starts with '$': {path!r}")
    tokens, pos, rest = [], 1, path[1:]
    while pos - 1 < len(rest):
        m = _TOKEN.match(rest, pos - 1)
        if not m:
            raise ExtractError(f"cannot parse {path!r} at {rest[pos - 1 :]!r}")
        tokens.append(m)
        pos = m.end() + 1
    return tokens


def extract(data: Any, path: str) -> Any:
    """Apply `path` to `data` (see module doc)."""
    tokens = parse(path)
    value, mapped = data, False

    def step(v: Any, m: re.Match[str]) -> Any:
        key = m.group("key") or m.group("qkey")
        if key is not None:
            return _get(v, key)
        if m.group("index") is not None:
            i = int(m.group("index"))
            if not isinstance(v, list) or not -len(v) <= i < len(v):
                return _MISSING
            return v[i]
        raise AssertionError

    for m in tokens:
        if m.group("fn"):
            value, mapped = _fn(m.group("fn"), value), False
            continue
        if m.group("star") or m.group("fkey"):
            items = value if mapped else [value]
            out: list[Any] = []
            for v in items:
                if not isinstance(v, list):
                    raise ExtractError(f"{path}: [*] or a filter needs a list, got {type(v).__name__}")
                if m.group("star"):
                    out.extend(v)
                else:
                    out.extend(x for x in v if _matches(x, m.group("fkey"), m.group("op"), m.group("fval")))
            value, mapped = out, True
            continue
        if mapped:
            value = [r for r in (step(v, m) for v in value) if r is not _MISSING]
        else:
            value = step(value, m)
            if value is _MISSING:
                raise ExtractError(f"{path}: {m.group(0)!r} not found")
    return value
