"""MCP Apps views: self-contained HTML pages a host that speaks the extension renders in a sandboxed
iframe beside a tool's result, drawn from its structured content. Built from views/ (npm, at build
time) and shipped in the package, so serving them needs neither npm nor the network."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class View:
    tool: str
    uri: str
    file: str
    title: str
    description: str

    def html(self) -> str:
        return resources.files(__package__).joinpath("ui", self.file).read_text(encoding="utf-8")


VIEWS = (
    View(
        tool="mlflow_get_metric_history",
        uri="ui://mlflow-feast-mcp/curves.html",
        file="curves.html",
        title="Metric curves",
        description="Interactive chart of mlflow_get_metric_history's curves: runs toggled, "
        "values on hover, log scale, min and max marked.",
    ),
    View(
        tool="mlflow_compare_runs",
        uri="ui://mlflow-feast-mcp/comparison.html",
        file="comparison.html",
        title="Run comparison",
        description="mlflow_compare_runs drawn: metric deltas as bars, params changed, features "
        "added and removed, importance shifts.",
    ),
)
VIEW_OF_TOOL = {view.tool: view for view in VIEWS}
