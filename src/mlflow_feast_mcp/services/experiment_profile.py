"""One experiment at a glance, before any query is written: how many runs in which status, over which
time span, top-level or children of which sweeps; which param, metric and tag keys the runs carry,
how many runs carry each, with its range or most common values; which registered models were made
from its runs; its description. Read from the newest runs (a bounded sample, said so when the
experiment holds more). The same key index checks a search filter that matched nothing: a key no
run logs is named, with the closest keys that do exist."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

import anyio
from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Experiment, ModelVersion, Run
from ..core.answer import Answer
from ..core.budget import fit
from ..core.errors import InvalidArgument, closest, quote
from ..core.formatting import clip, counted, iso_from_ms, parse_number, round_number
from ..core.render import scalar
from .mlflow_lookup import resolve_experiment
from .runs import FEATURE_PART

DEFAULT_SAMPLE = 1000
PAGE = 1000  # runs per MLflow search page while sampling
CHECK_SAMPLE = 500  # runs read to check a filter's keys (only when it matched nothing)
PARENT_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"
# Run tags that repeat what the answer says elsewhere (names, parents) or are bulky JSON.
QUIET_TAGS = frozenset({"mlflow.runName", PARENT_TAG, "mlflow.log-model.history", NOTE_TAG})
VALUE_CHARS = 60  # a most-common value is shown up to this long
CONCISE_KEYS = (25, 25, 10)  # params, metrics, run tags listed in concise answers
SWEEPS_SHOWN = 10
FLOAT_MAX = 1.7976931348623157e308  # MLflow's SQL store saves +-inf as +-this


class KeyStat(BaseModel):  # one param, metric or tag key over the runs read
    runs: int = Field(description="runs carrying it")
    min: float | int | None = None
    max: float | int | None = None
    distinct: int | None = None
    top: dict[str, int] = Field({}, description="most common values: runs")


class RunCounts(BaseModel):
    total: int | None = Field(None, description="active runs, when all were read")
    total_at_least: int | None = None
    read: int = Field(description="newest runs read")
    by_status: dict[str, int]
    top_level: int
    child: int
    first_start: str | None = None
    last_start: str | None = None


class Sweep(BaseModel):
    parent: str | None = None
    parent_run_id: str
    children: int


class ModelFed(BaseModel):
    name: str
    versions: list[int]


class ExperimentProfile(Answer):
    experiment: str
    experiment_id: str
    lifecycle_stage: str | None = None
    created: str | None = None
    description: str | None = None
    tags: dict[str, str] = {}
    runs: RunCounts
    sweeps: list[Sweep] = Field([], description="parents of child runs")
    param_key_count: int = 0
    metric_key_count: int = 0
    tag_key_count: int = 0
    params: dict[str, KeyStat] = Field({}, description="key -> its statistics, the most carried first")
    metrics: dict[str, KeyStat] = {}
    run_tags: dict[str, KeyStat] = {}
    models: list[ModelFed] = Field([], description="registry versions made from its runs")
    notes: list[str] = []
    truncated: bool = False
    hint: str | None = None

    def render_text(self) -> str:
        r = self.runs
        head = f"experiment {scalar(self.experiment)} (id {self.experiment_id})"
        head += f", {self.lifecycle_stage}" if self.lifecycle_stage else ""
        head += f", created {self.created}" if self.created else ""
        lines = [head]
        if self.description:
            lines.append(f"description: {scalar(self.description)}")
        if self.tags:
            lines.append("tags: " + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in self.tags.items()))
        lines.append(runs_line(r))
        if self.sweeps:
            lines.append(
                "parents of child runs: "
                + ", ".join(
                    f"{scalar(s.parent or s.parent_run_id)} ({counted(s.children, 'child', plural='children')})"
                    for s in self.sweeps
                )
            )
        for title, stats, count in (
            ("params", self.params, self.param_key_count),
            ("metrics", self.metrics, self.metric_key_count),
            ("run tags", self.run_tags, self.tag_key_count),
        ):
            if count:
                shown = f", {len(stats)} shown" if len(stats) < count else ""
                lines.append(
                    f"{title} ({counted(count, 'key')}{shown}; runs carrying each, range or top values):"
                )
                lines += ["  " + stat_line(k, s) for k, s in stats.items()]
        if self.models:
            lines.append(
                "models made from its runs: "
                + "; ".join(
                    f"{scalar(m.name)} " + ", ".join(f"v{v}" for v in m.versions) for m in self.models
                )
            )
        lines += [f"note: {n}" for n in self.notes]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


def runs_line(r: RunCounts) -> str:
    if r.total is not None:
        size = f"{counted(r.total, 'run')} (all read)"
    else:
        size = f"at least {r.total_at_least} runs (the newest {r.read} read)"
    status = ", ".join(f"{k} {v}" for k, v in r.by_status.items()) or "none"
    span = f"; started {r.first_start} .. {r.last_start}" if r.first_start else ""
    return f"runs: {size}: {status}; {r.top_level} top-level, {r.child} child{span}"


def stat_line(key: str, s: KeyStat) -> str:
    parts = [counted(s.runs, "run")]
    if s.min is not None:
        parts.append(f"{scalar(s.min)}..{scalar(s.max)}" if s.min != s.max else scalar(s.min))
    if s.top:
        parts.append(", ".join(f"{scalar(v)} x{n}" for v, n in s.top.items()))
    if s.distinct is not None and s.distinct > len(s.top):
        parts.append(f"{s.distinct} distinct")
    return f"{scalar(key)}: " + ", ".join(parts)


# ---- statistics --------------------------------------------------------------------------------


Stats = list[tuple[str, KeyStat]]


def key_stats(per_run: Iterable[Mapping[str, str | float]], top: int, distinct: bool) -> Stats:
    """Per key: how many runs carry it, the numeric range, the distinct count and the top values."""
    values: dict[str, list[str | float]] = {}
    for mapping in per_run:
        for key, value in mapping.items():
            values.setdefault(key, []).append(value)
    stats = ((k, key_stat(v, top, distinct)) for k, v in values.items())
    return sorted(stats, key=lambda item: (-item[1].runs, item[0]))


def key_stat(values: list[str | float], top: int, distinct: bool) -> KeyStat:
    numbers = [v if isinstance(v, float) else parse_number(v) for v in values]
    numeric = all(n is not None for n in numbers)
    finite = [n for n in numbers if n is not None and math.isfinite(n) and abs(n) < FLOAT_MAX]
    counts = Counter(str(v) for v in values)
    repeated = counts.most_common(1)[0][1] > 1  # all-distinct numbers say nothing a range does not
    few = len(counts) <= top
    short = max(map(len, counts)) <= VALUE_CHARS
    show_top = distinct and short and (repeated and few if numeric else few or repeated)
    ranged = numeric and finite and not (show_top and len(counts) == 1)  # one value: its top says it
    return KeyStat(
        runs=len(values),
        min=round_number(min(finite)) if ranged else None,
        max=round_number(max(finite)) if ranged else None,
        distinct=len(counts) if distinct else None,
        top=dict(counts.most_common(top)) if show_top else {},
    )


def folded_params(run: Run) -> dict[str, str]:
    """A run's params with the features_part0..N chunks counted as one key."""
    params = {k: v for k, v in run.params.items() if not FEATURE_PART.match(k)}
    parts = [k for k in run.params if FEATURE_PART.match(k)]
    if parts:
        params["features_part*"] = f"{len(parts)} parts"
    return params


def run_counts(runs: list[Run], complete: bool, oldest: Run | None) -> RunCounts:
    statuses = Counter(r.status for r in runs)
    children = sum(PARENT_TAG in r.tags for r in runs)
    starts = [r.start_time for r in runs if r.start_time]
    first = oldest.start_time if oldest is not None else (min(starts) if starts else None)
    return RunCounts(
        total=len(runs) if complete else None,
        total_at_least=None if complete else len(runs),
        read=len(runs),
        by_status=dict(statuses.most_common()),
        top_level=len(runs) - children,
        child=children,
        first_start=iso_from_ms(first),
        last_start=iso_from_ms(max(starts)) if starts else None,
    )


def sweeps_of(runs: list[Run]) -> list[Sweep]:
    names = {r.run_id: r.run_name for r in runs}
    parents = Counter(r.tags[PARENT_TAG] for r in runs if PARENT_TAG in r.tags)
    return [
        Sweep(parent=names.get(pid), parent_run_id=pid, children=n)
        for pid, n in parents.most_common(SWEEPS_SHOWN)
    ]


# ---- reading MLflow ------------------------------------------------------------------------------


async def sample_runs(api: MlflowApi, experiment_id: str, limit: int) -> tuple[list[Run], bool]:
    """The newest `limit` active runs, and whether they are all the experiment has."""
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < limit:
        page, token = await api.search_runs(
            [experiment_id],
            "",
            ["attributes.start_time DESC"],
            min(PAGE, limit - len(runs)),
            token,
            "ACTIVE_ONLY",
        )
        runs += page
        if not token:
            return runs, True
    return runs, False


async def versions_from(api: MlflowApi, run_ids: set[str]) -> list[ModelVersion]:
    """Model versions made from these runs: the whole registry when it is small, else by run id."""
    if not run_ids:
        return []
    everything, more = await api.search_model_versions("", PAGE, None)
    if not more:
        return [v for v in everything if v.run_id in run_ids]
    found: list[ModelVersion] = []
    ids = sorted(run_ids)

    async def chunk(part: list[str]) -> None:
        quoted = ", ".join(f"'{i}'" for i in part)
        page, _ = await api.search_model_versions(f"run_id IN ({quoted})", PAGE, None)
        found.extend(page)

    async with anyio.create_task_group() as tg:
        for start in range(0, len(ids), 100):
            tg.start_soon(chunk, ids[start : start + 100])
    return found


def models_fed(versions: list[ModelVersion]) -> list[ModelFed]:
    by_name: dict[str, set[int]] = {}
    for v in versions:
        by_name.setdefault(v.name, set()).add(v.version)
    return [ModelFed(name=name, versions=sorted(nums)) for name, nums in sorted(by_name.items())]


async def profile_experiment(
    api: MlflowApi, ref: str, sample_size: int, detailed: bool, budget: int
) -> ExperimentProfile:
    exp = await resolve_experiment(api, ref)
    runs, complete = await sample_runs(api, exp.experiment_id, sample_size)
    oldest = None
    if not complete:
        rows, _ = await api.search_runs(
            [exp.experiment_id], "", ["attributes.start_time ASC"], 1, None, "ACTIVE_ONLY"
        )
        oldest = rows[0] if rows else None
    top = 10 if detailed else 5
    tags = [{k: v for k, v in r.tags.items() if k not in QUIET_TAGS} for r in runs]
    stats = (
        key_stats((folded_params(r) for r in runs), top, True),
        key_stats((r.metrics for r in runs), top, False),
        key_stats(tags, top, True),
    )
    notes = []
    if not complete:
        notes.append(
            f"statistics are over the newest {len(runs)} runs; older runs exist (raise sample_size, "
            f"at most 5000, or filter with mlflow_search_runs)"
        )
    base = ExperimentProfile(
        experiment=exp.name,
        experiment_id=exp.experiment_id,
        lifecycle_stage=exp.lifecycle_stage if exp.lifecycle_stage != "active" else None,
        created=iso_from_ms(exp.creation_time),
        description=clip(exp.tags[NOTE_TAG], 2000 if detailed else 500) if exp.tags.get(NOTE_TAG) else None,
        tags={k: clip(v, 200) for k, v in exp.tags.items() if not k.startswith("mlflow.")},
        runs=run_counts(runs, complete, oldest),
        sweeps=sweeps_of(runs),
        param_key_count=len(stats[0]),
        metric_key_count=len(stats[1]),
        tag_key_count=len(stats[2]),
        models=models_fed(await versions_from(api, {r.run_id for r in runs})),
        notes=notes,
    )
    return fit_profile(base, stats, detailed, budget)


def fit_profile(
    base: ExperimentProfile, stats: tuple[Stats, ...], detailed: bool, budget: int
) -> ExperimentProfile:
    """Concise lists the most widely used keys (a fixed number per kind); detailed lists them all;
    either way the lists are cut further until the answer fits the budget, saying so."""
    caps = tuple(len(s) for s in stats) if detailed else CONCISE_KEYS
    widest = max(max(caps), 1)

    def build(n: int) -> ExperimentProfile:
        shown = [dict(s[: min(cap, n)]) for s, cap in zip(stats, caps, strict=True)]
        hidden = sum(len(s) - len(v) for s, v in zip(stats, shown, strict=True))
        hint = None
        if hidden:
            how = (
                "response_format='detailed' lists every key"
                if not detailed and n >= widest
                else "the budget cut them"
            )
            hint = f"{hidden} more keys not listed ({how}); mlflow_search_runs filters on any of them."
        return base.model_copy(
            update={
                "params": shown[0],
                "metrics": shown[1],
                "run_tags": shown[2],
                "truncated": n < widest,
                "hint": hint,
            }
        )

    return fit(build, widest, budget)


# ---- filters that name keys no run has ------------------------------------------------------------

_FILTER_TOKEN = re.compile(
    r"""'(?:[^'\\]|\\.)*'
      | (?<![\w.])(?P<kind>params?|metrics?|tags?)\.(?P<key>`[^`]+`|"[^"]+"|[\w.]+)
      | "(?:[^"\\]|\\.)*"
    """,
    re.VERBOSE | re.IGNORECASE,
)
KINDS = {"param": "params", "metric": "metrics", "tag": "tags"}


def filter_keys(filter_string: str) -> list[tuple[str, str]]:
    """(params|metrics|tags, key) for every key the filter names, string literals skipped."""
    found = []
    for match in _FILTER_TOKEN.finditer(filter_string):
        if match.group("kind"):
            kind = KINDS[match.group("kind").lower().rstrip("s")]
            key = match.group("key")
            if key[0] in '`"':
                key = key[1:-1]
            found.append((kind, key))
    return list(dict.fromkeys(found))


async def check_filter_keys(api: MlflowApi, exp: Experiment, filter_string: str) -> None:
    """For a filter that matched nothing: raise when it names a key no run (of the newest read) has."""
    named = filter_keys(filter_string)
    if not named:
        return
    runs, complete = await sample_runs(api, exp.experiment_id, CHECK_SAMPLE)
    known = {
        "params": {k for r in runs for k in r.params},
        "metrics": {k for r in runs for k in r.metrics},
        "tags": {k for r in runs for k in r.tags},
    }
    unknown = [(kind, key) for kind, key in named if key not in known[kind]]
    if not unknown or not runs:
        return
    scope = f"all {len(runs)} runs" if complete else f"the newest {len(runs)} runs"
    problems = []
    for kind, key in unknown:
        near = closest(key, known[kind])
        problems.append(
            f"{quote(kind + '.' + key)} is not logged by any run ({scope} of {scalar(exp.name)} read)."
            + (f" Did you mean {' or '.join(scalar(kind + '.' + k) for k in near)}?" if near else "")
        )
    kind = unknown[0][0]
    in_use = sorted(known[kind])
    listed = ", ".join(scalar(k) for k in in_use[:30]) + (" ..." if len(in_use) > 30 else "")
    raise InvalidArgument(
        "The filter matched no run: "
        + " ".join(problems)
        + f" {kind.capitalize()} in use: {listed or 'none'}. "
        "mlflow_describe_experiment lists every key with its values."
    )
