"""Training features against Feast definitions (no MCP here; reused by the validation checklist).

Each feature a run recorded, plain (`home_win_pct_l10`) or as a Feast ref
(`game_features:home_win_pct_l10`), is looked up in the registry's feature index: the view that
defines it, or `missing` with the closest Feast names (a rename shows up that way). The views a run
drew on are the "relevant" ones; their features the run did not use are listed. Where the run
recorded types (features.json with dtypes, a logged dataset's colspec), they are compared with
Feast's. A run with no feature record gets the verdict UNKNOWN, never a guess. The context (which
project, the feature service, the view versions in force when the run trained) is added by
`feast_alignment`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..core.answer import Answer
from ..core.budget import fit, may_fit
from ..core.cpu import politely
from ..core.errors import closest
from ..core.formatting import clip
from ..core.render import scalar
from .feast_catalog import FeatureLocation
from .features import RunFeatures

Status = Literal["ALIGNED", "MISALIGNED", "UNKNOWN"]

# MLflow colspec / numpy / pandas type names -> the Feast type a feature of that type has.
_TO_FEAST = {
    "double": "Float64",
    "float64": "Float64",
    "float": "Float32",
    "float32": "Float32",
    "long": "Int64",
    "int64": "Int64",
    "integer": "Int32",
    "int32": "Int32",
    "int": "Int64",
    "boolean": "Bool",
    "bool": "Bool",
    "string": "String",
    "str": "String",
    "object": "String",
    "binary": "Bytes",
    "bytes": "Bytes",
    "datetime": "UnixTimestamp",
    "datetime64[ns]": "UnixTimestamp",
}
_FEAST_NAMES = {"float64", "float32", "int64", "int32", "bool", "string", "bytes", "unixtimestamp"}


def feast_dtype_of(recorded: str) -> str | None:
    """The Feast type name a recorded MLflow/numpy type stands for; None when it has no equivalent."""
    key = recorded.strip().lower()
    if key in _TO_FEAST:
        return _TO_FEAST[key]
    if key in _FEAST_NAMES:
        return {"unixtimestamp": "UnixTimestamp", "bool": "Bool"}.get(key, key.capitalize())
    return None


class FeatureMapping(BaseModel):
    feature: str
    status: Literal["found", "missing"]
    view: str | None = None
    feast_dtype: str | None = None
    run_dtype: str | None = None
    also_in: list[str] = []
    closest: list[str] = Field([], description="for missing features: the most similar Feast features")
    note: str | None = None


class DtypeMismatch(BaseModel):
    feature: str
    view: str
    run_dtype: str
    expected_feast_dtype: str
    feast_dtype: str


class ServiceCheck(BaseModel):
    # the feature service a run or model version names (Feast's feast.feature_service tag)
    name: str
    tagged_on: str = Field(description="'model version' or 'run'")
    feature_count: int | None = None
    not_trained: list[str] = []
    not_in_service: list[str] = []
    note: str | None = None


class AsTrained(BaseModel):
    # the run's features against the view versions in force when it started
    status: Status
    verdict: str
    started: str
    versions: dict[str, str] = {}
    changes: list[str] = Field([], description="since then, e.g. 'v0 -> v1 retyped ...'")


class AlignmentReport(Answer):
    verdict: str
    status: Status
    run_id: str
    run_name: str | None = None
    model_version: str | None = None
    feature_source: str
    project: str | None = None
    feature_count: int
    by_view: dict[str, int] = {}
    missing: list[str] = []
    dtype_mismatches: list[DtypeMismatch] = []
    unused: dict[str, list[str]] = Field({}, description="features of the relevant views the run did not use")
    found: dict[str, list[str]] = Field({}, description="view -> the features found there (concise form)")
    features: list[FeatureMapping] = Field([], description="every feature's mapping; concise: the exceptions")
    feature_service: ServiceCheck | None = None
    as_trained: AsTrained | None = None
    notes: list[str] = []

    def concise(self) -> AlignmentReport:
        """Found features as names grouped by view (as the text lists them); mappings only where they
        say more than the names: a missing feature's closest Feast names or note, a feature defined in
        more than one view; counts by view left to the verdict."""
        if self.found or not self.features:
            return self
        return self.model_copy(
            update={
                "by_view": {},
                "found": self._found_by_view(),
                "features": [
                    m.model_copy(update={"feast_dtype": None, "run_dtype": None})
                    for m in self.features
                    if (m.status == "missing" and (m.closest or m.note)) or m.also_in
                ],
            }
        )

    def _found_by_view(self) -> dict[str, list[str]]:
        if self.found:
            return self.found
        grouped: dict[str, list[str]] = {}
        for m in self.features:
            if m.status == "found":
                grouped.setdefault(m.view or "", []).append(m.feature)
        return grouped

    def render_text(self) -> str:
        """Verdict first, then features grouped by view, then what is missing, mistyped or unused."""
        subject = f"run {scalar(self.run_name)} ({self.run_id})"
        if self.model_version:
            subject = f"{scalar(self.model_version)} <- {subject}"
        where = f" in project {scalar(self.project)}" if self.project else ""
        lines = [
            self.verdict,
            *self._context_lines(),
            f"checked: {subject}; {self.feature_count} features from {self.feature_source}{where}",
        ]
        also_in = {(m.view, m.feature): m.also_in for m in self.features if m.also_in}

        def label(view: str, feature: str) -> str:
            other = also_in.get((view, feature))
            return scalar(feature) + (f" (also in {', '.join(map(scalar, other))})" if other else "")

        for view, names in self._found_by_view().items():
            lines.append(f"{scalar(view)} ({len(names)}): " + ", ".join(label(view, n) for n in names))
        told = {m.feature: m for m in self.features if m.status == "missing"}
        for name in self.missing:
            m = told.get(name)
            why = f"; {m.note}" if m and m.note else ""
            near = f"; closest: {', '.join(map(scalar, m.closest))}" if m and m.closest else ""
            lines.append(f"MISSING {scalar(name)}{why}{near or '; no similar Feast feature'}")
        for d in self.dtype_mismatches:
            lines.append(
                f"DTYPE {scalar(d.feature)}: run {scalar(d.run_dtype)} (= {d.expected_feast_dtype}) "
                f"vs Feast {scalar(d.view)} {d.feast_dtype}"
            )
        for view, names in self.unused.items():
            lines.append(f"unused in {scalar(view)} ({len(names)}): " + ", ".join(map(scalar, names)))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _context_lines(self) -> list[str]:
        lines = []
        then = self.as_trained
        if then is not None:
            lines.append(f"as trained ({then.started}): {then.verdict}")
            lines += [f"since training: {change}" for change in then.changes]  # names escaped when composed
        svc = self.feature_service
        if svc is not None:
            head = f"feature service {scalar(svc.name)} (tagged on the {svc.tagged_on})"
            if svc.feature_count is not None:
                head += f": {svc.feature_count} features today"
            if svc.not_trained:
                head += f"; not trained on: {short_list([scalar(f) for f in svc.not_trained])}"
            if svc.not_in_service:
                head += f"; not in the service: {short_list([scalar(f) for f in svc.not_in_service])}"
            lines.append(head + (f"; {svc.note}" if svc.note else ""))
        return lines


SUGGESTED = 20  # missing features that get the closest Feast names


def split_ref(feature: str, views: dict[str, dict[str, str]]) -> tuple[str | None, str]:
    """`view:feature` -> (view, feature) when it looks like a Feast ref; plain names -> (None, name)."""
    if ":" in feature:
        view, name = feature.split(":", 1)
        if view and name and (view in views or "@" not in view):
            return view, name
    return None, feature


def short_list(names: list[str], limit: int = 10, total: int | None = None) -> str:
    """The first `limit` names and how many more; `total` when `names` holds only the first ones."""
    total = len(names) if total is None else total
    head = ", ".join(names[:limit])
    return head + (f" (+{total - limit} more)" if total > limit else "")


def map_feature(
    raw: str,
    run_dtype: str | None,
    index: dict[str, list[FeatureLocation]],
    view_features: dict[str, dict[str, str]],
    suggest: bool = True,
) -> FeatureMapping:
    """One training feature (plain or 'view:feature') looked up in Feast: where it is defined, or
    why it is missing and (when `suggest`) the closest Feast names."""
    view, name = split_ref(raw, view_features)
    locations = index.get(name, [])
    # the lists given, not defaulted: pydantic deep-copies defaults, 40,000 times on a 20,000-feature run
    mapping = FeatureMapping(feature=raw, status="missing", run_dtype=run_dtype, also_in=[], closest=[])
    if view is not None and view in view_features and name in view_features[view]:
        mapping.status, mapping.view, mapping.feast_dtype = "found", view, view_features[view][name]
        mapping.also_in = [loc.view for loc in locations if loc.view != view]
    elif view is not None:
        mapping.note = (
            f"Feast has no view {scalar(view)}"
            if view not in view_features
            else f"view {scalar(view)} has no feature {scalar(name)}"
        )
        mapping.closest = [f"{loc.view}:{name}" for loc in locations] or [
            f"{index[c][0].view}:{c}"
            for c in (closest(name, view_features.get(view) or list(index), cutoff=0.75) if suggest else [])
        ]
    elif locations:
        first = locations[0]
        mapping.status, mapping.view, mapping.feast_dtype = "found", first.view, first.dtype
        mapping.also_in = [loc.view for loc in locations[1:]]
    elif suggest:
        mapping.closest = [f"{index[c][0].view}:{c}" for c in closest(name, list(index), cutoff=0.75)]
    return mapping


def dtype_mismatches(found: list[FeatureMapping]) -> tuple[list[DtypeMismatch], list[str]]:
    """Found features whose recorded type differs from Feast's, and recorded types Feast cannot express."""
    mismatches: list[DtypeMismatch] = []
    untyped: list[str] = []
    for m in found:
        if not m.run_dtype or not m.feast_dtype:
            continue
        expected = feast_dtype_of(m.run_dtype)
        if expected is None:
            untyped.append(f"{m.feature} ({m.run_dtype})")
        elif expected != m.feast_dtype:
            mismatches.append(
                DtypeMismatch(
                    feature=m.feature,
                    view=m.view or "",
                    run_dtype=m.run_dtype,
                    expected_feast_dtype=expected,
                    feast_dtype=m.feast_dtype,
                )
            )
    return mismatches, untyped


def verdict_of(
    total: int, missing: list[FeatureMapping], mismatches: list[DtypeMismatch], by_view: dict[str, int]
) -> tuple[Status, str]:
    if missing:
        names = [scalar(clip(m.feature, 200)) for m in missing[:10]]
        shown = short_list(names, total=len(missing))
        verdict = f"MISALIGNED: {len(missing)} of {total} features missing from Feast: {shown}"
        renamed = [m for m in missing if m.closest]
        if renamed:
            near = [f"{scalar(clip(m.feature, 200))} -> {m.closest[0]}?" for m in renamed[:5]]
            verdict += f" (closest: {short_list(near, 5, len(renamed))})"
        if mismatches:
            verdict += f"; {len(mismatches)} dtype mismatch(es)"
        return "MISALIGNED", verdict
    if mismatches:
        return "MISALIGNED", (
            f"MISALIGNED: all {total} features are defined in Feast but {len(mismatches)} differ in type: "
            + short_list(
                [
                    f"{scalar(clip(d.feature, 200))} ({d.run_dtype} vs {d.feast_dtype})"
                    for d in mismatches[:5]
                ],
                5,
                len(mismatches),
            )
        )
    counts = ", ".join(f"{v} {n}" for v, n in by_view.items())
    return "ALIGNED", f"ALIGNED: all {total} features are defined in Feast ({counts})"


def check_alignment(
    run: RunFeatures,
    index: dict[str, list[FeatureLocation]],
    view_features: dict[str, dict[str, str]],
    model_version: str | None = None,
    trained_dtypes: dict[str, str] | None = None,
) -> AlignmentReport:
    """Map `run`'s features onto the Feast registry summarised by `index` and `view_features`;
    `trained_dtypes` (feature -> Feast type of the version in force at training) stand in for the
    types a run did not record."""
    base = {
        "run_id": run.run_id,
        "run_name": run.run_name,
        "model_version": model_version,
        "feature_source": run.source,
        "feature_count": run.feature_count,
    }
    notes = list(run.notes)
    if not run.features:
        return AlignmentReport(
            verdict="UNKNOWN: the run recorded no feature list (no features.json, features_part* params, "
            "feast.feature_refs tag or dataset schema); nothing to compare with Feast",
            status="UNKNOWN",
            notes=notes,
            **base,
        )
    recorded = run.feature_refs if len(run.feature_refs) == len(run.features) else run.features
    dtypes = run.dtypes or trained_dtypes or {}
    mappings: list[FeatureMapping] = []
    missed = 0
    for raw in politely(recorded):
        dtype = dtypes.get(raw) or dtypes.get(split_ref(raw, view_features)[1])
        # similar names cost a fuzzy search over every Feast feature: for the first missing ones only
        mappings.append(map_feature(raw, dtype, index, view_features, suggest=missed < SUGGESTED))
        missed += mappings[-1].status == "missing"
    found = [m for m in mappings if m.status == "found"]
    missing = [m for m in mappings if m.status == "missing"]
    by_view: dict[str, int] = {}
    for m in found:
        by_view[m.view] = by_view.get(m.view, 0) + 1  # type: ignore[index]
    by_view = dict(sorted(by_view.items(), key=lambda kv: (-kv[1], kv[0])))
    used = {(m.view, split_ref(m.feature, view_features)[1]) for m in found}
    unused = {
        view: [f for f in view_features[view] if (view, f) not in used]
        for view in by_view
        if view in view_features
    }
    mismatches, untyped = dtype_mismatches(found)
    if untyped:
        notes.append("recorded types with no Feast equivalent, not compared: " + short_list(untyped))
    if run.dtypes and not mismatches and not untyped:
        notes.append("recorded dtypes match Feast")
    elif not run.dtypes and trained_dtypes:
        notes.append("dtypes compared as trained: the view versions in force when the run started")
    elif not run.dtypes:
        notes.append("the run recorded no feature types; dtypes were not compared")
    status, verdict = verdict_of(len(mappings), missing, mismatches, by_view)
    return AlignmentReport(
        verdict=verdict,
        status=status,
        by_view=by_view,
        missing=[m.feature for m in missing],
        dtype_mismatches=mismatches,
        unused={v: fs for v, fs in unused.items() if fs},
        features=mappings,
        notes=notes,
        **base,
    )


def fit_alignment(report: AlignmentReport, budget: int) -> AlignmentReport:
    """A run thousands of features wide keeps the verdict and counts, and the first n entries of
    each list (mappings, missing, mismatches, unused per view), the largest n that fits."""
    lists = {
        "feature mappings": report.features,
        "missing features": report.missing,
        "dtype mismatches": report.dtype_mismatches,
        **{f"unused in {view}": names for view, names in report.unused.items()},
    }
    if may_fit(report, max(len(v) for v in lists.values()), budget):
        return report

    def mapping(m: FeatureMapping) -> FeatureMapping:
        return m.model_copy(
            update={"feature": clip(m.feature, 300), "closest": [clip(c, 300) for c in m.closest]}
        )

    short = report.model_copy(update={"notes": [clip(n, 500) for n in report.notes[:10]]})

    def build(n: int) -> AlignmentReport:
        shown_missing = set(report.missing[:n])  # each keeps its mapping (closest names), cut or not
        later = [m for m in report.features[n:] if m.status == "missing" and m.feature in shown_missing]
        shown = {what: n for what in lists} | {"feature mappings": n + len(later)}
        cut = [
            f"truncated: showing {shown[what]} of {len(v)} {what}"
            for what, v in lists.items()
            if len(v) > shown[what]
        ]
        return short.model_copy(
            update={
                "features": [mapping(m) for m in [*report.features[:n], *later]],
                "missing": [clip(x, 300) for x in report.missing[:n]],
                "dtype_mismatches": report.dtype_mismatches[:n],
                "unused": {view: names[:n] for view, names in report.unused.items()},
                "notes": [*short.notes, *cut[:6]],
            }
        )

    return fit(build, max(len(v) for v in lists.values()), budget)
