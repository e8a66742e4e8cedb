"""A checklist item, shared by the validation checks (the seed's and the convention-aware ones)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

CheckStatus = Literal["pass", "fail", "warn", "skipped"]
Evidence = str | int | float | bool | list[str] | None
LIST_LIMIT = 40  # names per evidence list; the rest is counted, never silently dropped


class Check(BaseModel):
    """One item of the checklist."""

    name: str = Field(description="run, params, metrics, artifacts, feature_count, registry, ...")
    status: CheckStatus
    summary: str = Field(description="one line with the values that decided the status")
    evidence: dict[str, Evidence] = Field({}, description="the values, paths and versions looked at")


def names(values: list[str], limit: int = LIST_LIMIT) -> list[str]:
    """A bounded list of names; a cut list ends with '... +N more'."""
    if len(values) <= limit:
        return list(values)
    return [*values[:limit], f"... +{len(values) - limit} more"]
