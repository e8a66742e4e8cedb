"""The case format: YAML files of questions, each with an oracle (the true answer, computed at eval time
from MLflow and Feast directly), a typed comparison, budgets and, for the scripted mode, the tool plan
that answers it. Questions, oracle arguments and plan arguments are templates over variables the
oracle computes (``{latest_run}``, ``{production_version}`` ...) and, in a plan, values saved by
earlier steps."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CASES_DIR = Path(__file__).with_name("cases")
NOT_FOUND = "NOT_FOUND"  # the answer to a question the data cannot answer

Comparison = Literal["exact", "number", "set", "contains", "not_found"]
Category = Literal[
    "runs",
    "metrics",
    "registry",
    "artifacts",
    "feast",
    "alignment",
    "validation",
    "unanswerable",
    "multi_step",
    "serving",
]
Need = Literal["predictions"]

_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Step(BaseModel):
    """One tool call of a scripted plan. `save` stores values extracted from its structured content
    as variables for later steps and for the case's answer."""

    model_config = ConfigDict(extra="forbid")
    tool: str
    args: dict[str, Any] = {}
    save: dict[str, str] = Field({}, description="variable -> extractor path on this step's result")


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tool_calls: int = Field(3, ge=1, le=20)
    response_tokens: int = Field(4000, ge=50)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    category: Category
    question: str = Field(min_length=5)
    oracle: str = Field(description="name of an Oracle answer function (see oracle.py)")
    oracle_args: dict[str, Any] = {}
    compare: Comparison = "exact"
    tolerance: float = Field(1e-6, ge=0)
    budget: Budget = Budget()
    plan: list[Step] = Field(min_length=1)
    answer: str = Field(
        description="extractor path on the last step's result, or '{var}' for a saved variable"
    )
    expect_error: bool = Field(False, description="the plan's last call is meant to fail (NOT_FOUND)")
    needs: list[Need] = Field(
        [],
        description="what the store must hold beyond MLflow and Feast ('predictions': a predictions table)",
    )
    notes: str = ""

    @field_validator("oracle")
    @classmethod
    def _known_oracle(cls, value: str) -> str:
        from .oracle import ANSWERS

        if value not in ANSWERS:
            raise ValueError(f"unknown oracle {value!r}; known: {', '.join(sorted(ANSWERS))}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.compare == "not_found" and not self.expect_error:
            raise ValueError("compare: not_found needs expect_error: true")
        if len(self.plan) > self.budget.tool_calls:
            raise ValueError(f"plan has {len(self.plan)} calls, over its budget of {self.budget.tool_calls}")
        return self

    @property
    def tools(self) -> list[str]:
        return [s.tool for s in self.plan]

    def render_question(self, variables: Mapping[str, Any]) -> str:
        return render(self.question, variables)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cases: list[Case]


def render(template: Any, variables: Mapping[str, Any]) -> Any:
    """Fill `{var}` placeholders. A string that is exactly one placeholder becomes the variable's value
    (keeping its type: an int stays an int); lists and dicts are rendered recursively."""
    if isinstance(template, str):
        whole = _VAR.fullmatch(template)
        if whole:
            return _lookup(whole.group(1), variables)
        return _VAR.sub(lambda m: _as_text(_lookup(m.group(1), variables)), template)
    if isinstance(template, list):
        return [render(t, variables) for t in template]
    if isinstance(template, dict):
        return {k: render(v, variables) for k, v in template.items()}
    return template


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    if name not in variables:
        raise KeyError(f"template variable {{{name}}} is not defined (known: {', '.join(sorted(variables))})")
    return variables[name]


def _as_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def variables_in(case: Case) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.update(_VAR.findall(value))
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(case.question)
    walk(case.oracle_args)
    walk([s.args for s in case.plan])
    return found


def load_cases(paths: Iterable[Path | str] | Path | str | None = None) -> list[Case]:
    """Cases from YAML files or folders of them (default: the packaged cases/). Ids must be unique."""
    import yaml

    if paths is None:
        paths = [CASES_DIR]
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p])
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for f in files:
        raw = yaml.safe_load(f.read_text()) or {}
        try:
            loaded = CaseFile.model_validate(raw if isinstance(raw, dict) else {"cases": raw})
        except ValueError as exc:
            raise ValueError(f"{f}: {exc}") from exc
        for case in loaded.cases:
            if case.id in seen:
                raise ValueError(f"duplicate case id {case.id!r} in {f} and {seen[case.id]}")
            seen[case.id] = f
            cases.append(case)
    if not cases:
        raise ValueError(f"no cases found in {', '.join(map(str, files)) or paths}")
    return cases


def runnable(cases: list[Case], holds: set[str]) -> tuple[list[Case], list[Case]]:
    """The cases the store can answer, and those that need what it does not hold."""
    fits = [c for c in cases if set(c.needs) <= holds]
    return fits, [c for c in cases if c not in fits]


def select(cases: list[Case], only: Iterable[str] | None) -> list[Case]:
    """Cases whose id or category is in `only` (all when empty)."""
    wanted = {w for w in (only or []) if w}
    if not wanted:
        return cases
    picked = [c for c in cases if c.id in wanted or c.category in wanted]
    if not picked:
        raise ValueError(f"no case matches {sorted(wanted)}")
    return picked
