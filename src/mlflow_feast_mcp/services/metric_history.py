"""Metric curves: several keys of several runs in one answer, under one point budget shared fairly.
Each series is summarised (first, last, min, max with their steps) and downsampled so its shape
survives (the min and max of every bucket are kept); pairs with no data are listed as `missing`.
The structured content is drawable as it stands: the columns `x` and `y` of each series."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import anyio
from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import MetricPoint as RawPoint
from ..backends.mlflow_models import Run
from ..core.answer import Answer
from ..core.budget import fit
from ..core.errors import DomainError, InvalidArgument, NotFound, closest, not_found, quote
from ..core.formatting import iso_from_ms, round_number
from ..core.render import scalar
from .mlflow_lookup import resolve_experiment, resolve_run
from .registry import looks_like_model_ref, parse_model_ref, source_run_of_version

XAxis = Literal["step", "timestamp"]
MIN_SHARE = 4  # every series keeps at least its first, last, min and max
FLOAT_MAX = 1.7976931348623157e308  # MLflow's SQL store saves +-inf as +-this


class Extremum(BaseModel):
    step: int
    value: float | int | None = Field(None, description="absent if NaN/inf")
    time: str | None = None


class Series(BaseModel):  # one metric of one run: its summary and a downsampled curve
    run_id: str
    run_name: str | None = None
    label: str | None = Field(None, description="model version asked for")
    key: str
    count: int = Field(description="points logged (in the step window)")
    first: Extremum
    last: Extremum
    min: Extremum | None = None
    max: Extremum | None = None
    nonfinite: int = Field(0, description="NaN/inf points")
    x: list[float | int] = Field(description="the downsampled curve's x (per x_axis); NaN/inf left out")
    y: list[float | int] = Field(description="its values, one per x")
    downsampled: bool = False


class MissingSeries(BaseModel):
    run_id: str
    run_name: str | None = None
    key: str
    reason: str


class MetricCurves(Answer):
    x_axis: XAxis
    min_step: int | None = None
    max_step: int | None = None
    point_budget: int
    points_returned: int
    series: list[Series]
    missing: list[MissingSeries] = []
    notes: list[str] = []
    truncated: bool = False
    hint: str | None = None

    def concise(self) -> MetricCurves:
        """The curves as the text tells them: first and last points without their wall-clock times."""
        untimed = {"time": None}
        return self.model_copy(
            update={
                "series": [
                    s.model_copy(
                        update={
                            "first": s.first.model_copy(update=untimed),
                            "last": s.last.model_copy(update=untimed),
                        }
                    )
                    for s in self.series
                ]
            }
        )

    def render_text(self) -> str:
        window = ""
        if self.min_step is not None or self.max_step is not None:
            end = self.max_step if self.max_step is not None else "end"
            window = f", steps {self.min_step if self.min_step is not None else 0}-{end}"
        x = "step" if self.x_axis == "step" else "seconds since the run's first point"
        lines = [
            f"{len(self.series)} series, x = {x}{window}; "
            f"{self.points_returned} points of a {self.point_budget}-point budget"
        ]
        run_of: str | None = None
        for s in self.series:
            if s.run_id != run_of:
                run_of = s.run_id
                label = f" = {scalar(s.label)}" if s.label else ""
                lines.append(f"run {scalar(s.run_name)} ({s.run_id}){label}:")
            lines.append("  " + series_line(s, self.x_axis))
        lines += [
            f"missing: run {scalar(m.run_name)} ({m.run_id}) {scalar(m.key)}: {m.reason}"
            for m in self.missing
        ]
        lines += [f"note: {n}" for n in self.notes]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


def series_line(s: Series, x_axis: XAxis) -> str:
    def at(e: Extremum | None) -> str:
        if e is None:
            return "-"
        return f"{scalar(e.value) if e.value is not None else 'NaN/inf'}@{e.step}"

    bad = f", {s.nonfinite} NaN/inf" if s.nonfinite else ""
    head = (
        f"{scalar(s.key)}: {s.count} points{bad}; first {at(s.first)}, last {at(s.last)}, "
        f"min {at(s.min)}, max {at(s.max)}"
    )
    sep = ":" if x_axis == "step" else "s:"
    # Points are numbers this module rounded (never stored strings): plain str() is enough, and fast.
    return head + "; (x:y) " + " ".join(f"{x}{sep}{y}" for x, y in zip(s.x, s.y, strict=True))


# ---- the arithmetic: finite values, fair shares, shape-keeping downsampling -----------------------


def finite(value: float) -> bool:
    return math.isfinite(value) and abs(value) < FLOAT_MAX


def clean(value: float) -> float | int | None:
    return round_number(value) if finite(value) else None


def fair_shares(counts: Sequence[int], budget: int) -> list[int]:
    """Split `budget` points over series of `counts` points: short series take what they have, the
    rest is shared evenly among the long ones (water filling); every series keeps MIN_SHARE."""
    shares = [min(c, MIN_SHARE) for c in counts]
    left = max(budget - sum(shares), 0)
    open_ = [i for i, c in enumerate(counts) if c > shares[i]]
    while left and open_:
        each = max(left // len(open_), 1)
        for i in list(open_):
            grant = min(each, counts[i] - shares[i], left)
            shares[i] += grant
            left -= grant
            if shares[i] == counts[i]:
                open_.remove(i)
            if not left:
                break
    return shares


def downsample(xs: Sequence[float], ys: Sequence[float], limit: int) -> list[int]:
    """At most `limit` indexes that keep the curve's shape (largest-triangle-three-buckets: one point
    per bucket, the one that bends the line most), the first and last point, and the lowest and
    highest value (each replaces the pick of its bucket)."""
    n = len(xs)
    if n <= limit:
        return list(range(n))
    buckets = limit - 2
    width = (n - 2) / buckets
    bounds = [(1 + int(b * width), 1 + int((b + 1) * width)) for b in range(buckets)]
    picks, a = [], 0
    for b, (lo, hi) in enumerate(bounds):
        nlo, nhi = bounds[b + 1] if b + 1 < buckets else (n - 1, n)
        ax, ay = xs[a], ys[a]
        mx, my = sum(xs[nlo:nhi]) / (nhi - nlo), sum(ys[nlo:nhi]) / (nhi - nlo)
        a = max(
            range(lo, max(hi, lo + 1)), key=lambda j: abs((ax - mx) * (ys[j] - ay) - (ax - xs[j]) * (my - ay))
        )
        picks.append(a)
    extra = []
    for extreme in (min(range(n), key=ys.__getitem__), max(range(n), key=ys.__getitem__)):
        b = min(int((extreme - 1) / width), buckets - 1)
        if 0 < extreme < n - 1 and extreme not in picks:
            if picks[b] in extra:  # both extremes in one bucket: keep both, one point over
                extra.append(extreme)
            else:
                picks[b] = extreme
                extra.append(extreme)
    return sorted({0, n - 1, *picks, *extra})


# ---- one series -------------------------------------------------------------------------------------


@dataclass
class Curve:
    """A fetched run/metric pair, sorted by step, inside the step window."""

    run: Run
    key: str
    points: list[RawPoint]
    label: str | None = None


def summarize(curve: Curve, share: int, x_axis: XAxis, t0: int | None) -> Series:
    pts = curve.points
    values = [p.value for p in pts]
    good = [i for i, v in enumerate(values) if finite(v)]

    def extremum(i: int, with_time: bool = False) -> Extremum:
        p = pts[i]
        return Extremum(
            step=p.step, value=clean(p.value), time=iso_from_ms(p.timestamp) if with_time else None
        )

    def x_of(p: RawPoint) -> float | int:
        if x_axis == "step":
            return p.step
        return round_number(((p.timestamp or 0) - (t0 or 0)) / 1000) or 0

    xs = [float(x_of(pts[i])) for i in good]
    keep = [good[j] for j in downsample(xs, [values[i] for i in good], share)]  # NaN/inf: counted, not drawn
    return Series(
        run_id=curve.run.run_id,
        run_name=curve.run.run_name,
        label=curve.label,
        key=curve.key,
        count=len(pts),
        first=extremum(0, True),
        last=extremum(len(pts) - 1, True),
        min=extremum(min(good, key=values.__getitem__)) if good else None,
        max=extremum(max(good, key=values.__getitem__)) if good else None,
        nonfinite=len(pts) - len(good),
        x=[x_of(pts[i]) for i in keep],
        y=[round_number(values[i]) or 0 for i in keep],  # finite: never None
        downsampled=len(keep) < len(good),
    )


def in_window(points: list[RawPoint], min_step: int | None, max_step: int | None) -> list[RawPoint]:
    lo = min_step if min_step is not None else -math.inf
    hi = max_step if max_step is not None else math.inf
    return sorted((p for p in points if lo <= p.step <= hi), key=lambda p: (p.step, p.timestamp or 0))


# ---- the answer ---------------------------------------------------------------------------------


async def fetch_curves(
    api: MlflowApi,
    runs: list[tuple[Run, str | None]],
    keys: list[str],
    min_step: int | None,
    max_step: int | None,
) -> tuple[list[Curve], list[MissingSeries]]:
    """Every run/key pair the run logged, fetched concurrently (at most 8 at a time)."""
    pairs = [(run, label, key) for run, label in runs for key in keys]
    found: dict[int, list[RawPoint]] = {}
    limiter = anyio.CapacityLimiter(8)

    async def one(i: int, run: Run, key: str) -> None:
        async with limiter:
            found[i] = await api.get_metric_history(run.run_id, key)

    async with anyio.create_task_group() as tg:
        for i, (run, _, key) in enumerate(pairs):
            if key in run.metrics:
                tg.start_soon(one, i, run, key)
    curves, missing = [], []
    for i, (run, label, key) in enumerate(pairs):
        if key not in run.metrics:
            missing.append(
                MissingSeries(run_id=run.run_id, run_name=run.run_name, key=key, reason="not logged")
            )
            continue
        points = in_window(found.get(i, []), min_step, max_step)
        if points:
            curves.append(Curve(run=run, key=key, points=points, label=label))
        else:
            why = "no points in the step window" if found.get(i) else "no points"
            missing.append(MissingSeries(run_id=run.run_id, run_name=run.run_name, key=key, reason=why))
    return curves, missing


def unknown_key_notes(runs: list[Run], keys: list[str]) -> list[str]:
    """For each key no run logged: the closest keys they did log."""
    logged = sorted({k for run in runs for k in run.metrics})
    notes = []
    for key in keys:
        if not any(key in run.metrics for run in runs):
            near = closest(key, logged)
            notes.append(
                f"no run here logged {quote(key)}"
                + (f"; did you mean {' or '.join(quote(k) for k in near)}?" if near else "")
            )
    return notes


def build_curves(
    curves: list[Curve],
    missing: list[MissingSeries],
    notes: list[str],
    budget_points: int,
    x_axis: XAxis,
    window: tuple[int | None, int | None],
    response_budget: int,
) -> MetricCurves:
    """The answer with the point budget shared fairly, shrunk further if the text would not fit."""
    t0: dict[str, int] = {}
    for c in curves:
        stamps = [p.timestamp for p in c.points if p.timestamp]
        if stamps:
            t0[c.run.run_id] = min(t0.get(c.run.run_id, stamps[0]), min(stamps))
    counts = [len(c.points) for c in curves]

    def make(points: int) -> MetricCurves:
        shares = fair_shares(counts, points)
        series = [summarize(c, s, x_axis, t0.get(c.run.run_id)) for c, s in zip(curves, shares, strict=True)]
        cut = points < budget_points
        return MetricCurves(
            x_axis=x_axis,
            min_step=window[0],
            max_step=window[1],
            point_budget=budget_points,
            points_returned=sum(len(s.x) for s in series),
            series=series,
            missing=missing,
            notes=notes,
            truncated=cut,
            hint=(
                f"Cut to {points} points to fit the response budget; ask for fewer runs or keys, or a "
                "step window (steps='100-500'), for more detail."
                if cut
                else None
            ),
        )

    full = make(budget_points)
    if full.size() <= response_budget:
        return full
    # Points cost about the same each: start the search near the count that fits.
    guess = max(int(budget_points * response_budget / full.size() * 0.95), 1)
    return fit(make, guess, response_budget)


def check_keys(keys: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(k.strip() for k in keys if k and k.strip()))
    if not cleaned:
        raise InvalidArgument("metric_keys is empty. Pass metric names, e.g. ['train_loss', 'val_loss'].")
    return cleaned


def no_series_error(
    runs: list[Run], keys: list[str], missing: list[MissingSeries], window: tuple[int | None, int | None]
) -> DomainError:
    """Nothing to draw: the closest logged metric names, or the step window that left nothing."""
    logged = sorted({k for run in runs for k in run.metrics})
    if any(m.reason != "not logged" for m in missing):
        span = f"{window[0] if window[0] is not None else 0}-{window[1] if window[1] is not None else 'end'}"
        return NotFound(
            f"No points of {', '.join(scalar(k) for k in keys)} in steps {span}: "
            + "; ".join(f"{scalar(m.run_name)} {scalar(m.key)}: {m.reason}" for m in missing[:5])
            + ". Widen or drop the steps window."
        )
    where = f"run {runs[0].run_id}" if len(runs) == 1 else f"any of these {len(runs)} runs"
    return not_found(
        f"metric in {where}",
        keys[0] if len(keys) == 1 else ", ".join(keys),
        logged,
        "Metrics logged: " + (", ".join(scalar(k) for k in logged[:40]) or "none") + ".",
    )


# ---- which runs -----------------------------------------------------------------------------------

NEWEST_SCAN = 200  # runs looked through for the newest ones that logged the keys


async def curve_runs(
    api: MlflowApi,
    refs: list[str] | None,
    keys: list[str],
    experiment: str,
    last_runs: int,
    default_model: str,
) -> list[tuple[Run, str | None]]:
    """The runs asked for (ids, names, 'latest', model versions by their training run), or the
    newest `last_runs` runs of the experiment, children included, that logged any of `keys`."""
    if refs:
        chosen: dict[str, tuple[Run, str | None]] = {}
        for ref in refs:
            if looks_like_model_ref(ref):
                run, label = await source_run_of_version(api, *parse_model_ref(ref, default_model))
                chosen.setdefault(run.run_id, (run, label))
            else:
                run = await resolve_run(api, ref, experiment)
                chosen.setdefault(run.run_id, (run, None))
        return list(chosen.values())
    exp = await resolve_experiment(api, experiment)
    rows, _ = await api.search_runs(
        [exp.experiment_id], "", ["attributes.start_time DESC"], NEWEST_SCAN, None, "ACTIVE_ONLY"
    )
    picked = [r for r in rows if any(k in r.metrics for k in keys)][:last_runs]
    if not picked:
        logged = sorted({k for r in rows for k in r.metrics})
        raise not_found(
            f"metric in the newest {len(rows)} runs of '{exp.name}'",
            ", ".join(keys),
            logged,
            "Metrics logged: " + (", ".join(logged[:40]) or "none") + ".",
        )
    return [(r, None) for r in picked]


async def metric_curves(
    api: MlflowApi,
    runs: list[tuple[Run, str | None]],
    keys: list[str],
    x_axis: XAxis,
    window: tuple[int | None, int | None],
    max_points: int,
    response_budget: int,
) -> MetricCurves:
    if window[0] is not None and window[1] is not None and window[0] > window[1]:
        raise InvalidArgument(f"the steps window starts at {window[0]}, after its end {window[1]}.")
    curves, missing = await fetch_curves(api, runs, keys, *window)
    plain = [run for run, _ in runs]
    if not curves:
        raise no_series_error(plain, keys, missing, window)
    return build_curves(
        curves, missing, unknown_key_notes(plain, keys), max_points, x_axis, window, response_budget
    )


def step_window(steps: str | None) -> tuple[int | None, int | None]:
    """'100-500', '100-', '-500' or '300' as (first, last) step; None: every step."""
    if steps is None or not steps.strip():
        return None, None
    text = steps.strip()
    match = re.fullmatch(r"(\d*)\s*(?:-|\.\.|:)\s*(\d*)|(\d+)", text)
    if not match or not any(match.groups()):
        raise InvalidArgument(
            f"steps {quote(text)} is not a step window; pass e.g. '100-500', '100-' or '-500'."
        )
    if match.group(3):
        return int(match.group(3)), int(match.group(3))
    first, last = (int(g) if g else None for g in match.groups()[:2])
    return first, last
