"""A checklist item, shared by the validation checks (the seed's and the convention-aware ones)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

CheckStatus = Literal["pass", "fail", "warn", "skipped"]
Evidence = str | int | float | bool | list[str] | None
LIST_LIMIT = 40  # names per evidence list; the rest is counted, never silently dropped


class Check(BaseModel):
    """One item of the checklist."""

    name: str = Field(description="run, params, metrics, artifacts, feature_count, registry, ...")
    status: CheckStatus
    summary: str = Field(description="one line with the values that decided the status")
    evidence: dict[str, Evidence] = Field({}, description="the values, paths and versions looked at")

    @field_validator("evidence")
    @classmethod
    def _without_empty(cls, evidence: dict[str, Evidence]) -> dict[str, Evidence]:
        """An empty list or text says nothing the summary does not: left out, as everywhere."""
        return {k: v for k, v in evidence.items() if v not in ([], "")}


def names(values: list[str], limit: int = LIST_LIMIT) -> list[str]:
    """A bounded list of names; a cut list ends with '... +N more'."""
    if len(values) <= limit:
        return list(values)
    return [*values[:limit], f"... +{len(values) - limit} more"]
