"""Human-meaningful values: ISO timestamps in UTC, sensibly rounded numbers, clipped strings."""

from __future__ import annotations

import math
from datetime import datetime, timezone


def iso_from_ms(ms: int | str | None) -> str | None:
    """MLflow's epoch milliseconds as an ISO 8601 UTC timestamp (second precision)."""
    if ms in (None, "", 0, "0"):
        return None
    moment = datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_from_datetime(moment: datetime | None) -> str | None:
    """A datetime as ISO UTC; naive values are taken as UTC (Feast's registry stores naive UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def round_number(value: float | int | None, digits: int = 4) -> float | int | None:
    """Round to `digits` significant digits; integers and integral floats stay exact."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if math.isnan(value) or math.isinf(value):
        return value
    if value == int(value) and abs(value) < 1e15:
        return int(value)
    magnitude = math.floor(math.log10(abs(value)))
    return round(value, max(digits - 1 - magnitude, 0))


def clip(text: str, limit: int) -> str:
    """Cut a string to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [+{len(text) - limit} chars]"


def parse_number(text: str | None) -> float | None:
    """A param value as a number when it is one (MLflow stores params as strings)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def counted(n: int, noun: str, more: bool = False, plural: str | None = None) -> str:
    """'1 experiment', '2 experiments', '1000+ experiments' (`more`: the count is a lower bound)."""
    return f"{n}{'+' if more else ''} {noun if n == 1 and not more else plural or noun + 's'}"
