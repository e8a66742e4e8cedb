"""Reading a run's training curves: a validation curve that rose after its best point (overfitting,
with the step of the best value), a curve still improving at its last step (not converged), NaN or
infinite values, and a train/validation gap that widens. Each finding comes with the values that
decided it. Only metrics logged over several points are read; which way is better comes from the
name (loss, error... lower; accuracy, auc... higher), the split from its prefix or suffix."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from pydantic import BaseModel

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import MetricPoint, Run
from ..core.formatting import round_number
from ..core.render import scalar

FindingStatus = Literal["pass", "warn", "skipped"]
Evidence = str | int | float | bool | list[str] | None

MIN_POINTS = 5  # fewer points than this are not a curve
MAX_CURVES = 12  # metric histories read per run
FLOAT_MAX = 1.7976931348623157e308  # MLflow's SQL store saves +-inf as +-this
RISE_SHARE = 0.10  # overfitting: the rise after the best is over 10% of the improvement before it...
RISE_RELATIVE = 0.01  # ... and over 1% of the best value
TAIL_SHARE = 0.10  # convergence: the last 10% of the points...
TAIL_GAIN = 0.05  # ... still brought over 5% of the whole improvement
VAL_SETTLED = 0.9  # train/val gap: measured from where validation had made 90% of its improvement...
GAP_RATIO = 1.5  # ... to the end: over 1.5x the early gap...
GAP_SCALE = 0.02  # ... and grew by over 2% of the validation curve's scale

LOWER = re.compile(r"loss|error|err\b|mse|rmse|mae|mape|perplexity|nll", re.IGNORECASE)
HIGHER = re.compile(r"acc|auc|f1|precision|recall|r2|score|iou|dice|bleu|rouge|map\b|ndcg", re.IGNORECASE)
TRAIN = re.compile(r"^(train|training|trn)[_/.\-]|[_/.\-](train|training)$", re.IGNORECASE)
VALID = re.compile(
    r"^(val|valid|validation|eval|evaluation|dev|test|holdout)[_/.\-]|[_/.\-](val|valid|validation|eval|test)$",
    re.IGNORECASE,
)


class CurveFinding(BaseModel):  # one reading of the curves, shaped like a validation check
    name: str  # curve_values, overfitting, convergence, train_val_gap
    status: FindingStatus
    summary: str
    evidence: dict[str, Any] = {}  # the values that decided it (Evidence)


@dataclass
class Curve:
    key: str
    split: Literal["train", "val"] | None
    base: str  # the name without its split, to pair train_loss with val_loss
    lower_is_better: bool | None
    steps: list[int]
    values: list[float]  # finite values only, in step order
    nonfinite: list[int]  # steps of NaN / infinite values

    @property
    def oriented(self) -> list[float]:
        """Values turned so that lower is better."""
        return self.values if self.lower_is_better is not False else [-v for v in self.values]


def describe_key(key: str) -> tuple[Literal["train", "val"] | None, str, bool | None]:
    split: Literal["train", "val"] | None = None
    base = key
    if TRAIN.search(key):
        split, base = "train", TRAIN.sub("", key)
    elif VALID.search(key):
        split, base = "val", VALID.sub("", key)
    better = False if HIGHER.search(base) and not LOWER.search(base) else True if LOWER.search(base) else None
    return split, base.lower(), better


def is_candidate(key: str) -> bool:
    split, _, better = describe_key(key)
    return better is not None or (split is not None and not re.search(r"samples|count|time|size", key))


def curve_of(key: str, points: list[MetricPoint]) -> Curve | None:
    ordered = sorted(points, key=lambda p: (p.step, p.timestamp or 0))
    if len(ordered) < MIN_POINTS:
        return None
    finite = [math.isfinite(p.value) and abs(p.value) < FLOAT_MAX for p in ordered]
    good = [p for p, ok in zip(ordered, finite, strict=True) if ok]
    split, base, better = describe_key(key)
    return Curve(
        key=key,
        split=split,
        base=base,
        lower_is_better=better,
        steps=[p.step for p in good],
        values=[p.value for p in good],
        nonfinite=[p.step for p, ok in zip(ordered, finite, strict=True) if not ok],
    )


async def read_curves(api: MlflowApi, run: Run) -> list[Curve]:
    """The run's metrics that look like training curves, fetched concurrently."""
    keys = sorted(k for k in run.metrics if is_candidate(k))[:MAX_CURVES]
    histories: dict[str, list[MetricPoint]] = {}

    async def one(key: str) -> None:
        histories[key] = await api.get_metric_history(run.run_id, key)

    async with anyio.create_task_group() as tg:
        for key in keys:
            tg.start_soon(one, key)
    return [c for k in keys if (c := curve_of(k, histories.get(k, []))) is not None]


# ---- the readings -------------------------------------------------------------------------------


def smooth(values: list[float]) -> list[float]:
    """A centred moving mean over about 5% of the points: one noisy point decides nothing."""
    half, n = len(values) // 40, len(values)
    if not half:
        return list(values)
    sums = [0.0]
    for v in values:
        sums.append(sums[-1] + v)
    return [
        (sums[min(i + half + 1, n)] - sums[max(i - half, 0)]) / (min(i + half + 1, n) - max(i - half, 0))
        for i in range(n)
    ]


def _v(value: float) -> float | int | None:
    return round_number(value)


def overfit(curve: Curve) -> dict[str, Evidence] | None:
    """Evidence when a validation curve got worse after its best point, else None."""
    y = smooth(curve.oriented)
    if curve.split != "val" or curve.lower_is_better is None or len(y) < MIN_POINTS:
        return None
    best = min(range(len(y)), key=y.__getitem__)
    improvement, rise = y[0] - y[best], y[-1] - y[best]
    late = best >= len(y) - max(2, len(y) // 20)
    if late or improvement <= 0 or rise <= max(RISE_SHARE * improvement, RISE_RELATIVE * abs(y[best])):
        return None
    raw_best = min(range(len(y)), key=curve.oriented.__getitem__)
    return {
        "metric": curve.key,
        "best_step": curve.steps[raw_best],
        "best_value": _v(curve.values[raw_best]),
        "last_step": curve.steps[-1],
        "last_value": _v(curve.values[-1]),
        "worse_by": _v(abs(curve.values[-1] - curve.values[raw_best])),
        "share_of_improvement_lost": _v(rise / improvement),
    }


def still_improving(curve: Curve) -> dict[str, Evidence] | None:
    """Evidence when a curve was still getting better over its last points, else None."""
    y = smooth(curve.oriented)
    if curve.lower_is_better is None or len(y) < MIN_POINTS:
        return None
    tail = max(3, int(len(y) * TAIL_SHARE))
    total, gain = y[0] - min(y), y[-tail] - y[-1]
    at_best = y[-1] <= min(y) + 1e-12 + 0.01 * (max(y) - min(y))
    if total <= 0 or gain <= TAIL_GAIN * total or not at_best:
        return None
    return {
        "metric": curve.key,
        "from_step": curve.steps[-tail],
        "from_value": _v(curve.values[-tail]),
        "last_step": curve.steps[-1],
        "last_value": _v(curve.values[-1]),
        "share_of_improvement_in_tail": _v(gain / total),
    }


def widening_gap(train: Curve, val: Curve) -> dict[str, Evidence] | None:
    """Evidence when validation fell further behind training after it had made most of its gain
    (VAL_SETTLED of its improvement): from there on training gains that do not carry over widen
    the gap. Else None."""
    by_step = dict(zip(train.steps, train.oriented, strict=True))
    common = [(s, v) for s, v in zip(val.steps, val.oriented, strict=True) if s in by_step]
    if len(common) < 2 * MIN_POINTS or train.lower_is_better != val.lower_is_better:
        return None
    y = smooth([v for _, v in common])
    target = y[0] - VAL_SETTLED * (y[0] - min(y))
    settled = next(i for i, v in enumerate(y) if v <= target)
    n = len(common)
    tail = max(2, n // 10)
    if settled >= n - 2 * tail:  # validation was still improving to the end: nothing to compare
        return None
    gaps = smooth([v - by_step[s] for s, v in common])
    g_early, g_late = gaps[settled], sum(gaps[-tail:]) / tail
    scale = max(abs(v) for v in val.values) or 1.0
    if g_late <= GAP_RATIO * max(g_early, 0) or g_late - g_early <= GAP_SCALE * scale:
        return None
    return {
        "train_metric": train.key,
        "val_metric": val.key,
        "early_step": common[settled][0],
        "early_gap": _v(g_early),
        "last_step": common[-1][0],
        "late_gap": _v(g_late),
    }


# ---- the findings -------------------------------------------------------------------------------


def finding(name: str, hits: list[dict[str, Evidence]], warn: str, ok: str) -> CurveFinding:
    """A warn finding with the first hit's evidence (and the other hits named), or a pass."""
    if not hits:
        return CurveFinding(name=name, status="pass", summary=ok)
    evidence = dict(hits[0])
    if len(hits) > 1:
        evidence["also"] = [str(h.get("metric") or h.get("val_metric")) for h in hits[1:]]
    return CurveFinding(name=name, status="warn", summary=warn, evidence=evidence)


def values_finding(curves: list[Curve]) -> CurveFinding:
    bad = [c for c in curves if c.nonfinite]
    if not bad:
        return CurveFinding(
            name="curve_values", status="pass", summary=f"{len(curves)} curves, every value finite"
        )
    first = bad[0]
    summary = "; ".join(
        f"{scalar(c.key)} has {len(c.nonfinite)} NaN/inf values from step {c.nonfinite[0]}" for c in bad
    )
    evidence: dict[str, Evidence] = {
        "metric": first.key,
        "nonfinite_points": len(first.nonfinite),
        "first_step": first.nonfinite[0],
        "last_finite_step": first.steps[-1] if first.steps else None,
    }
    if len(bad) > 1:
        evidence["also"] = [c.key for c in bad[1:]]
    return CurveFinding(name="curve_values", status="warn", summary=summary, evidence=evidence)


def overfit_finding(curves: list[Curve]) -> CurveFinding:
    vals = sorted(
        (c for c in curves if c.split == "val" and c.lower_is_better is not None),
        key=lambda c: (c.lower_is_better is not True, c.key),  # losses first
    )
    if not vals:
        return CurveFinding(
            name="overfitting",
            status="skipped",
            summary="no validation curve (val_*, eval_*, test_* logged over steps)",
        )
    hits = [h for c in vals if (h := overfit(c))]
    trains = {c.base: c for c in curves if c.split == "train"}
    parts = []
    for h in hits:
        part = (
            f"{scalar(h['metric'])} was best at step {h['best_step']} ({scalar(h['best_value'])}) and got "
            f"worse to {scalar(h['last_value'])} at step {h['last_step']}"
        )
        train = trains.get(next(c.base for c in vals if c.key == h["metric"]))
        after = (
            [v for s, v in zip(train.steps, train.oriented, strict=True) if s >= h["best_step"]]
            if train
            else []
        )
        if train is not None and len(after) > 1 and after[-1] < after[0]:
            shown = [v for s, v in zip(train.steps, train.values, strict=True) if s >= h["best_step"]]
            part += f" while {scalar(train.key)} kept improving ({scalar(_v(shown[0]))} -> {scalar(_v(shown[-1]))})"
            h["train_metric"] = train.key
        parts.append(part)
    warn = "; ".join(parts) + ": overfitting; the model at the best step generalises better"
    ok = "validation curves end at or near their best: " + ", ".join(scalar(c.key) for c in vals)
    return finding("overfitting", hits, warn, ok)


def convergence_finding(curves: list[Curve], overfit_keys: set[str]) -> CurveFinding:
    directed = [c for c in curves if c.lower_is_better is not None and c.key not in overfit_keys]
    if not directed:
        return CurveFinding(name="convergence", status="skipped", summary="no loss or score curve to read")
    hits = [h for c in directed if (h := still_improving(c))]
    warn = "; ".join(
        f"{scalar(h['metric'])} still improving at its last step {h['last_step']} "
        f"({scalar(h['from_value'])} at step {h['from_step']} -> {scalar(h['last_value'])})"
        for h in hits
    )
    ok = "curves flattened before the end: " + ", ".join(scalar(c.key) for c in directed)
    return finding("convergence", hits, warn + ": not converged, more steps may help" if hits else "", ok)


def gap_finding(curves: list[Curve]) -> CurveFinding:
    trains = {
        (c.base, c.lower_is_better): c for c in curves if c.split == "train" and c.lower_is_better is not None
    }
    pairs = [
        (trains[(c.base, c.lower_is_better)], c)
        for c in curves
        if c.split == "val" and (c.base, c.lower_is_better) in trains
    ]
    if not pairs:
        return CurveFinding(
            name="train_val_gap",
            status="skipped",
            summary="no train/validation pair of curves (e.g. train_loss, val_loss)",
        )
    hits = [h for t, v in pairs if (h := widening_gap(t, v))]
    warn = "; ".join(
        f"the gap between {scalar(h['train_metric'])} and {scalar(h['val_metric'])} widened from "
        f"{scalar(h['early_gap'])} at step {h['early_step']} (validation 90% settled) to "
        f"{scalar(h['late_gap'])} at step {h['last_step']}"
        for h in hits
    )
    ok = "no widening gap: " + ", ".join(f"{scalar(t.key)}/{scalar(v.key)}" for t, v in pairs)
    return finding(
        "train_val_gap",
        hits,
        warn + ": the model fits training data ever better than unseen data" if hits else "",
        ok,
    )


def diagnose(curves: list[Curve]) -> list[CurveFinding]:
    """The four readings of a run's curves; none when the run logged no curve."""
    if not curves:
        return []
    overfitting = overfit_finding(curves)
    flagged = {str(overfitting.evidence.get("metric"))} | set(overfitting.evidence.get("also") or [])
    return [values_finding(curves), overfitting, convergence_finding(curves, flagged), gap_finding(curves)]


async def diagnose_run(api: MlflowApi, run: Run) -> list[CurveFinding]:
    return diagnose(await read_curves(api, run))
