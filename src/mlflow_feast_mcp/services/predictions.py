"""The seed's last validation step, "spot-check ml_dev.predictions": which batches the table holds for
a model, which versions and runs wrote them, whether the newest batch came from the version the
reference (default Production) resolves to now, and whether its values are sane against the writing
model's test metrics. MLflow answers the registry side; the table is read by `backends.predictions`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import anyio
from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import ModelVersion, Run
from ..backends.predictions import REQUIRED_COLUMNS, BatchStats, PredictionsStore, Snapshot, Writer, iso
from ..core.answer import Answer
from ..core.budget import fit
from ..core.errors import DomainError, InvalidArgument, quote
from ..core.formatting import clip, counted, round_number
from ..core.render import scalar, table
from .registry import all_versions, resolve_model_version
from .validation import Check, CheckStatus, ValidationReport, verdict_of

CONFIDENCE_GAP = 0.10  # mean winner probability this far from test_accuracy: calibration drifted
ONE_SIDED = 0.95  # more than this share of picks for one side (home or away) of a batch of 10+
_RELATIVE = re.compile(r"(\d{1,6})\s*([mhdw])", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RUN_ID = re.compile(r"[0-9a-f]{32}")


class ExpectedVersion(BaseModel):
    model_name: str
    ref: str
    version: int
    resolved_by: str
    run_id: str | None = None
    test_accuracy: float | None = None


class WriterRow(BaseModel):
    # a model version (and run) that wrote predictions, with its stage in the registry now
    model_version: str | None = None
    run_id: str | None = None
    stage: str | None = None  # and its aliases: 'Archived, @champion'
    batches: int
    rows: int
    first: str | None = None
    last: str | None = None


class BatchRow(BaseModel):
    created_at: str | None = None
    rows: int
    model_version: str | None = None
    run_id: str | None = None


class NewestBatch(BaseModel):
    created_at: str | None = None
    rows: int
    model_version: str | None = None
    run_id: str | None = None
    from_expected: bool  # written by the version the reference resolves to now
    probability_min: float | None = None
    probability_max: float | None = None
    probability_mean: float | None = None  # the mean winner probability: the expected accuracy
    writer_test_accuracy: float | None = None
    home_pick_share: float | None = None
    feature_services: list[str] = []


class PredictionsSpotCheck(Answer):
    verdict: str = Field(description="OK, STALE, CHECK or NO PREDICTIONS, with the reason")
    table: str
    database: str
    expected: ExpectedVersion
    window: str | None = None
    rows: int = 0
    batch_count: int = 0
    first_batch: str | None = None
    last_batch: str | None = None
    flags: list[str] = []
    newest: NewestBatch | None = None
    writers: list[WriterRow] = []
    batches: list[BatchRow] = []  # newest first
    nulls: dict[str, int] = {}  # column -> rows with NULL
    samples: list[dict[str, Any]] = []  # rows of the newest batch, by game_id
    truncated: bool = False
    hint: str | None = None

    def render_text(self) -> str:
        e = self.expected
        lines = [
            self.verdict,
            f"table: {self.table} in {self.database}",
            f"model: {scalar(e.model_name)} {scalar(e.ref)} = v{e.version} (by {e.resolved_by}), run "
            f"{scalar(e.run_id)}, test_accuracy {scalar(e.test_accuracy)}",
            f"scope: {counted(self.rows, 'row')} in {counted(self.batch_count, 'batch', plural='batches')}"
            + (f", {self.first_batch} .. {self.last_batch}" if self.rows else "")
            + (f"; window {self.window}" if self.window else ""),
        ]
        lines += [f"flag: {flag}" for flag in self.flags]
        if self.newest is not None:
            lines.append("newest batch: " + _newest_line(self.newest))
        if self.nulls:
            lines.append("nulls: " + ", ".join(f"{k}={v}" for k, v in self.nulls.items()))
        for title, rows in (
            (f"writers ({len(self.writers)}):", [w.model_dump(exclude_defaults=True) for w in self.writers]),
            (
                f"batches ({len(self.batches)} of {self.batch_count}, newest first):",
                [b.model_dump() for b in self.batches],
            ),
            (f"samples ({len(self.samples)}, newest batch):", self.samples),
        ):
            if rows:
                lines += [title, *table(rows, "  ")]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


def _newest_line(n: NewestBatch) -> str:
    parts = [
        f"{n.created_at}, {counted(n.rows, 'row')} from v{scalar(n.model_version)} run {scalar(n.run_id)}",
        f"probability {scalar(n.probability_min)}..{scalar(n.probability_max)} mean {scalar(n.probability_mean)}"
        + (f" vs writer's test_accuracy {scalar(n.writer_test_accuracy)}" if n.writer_test_accuracy else ""),
    ]
    if n.home_pick_share is not None:
        parts.append(f"home team picked in {round(n.home_pick_share * 100)}%")
    if n.feature_services:
        parts.append("features from " + ", ".join(scalar(f) for f in n.feature_services))
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Arguments


def parse_moment(value: str | None, name: str, now: datetime | None = None) -> datetime | None:
    """An ISO date or time (UTC unless it says otherwise), or a relative '24h', '7d', '2w' before now."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        return (now or datetime.now(timezone.utc)) - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"{name} must be an ISO date or time ('2025-04-12', '2025-04-12T18:00:00Z') or a span back "
            f"from now ('24h', '7d'), not {quote(value)}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def window_text(since: datetime | None, until: datetime | None) -> str | None:
    if since is None and until is None:
        return None
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return f"{since.strftime(fmt) if since else '...'} .. {until.strftime(fmt) if until else 'now'}"


# ---------------------------------------------------------------------------------------------
# The check


def _version_number(text: str | None) -> int | None:
    match = re.fullmatch(r"\s*v?(\d+)\s*", text or "", flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


async def expected_version(
    api: MlflowApi, model_name: str, ref: str
) -> tuple[ExpectedVersion, dict[int, list[str]]]:
    """The version `ref` resolves to now, and the model's aliases by version."""
    resolution, version, model = await resolve_model_version(api, model_name, ref)
    aliases: dict[int, list[str]] = {}
    for alias, number in model.aliases.items():
        aliases.setdefault(number, []).append(alias)
    expected = ExpectedVersion(
        model_name=model_name,
        ref=resolution.ref,
        version=resolution.version,
        resolved_by=resolution.resolved_by,
        run_id=version.run_id,
        test_accuracy=await run_test_accuracy(api, version.run_id),
    )
    return expected, aliases


async def run_test_accuracy(api: MlflowApi, run_id: str | None) -> float | None:
    """The run's test_accuracy, None when the run id is not one or the run is gone."""
    if not run_id or not _RUN_ID.fullmatch(run_id):
        return None
    try:
        run = await api.get_run(run_id)
    except MlflowMissing:
        return None
    return run.metrics.get("test_accuracy")


def _cell(value: Any) -> Any:
    """A sample value as JSON: times ISO, decimals as numbers, long text clipped."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round_number(value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return clip(value, 200)
    return value


def _newest(
    snap: Snapshot, stats: BatchStats, expected: ExpectedVersion, accuracy: float | None
) -> NewestBatch:
    batch = snap.batches[0]
    same_version = _version_number(batch.model_version) == expected.version
    same_run = not expected.run_id or batch.run_id == expected.run_id
    return NewestBatch(
        created_at=batch.created_at,
        rows=stats.rows,
        model_version=batch.model_version,
        run_id=batch.run_id,
        from_expected=same_version and same_run,
        probability_min=round_number(stats.probability_min),
        probability_max=round_number(stats.probability_max),
        probability_mean=round_number(stats.probability_mean),
        writer_test_accuracy=accuracy,
        home_pick_share=round_number(stats.home_picks / stats.rows)
        if stats.home_picks is not None and stats.rows
        else None,
        feature_services=stats.feature_services,
    )


def flags_of(
    newest: NewestBatch, stats: BatchStats, expected: ExpectedVersion, nulls: dict[str, int]
) -> list[str]:
    """What a reviewer should look at, most important first."""
    flags: list[str] = []
    e = expected
    if not newest.from_expected:
        flags.append(
            f"STALE: the newest batch came from v{scalar(newest.model_version)} (run {scalar(newest.run_id)}), "
            f"but {scalar(e.ref)} is v{e.version} (run {scalar(e.run_id)}) now: re-run generate_game_predictions"
        )
    required = {k: v for k, v in nulls.items() if k in REQUIRED_COLUMNS}
    if required:
        flags.append(
            "NULLs in required columns: " + ", ".join(f"{k} ({v} rows)" for k, v in required.items())
        )
    if stats.out_of_range:
        flags.append(f"{counted(stats.out_of_range, 'probability', plural='probabilities')} outside [0, 1]")
    if stats.below_half:
        flags.append(
            f"{counted(stats.below_half, 'probability', plural='probabilities')} below 0.5: the column should "
            "hold the predicted winner's probability"
        )
    mean, accuracy = stats.probability_mean, newest.writer_test_accuracy
    if mean is not None and accuracy is not None and abs(mean - accuracy) > CONFIDENCE_GAP:
        flags.append(
            f"mean probability {round_number(mean)} is far from the writer's test_accuracy {accuracy}: "
            "the model is over- or under-confident on these games"
        )
    share = newest.home_pick_share
    if share is not None and stats.rows >= 10 and max(share, 1 - share) > ONE_SIDED:
        flags.append(f"one-sided picks: the home team in {round(share * 100)}% of {stats.rows} games")
    return flags


def verdict_line(snap: Snapshot, expected: ExpectedVersion, flags: list[str], window: str | None) -> str:
    e = expected
    if not snap.rows:
        scope = f" in the window {window}" if window else ""
        others = ", ".join(f"{scalar(k)} ({v} rows)" for k, v in snap.other_models.items())
        return (
            f"NO PREDICTIONS: {snap.table} holds no rows of model {scalar(e.model_name)}{scope}"
            + (f" (it holds {others})" if others else "")
            + "; run generate_game_predictions (it writes one batch per run)"
        )
    newest = snap.batches[0]
    head = f"the newest batch ({newest.created_at}, {counted(newest.rows, 'row')})"
    if flags and flags[0].startswith("STALE"):
        return f"STALE: {head} came from v{scalar(newest.model_version)}, not {scalar(e.ref)} v{e.version}"
    if flags:
        return f"CHECK: {head} came from {scalar(e.ref)} v{e.version}; {counted(len(flags), 'flag')} below"
    return f"OK: {head} came from {scalar(e.ref)} v{e.version}; values sane"


async def spot_check(
    api: MlflowApi,
    snap: Snapshot,
    expected: ExpectedVersion,
    aliases: dict[int, list[str]],
    window: str | None,
    budget: int,
) -> PredictionsSpotCheck:
    """The answer from the table's snapshot and the registry's state now."""
    stages = {v.version: v for v in await all_versions(api, expected.model_name)} if snap.rows else {}
    writers = [_writer(w, stages, aliases) for w in snap.writers]
    newest, flags = None, []
    if snap.newest is not None and snap.batches:
        batch = snap.batches[0]
        accuracy = expected.test_accuracy
        if batch.run_id != expected.run_id:
            accuracy = await run_test_accuracy(api, batch.run_id)
        newest = _newest(snap, snap.newest, expected, accuracy)
        flags = flags_of(newest, snap.newest, expected, snap.nulls)
    answer = PredictionsSpotCheck(
        verdict=verdict_line(snap, expected, flags, window),
        table=snap.table,
        database=snap.database,
        expected=expected,
        window=window,
        rows=snap.rows,
        batch_count=snap.batch_count,
        first_batch=snap.first_batch,
        last_batch=snap.last_batch,
        flags=flags,
        newest=newest,
        writers=writers,
        batches=[
            BatchRow(created_at=b.created_at, rows=b.rows, model_version=b.model_version, run_id=b.run_id)
            for b in snap.batches
        ]
        if snap.batch_count > 1
        else [],
        nulls=snap.nulls,
        samples=[{k: _cell(v) for k, v in row.items()} for row in snap.samples],
    )
    return fit_spot_check(answer, snap.batch_count, budget)


def _writer(writer: Writer, versions: dict[int, ModelVersion], aliases: dict[int, list[str]]) -> WriterRow:
    number = _version_number(writer.model_version)
    registered = versions.get(number) if number is not None else None
    stage = "not registered"
    if registered is not None:
        stage = ", ".join([registered.stage, *(f"@{a}" for a in sorted(aliases.get(registered.version, [])))])
    return WriterRow(
        model_version=writer.model_version,
        run_id=writer.run_id,
        stage=stage,
        batches=writer.batches,
        rows=writer.rows,
        first=writer.first,
        last=writer.last,
    )


def fit_spot_check(answer: PredictionsSpotCheck, batch_count: int, budget: int) -> PredictionsSpotCheck:
    """Within the budget: fewer batches listed first, then fewer samples and writers."""
    batches, samples, writers = answer.batches, answer.samples, answer.writers
    more = batch_count > len(batches)

    def build(n: int) -> PredictionsSpotCheck:
        cut = n < len(batches)
        return answer.model_copy(
            update={
                "batches": batches[:n],
                "samples": samples[: max(1, min(len(samples), n))] if cut else samples,
                "writers": writers[: max(5, n)] if cut else writers,
                "truncated": cut,
                "hint": _hint(cut or more),
            }
        )

    return fit(build, len(batches), budget) if batches else answer


def _hint(more: bool) -> str | None:
    if not more:
        return None
    return "older batches not listed: narrow with since/until (e.g. until='2025-04-01') or raise max_batches"


@dataclass(frozen=True)
class SpotCheckQuery:
    model_name: str
    ref: str = "Production"
    since: datetime | None = None
    until: datetime | None = None
    max_batches: int = 10
    sample_rows: int = 5


async def run_spot_check(
    api: MlflowApi, store: PredictionsStore, query: SpotCheckQuery, budget: int
) -> PredictionsSpotCheck:
    """Resolve the reference in MLflow, read the table (in a worker thread), answer."""
    expected, aliases = await expected_version(api, query.model_name, query.ref)
    q = query
    snap = await anyio.to_thread.run_sync(
        store.snapshot, q.model_name, q.since, q.until, q.max_batches, q.sample_rows
    )
    return await spot_check(api, snap, expected, aliases, window_text(q.since, q.until), budget)


# ---------------------------------------------------------------------------------------------
# As a step of validate_training_run


async def predictions_step(
    api: MlflowApi, store: PredictionsStore, run: Run, model_name: str, budget: int
) -> Check:
    """validate_training_run's optional step: the spot-check against Production, judged for `run`."""
    try:
        answer = await run_spot_check(
            api, store, SpotCheckQuery(model_name, sample_rows=0, max_batches=3), budget
        )
    except DomainError as exc:
        return skipped_predictions(f"predictions not checked: {exc}")
    return predictions_check(answer, run)


def predictions_check(answer: PredictionsSpotCheck, run: Run) -> Check:
    """The spot-check as the checklist's optional predictions step, judged for `run`."""
    n = answer.newest
    evidence: dict[str, Any] = {"verdict": answer.verdict, "table": answer.table, "flags": answer.flags[:10]}
    if n is None:
        return Check(name="predictions", status="warn", summary=clip(answer.verdict, 400), evidence=evidence)
    evidence |= {
        "newest_batch": n.created_at,
        "newest_run_id": n.run_id,
        "newest_model_version": n.model_version,
    }
    by_this_run = n.run_id == run.run_id
    value_flags = [f for f in answer.flags if not f.startswith("STALE")]
    status: CheckStatus = "pass" if by_this_run and not value_flags else "warn"
    if any(f.startswith("NULLs") or "outside [0, 1]" in f for f in value_flags):
        status = "fail"
    e = answer.expected
    who = "this run's model" if by_this_run else f"run {scalar(n.run_id)}, not this run"
    state = f"{scalar(e.ref)} now" if n.from_expected else f"STALE: {scalar(e.ref)} is v{e.version}"
    summary = (
        f"newest batch {n.created_at} ({counted(n.rows, 'row')}) came from v{scalar(n.model_version)} "
        f"({who}; {state})"
    )
    if value_flags:
        summary += "; " + "; ".join(value_flags[:2])
    return Check(name="predictions", status=status, summary=clip(summary, 600), evidence=evidence)


def skipped_predictions(reason: str) -> Check:
    return Check(name="predictions", status="skipped", summary=clip(reason, 400))


def with_check(report: ValidationReport, check: Check) -> ValidationReport:
    """The report with one more check and its verdict recomputed."""
    checks = [*report.checks, check]
    verdict, passed = verdict_of(checks)
    return report.model_copy(update={"checks": checks, "verdict": verdict, "passed": passed})
