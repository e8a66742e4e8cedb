"""A metric over steps as a summary plus a bounded series: never thousands of raw points."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..backends.mlflow_models import MetricPoint as RawPoint
from ..core.answer import Answer
from ..core.formatting import iso_from_ms, round_number
from ..core.render import render


class MetricPoint(BaseModel):
    step: int
    value: float | int
    time: str | None = None


class MetricHistory(Answer):
    run_id: str
    metric: str
    points: int
    first: MetricPoint | None = None
    last: MetricPoint | None = None
    min: MetricPoint | None = None
    max: MetricPoint | None = None
    series: list[MetricPoint] = Field(
        description="downsampled; always holds the first, last, min and max points"
    )
    downsampled: bool = False

    def render_text(self) -> str:
        text = render(self.model_copy(update={"series": []}))
        return (
            text
            + "\nseries (step:value): "
            + ", ".join(f"{p.step}:{round_number(p.value)}" for p in self.series)
        )


def downsample(points: list[RawPoint], limit: int) -> tuple[list[int], bool]:
    """Indexes of at most `limit` evenly spaced points plus the first, last, min and max."""
    n = len(points)
    if n <= limit:
        return list(range(n)), False
    values = [p.value for p in points]
    keep = {0, n - 1, values.index(min(values)), values.index(max(values))}
    slots = max(limit - len(keep), 1)
    keep.update(round(i * (n - 1) / (slots - 1 or 1)) for i in range(slots))
    return sorted(keep)[: max(limit, 4)], True


def summarize_history(run_id: str, metric: str, raw: list[RawPoint], max_points: int) -> MetricHistory:
    raw = sorted(raw, key=lambda p: (p.step, p.timestamp or 0))
    values = [p.value for p in raw]

    def point(i: int, with_time: bool = True) -> MetricPoint:
        p = raw[i]
        return MetricPoint(
            step=p.step,
            value=round_number(values[i]),
            time=iso_from_ms(p.timestamp) if with_time else None,
        )

    keep, downsampled = downsample(raw, max_points)
    return MetricHistory(
        run_id=run_id,
        metric=metric,
        points=len(raw),
        first=point(0) if raw else None,
        last=point(len(raw) - 1) if raw else None,
        min=point(values.index(min(values))) if raw else None,
        max=point(values.index(max(values))) if raw else None,
        series=[point(i, with_time=False) for i in keep],
        downsampled=downsampled,
    )
