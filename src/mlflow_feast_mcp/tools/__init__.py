"""The tools, one module per concern, each a module-level function whose docstring is its
description. `TOOLSETS` is the catalogue: which tools a `--toolsets` name loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import (
    alignment,
    artifacts,
    explore,
    feast,
    feast_online,
    logged_models,
    predictions,
    registry,
    runs,
    validation,
)

TOOLSETS: dict[str, tuple[Callable[..., Any], ...]] = {
    "mlflow": runs.TOOLS + explore.TOOLS + logged_models.TOOLS + artifacts.TOOLS,
    "registry": registry.TOOLS,
    "feast": feast.TOOLS + feast_online.TOOLS,
    "checks": alignment.TOOLS + validation.TOOLS,
    "predictions": predictions.TOOLS,
}


def select_tools(toolsets: list[str] | None = None) -> list[Callable[..., Any]]:
    """The tools of the named sets in catalogue order (all of them when none are named)."""
    names = toolsets or list(TOOLSETS)
    unknown = [n for n in names if n not in TOOLSETS]
    if unknown:
        raise ValueError(f"unknown toolset(s) {', '.join(unknown)}; choose from {', '.join(TOOLSETS)}")
    return [tool for name, tools in TOOLSETS.items() if name in names for tool in tools]
