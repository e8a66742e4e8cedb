"""The truth, computed at eval time from MLflow and Feast directly (``MlflowClient`` and Feast's
``FeatureStore``), never through the MCP server under test.

``Oracle.variables()`` gives the template variables of the cases (``latest_run``,
``production_version`` ...); ``Oracle.answer(name, **args)`` computes one case's true answer with the
function registered under ``name`` in ``ANSWERS``. An answer the data does not hold is ``NOT_FOUND``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from .cases import NOT_FOUND

ANSWERS: dict[str, Callable[..., Any]] = {}
REQUIRED_ARTIFACTS = ("training_artifacts/features.json", "training_artifacts/feature_importances.json")
REQUIRED_PARAMS = ("model_version", "feature_count", "algorithm", "top_features")
REQUIRED_METRICS = ("train_accuracy", "test_accuracy", "training_samples", "test_samples")


def answer(fn: Callable[..., Any]) -> Callable[..., Any]:
    ANSWERS[fn.__name__] = fn
    return fn


class Missing(LookupError):
    """The data does not hold what the question asks for (the true answer is NOT_FOUND)."""


class Oracle:
    def __init__(
        self,
        tracking_uri: str,
        feast_repo: Path | str,
        experiment: str = "nba_game_winner_prediction",
        model_name: str = "game_winner_model",
        predictions_uri: str | None = None,
        predictions_table: str = "ml_dev.predictions",
    ) -> None:
        self.tracking_uri = tracking_uri
        self.feast_repo = Path(feast_repo)
        self.experiment = experiment
        self.model_name = model_name
        self.predictions_uri = predictions_uri
        self.predictions_table = predictions_table
        self._predictions: Any = None  # the table, once read (oracle_serving)
        self._artifact_cache: dict[tuple[str, str], str | None] = {}
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    # -- backends ------------------------------------------------------------------------------

    @cached_property
    def client(self) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    @cached_property
    def store(self) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from feast import FeatureStore

        return FeatureStore(repo_path=str(self.feast_repo))

    @cached_property
    def runs(self) -> list[Any]:
        """Every run of the experiment, newest first (MLflow's own order: start_time DESC)."""
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is None:
            raise Missing(f"no experiment {self.experiment!r}")
        out: list[Any] = []
        token = None
        while True:
            page = self.client.search_runs(
                [exp.experiment_id],
                order_by=["attributes.start_time DESC"],
                max_results=500,
                page_token=token,
            )
            out.extend(page)
            token = page.token
            if not token:
                return out

    @cached_property
    def versions(self) -> list[Any]:
        found = self.client.search_model_versions(f"name='{self.model_name}'")
        return sorted(found, key=lambda v: int(v.version))

    @cached_property
    def model(self) -> Any:
        return self.client.get_registered_model(self.model_name)

    # -- MLflow helpers --------------------------------------------------------------------------

    def run(self, ref: str) -> Any:
        ref = str(ref)
        if ref == "latest":
            return self.runs[0]
        for r in self.runs:
            if ref in (r.info.run_id, r.info.run_name):
                return r
        raise Missing(f"no run {ref!r}")

    def artifact_text(self, run_ref: str, path: str) -> str:
        run_id = self.run(run_ref).info.run_id
        key = (run_id, path)
        if key not in self._artifact_cache:
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    local = self.client.download_artifacts(run_id, path, tmp)
                    self._artifact_cache[key] = Path(local).read_text()
            except Exception:
                self._artifact_cache[key] = None
        text = self._artifact_cache[key]
        if text is None:
            raise Missing(f"no artifact {path!r} in run {run_ref!r}")
        return text

    def artifact_paths(self, run_ref: str, folder: str = "") -> dict[str, int | None]:
        """The files directly in `folder` -> size (MLflow 3 maps a run's `model/` folder to its logged
        model, so folders are not walked)."""
        run_id = self.run(run_ref).info.run_id
        try:
            infos = self.client.list_artifacts(run_id, folder or None)
        except Exception:
            return {}
        return {i.path: i.file_size for i in infos if not i.is_dir}

    def features(self, run_ref: str) -> list[str]:
        """features.json, else the features_part* params folded in order."""
        try:
            return list(json.loads(self.artifact_text(run_ref, "training_artifacts/features.json")))
        except Missing:
            params = self.run(run_ref).data.params
            parts = sorted((k for k in params if k.startswith("features_part")), key=lambda k: int(k[13:]))
            if not parts:
                raise
            return [f.strip() for k in parts for f in params[k].split(",") if f.strip()]

    def importances(self, run_ref: str) -> dict[str, float]:
        return json.loads(self.artifact_text(run_ref, "training_artifacts/feature_importances.json"))

    def metric(self, run_ref: str, key: str) -> float:
        metrics = self.run(run_ref).data.metrics
        if key not in metrics:
            raise Missing(f"run {run_ref!r} has no metric {key!r}")
        return metrics[key]

    def version(self, ref: str | int) -> Any:
        """A model version by number, alias ('champion', '@champion'), stage or 'latest'."""
        text = str(ref).strip()
        if text.isdigit():
            for v in self.versions:
                if int(v.version) == int(text):
                    return v
            raise Missing(f"no version {text}")
        if text.lower() == "latest":
            return self.versions[-1]
        alias = text.lstrip("@")
        if alias in self.model.aliases:
            return self.version(self.model.aliases[alias])
        in_stage = [v for v in self.versions if (v.current_stage or "").lower() == text.lower()]
        if in_stage:
            return in_stage[-1]
        raise Missing(f"no version {text!r} of {self.model_name}")

    def version_run(self, ref: str | int) -> str:
        return self.run(self.version(ref).run_id).info.run_name

    def versions_of_run(self, run_ref: str) -> list[Any]:
        run_id = self.run(run_ref).info.run_id
        return [v for v in self.versions if v.run_id == run_id]

    # -- Feast helpers ---------------------------------------------------------------------------

    @cached_property
    def feature_views(self) -> dict[str, Any]:
        views = {v.name: v for v in self.store.list_feature_views()}
        views.update({v.name: v for v in self.store.list_on_demand_feature_views()})
        with contextlib.suppress(Exception):
            views.update({v.name: v for v in self.store.list_stream_feature_views()})
        return views

    def view(self, name: str) -> Any:
        if name not in self.feature_views:
            raise Missing(f"no feature view {name!r}")
        return self.feature_views[name]

    @cached_property
    def feast_features(self) -> dict[str, str]:
        """feature name -> the (batch) feature view defining it."""
        out: dict[str, str] = {}
        for v in self.store.list_feature_views():
            for f in v.features:
                out.setdefault(f.name, v.name)
        return out

    def missing_in_feast(self, run_ref: str) -> list[str]:
        return [f for f in self.features(run_ref) if f.split(":")[-1] not in self.feast_features]

    # -- template variables ----------------------------------------------------------------------

    def variables(self) -> dict[str, Any]:
        runs = self.runs
        finished = [r for r in runs if r.info.status == "FINISHED"]
        scored = [r for r in finished if "test_accuracy" in r.data.metrics]
        best = max(scored, key=lambda r: r.data.metrics["test_accuracy"])
        out: dict[str, Any] = {
            "experiment": self.experiment,
            "model_name": self.model_name,
            "latest_run": runs[0].info.run_name,
            "latest_run_id": runs[0].info.run_id,
            "previous_run": runs[1].info.run_name if len(runs) > 1 else runs[0].info.run_name,
            "oldest_run": runs[-1].info.run_name,
            "best_run": best.info.run_name,
            "run_count": len(runs),
        }
        failed = [r for r in runs if r.info.status == "FAILED"]
        if failed:
            out["failed_run"] = failed[0].info.run_name
        for r in finished:
            if self.missing_in_feast(r.info.run_name):
                out["misaligned_run"] = r.info.run_name
                break
        curves = [r for r in finished if "val_logloss" in r.data.metrics]
        if curves:
            out["curve_run"] = curves[-1].info.run_name  # the oldest run with loss curves
        for stage in ("Production", "Staging"):
            try:
                v = self.version(stage)
            except Missing:
                continue
            out[f"{stage.lower()}_version"] = int(v.version)
            out[f"{stage.lower()}_run"] = self.version_run(stage)
        for alias, number in self.model.aliases.items():
            out[f"{alias}_version"] = int(number)
            out[f"{alias}_run"] = self.version_run(number)
        from .oracle_serving import serving_variables

        return out | serving_variables(self)

    @property
    def holds(self) -> set[str]:
        """What the store holds beyond MLflow and Feast, for the cases that need it (`Case.needs`)."""
        return {"predictions"} if self.predictions_uri else set()

    # -- answers ---------------------------------------------------------------------------------

    def answer(self, name: str, **args: Any) -> Any:
        try:
            return ANSWERS[name](self, **args)
        except Missing:
            return NOT_FOUND


# ---------------------------------------------------------------------------------------------
# Answer functions: (oracle, **args) -> the true answer. `Missing` means NOT_FOUND.

# MLflow runs


@answer
def experiments(o: Oracle) -> list[str]:
    return [e.name for e in o.client.search_experiments()]


@answer
def latest_run(o: Oracle) -> str:
    return o.runs[0].info.run_name


@answer
def run_count(o: Oracle) -> int:
    return len(o.runs)


@answer
def runs_with_status(o: Oracle, status: str) -> list[str]:
    return [r.info.run_name for r in o.runs if r.info.status == status]


@answer
def runs_with_param(o: Oracle, key: str, value: str) -> list[str]:
    return [r.info.run_name for r in o.runs if r.data.params.get(key) == value]


@answer
def run_param(o: Oracle, run: str, key: str) -> str:
    params = o.run(run).data.params
    if key not in params:
        raise Missing(key)
    return params[key]


@answer
def run_features(o: Oracle, run: str) -> list[str]:
    return o.features(run)


@answer
def run_feature_count(o: Oracle, run: str) -> int:
    return len(o.features(run))


@answer
def top_feature(o: Oracle, run: str) -> str:
    imp = o.importances(run)
    return max(imp, key=lambda k: imp[k])


@answer
def feature_importance(o: Oracle, run: str, feature: str) -> float:
    imp = o.importances(run)
    if feature not in imp:
        raise Missing(feature)
    return imp[feature]


@answer
def features_added(o: Oracle, base: str, other: str) -> list[str]:
    before = set(o.features(base))
    return [f for f in o.features(other) if f not in before]


@answer
def features_removed(o: Oracle, base: str, other: str) -> list[str]:
    after = set(o.features(other))
    return [f for f in o.features(base) if f not in after]


# MLflow metrics


@answer
def run_metric(o: Oracle, run: str, key: str) -> float:
    return o.metric(run, key)


@answer
def last_metric(o: Oracle, key: str) -> float:
    """The metric of the newest run that logged it ("what was the last test_accuracy?")."""
    for r in o.runs:
        if key in r.data.metrics:
            return r.data.metrics[key]
    raise Missing(key)


@answer
def experiment_last_metric(o: Oracle, experiment: str, key: str) -> float:
    if o.client.get_experiment_by_name(experiment) is None:
        raise Missing(experiment)
    return last_metric(Oracle(o.tracking_uri, o.feast_repo, experiment, o.model_name), key)


@answer
def best_run(o: Oracle, key: str, mode: str = "max") -> str:
    scored = [r for r in o.runs if key in r.data.metrics]
    if not scored:
        raise Missing(key)
    pick = max if mode == "max" else min
    return pick(scored, key=lambda r: r.data.metrics[key]).info.run_name


@answer
def best_metric(o: Oracle, key: str, mode: str = "max") -> float:
    return o.metric(best_run(o, key, mode), key)


def _history(o: Oracle, run: str, key: str) -> list[Any]:
    history = o.client.get_metric_history(o.run(run).info.run_id, key)
    if not history:
        raise Missing(f"{run} has no metric {key}")
    return sorted(history, key=lambda m: (m.step, m.timestamp))


@answer
def metric_argmin_step(o: Oracle, run: str, key: str) -> int:
    history = _history(o, run, key)
    best = min(m.value for m in history)
    return next(m.step for m in history if m.value == best)


@answer
def metric_min(o: Oracle, run: str, key: str) -> float:
    return min(m.value for m in _history(o, run, key))


@answer
def metric_last(o: Oracle, run: str, key: str) -> float:
    return _history(o, run, key)[-1].value


@answer
def metric_points(o: Oracle, run: str, key: str) -> int:
    return len(_history(o, run, key))


@answer
def metric_min_over(o: Oracle, runs: list[str], key: str) -> float:
    return min(metric_min(o, run, key) for run in runs)


@answer
def newest_metric_last(o: Oracle, key: str) -> float:
    """The last point of `key` in the newest run that logged it."""
    for r in o.runs:
        if key in r.data.metrics:
            return metric_last(o, r.info.run_id, key)
    raise Missing(key)


@answer
def metric_keys(o: Oracle) -> list[str]:
    return sorted({k for r in o.runs for k in r.data.metrics})


@answer
def param_value_count(o: Oracle, key: str, value: str) -> int:
    return len(runs_with_param(o, key, value))


@answer
def metric_delta(o: Oracle, base: str, other: str, key: str) -> float:
    return o.metric(other, key) - o.metric(base, key)


# Artifacts


@answer
def artifact_exists(o: Oracle, run: str, path: str) -> bool:
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    try:
        return path in o.artifact_paths(run, folder)
    except Exception:
        return False


@answer
def artifact_size(o: Oracle, run: str, path: str) -> int:
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    sizes = o.artifact_paths(run, folder)
    if path not in sizes or sizes[path] is None:
        raise Missing(path)
    return int(sizes[path])


@answer
def artifact_json(o: Oracle, run: str, path: str) -> Any:
    return json.loads(o.artifact_text(run, path))


@answer
def artifact_line(o: Oracle, run: str, path: str, key: str) -> str:
    """The `key: value` line of a text artifact (run_info.txt)."""
    for line in o.artifact_text(run, path).splitlines():
        if line.startswith(f"{key}:"):
            return line.strip()
    raise Missing(key)


# Registry


@answer
def registered_models(o: Oracle) -> list[str]:
    return [m.name for m in o.client.search_registered_models()]


@answer
def model_version(o: Oracle, ref: str, model: str | None = None) -> int:
    if model and model != o.model_name:
        if not o.client.search_registered_models(f"name='{model}'"):
            raise Missing(model)
        return int(Oracle(o.tracking_uri, o.feast_repo, o.experiment, model).version(ref).version)
    return int(o.version(ref).version)


@answer
def version_run(o: Oracle, ref: str) -> str:
    return o.version_run(ref)


@answer
def version_metric(o: Oracle, ref: str, key: str) -> float:
    return o.metric(o.version_run(ref), key)


@answer
def version_stage(o: Oracle, ref: str) -> str:
    return o.version(ref).current_stage


@answer
def versions_in_stage(o: Oracle, stage: str) -> list[int]:
    return [int(v.version) for v in o.versions if v.current_stage == stage]


@answer
def model_aliases(o: Oracle) -> list[str]:
    return sorted(o.model.aliases)


@answer
def version_count(o: Oracle) -> int:
    return len(o.versions)


@answer
def alias_stage_conflict(o: Oracle, alias: str, stage: str) -> bool:
    """True when the alias and the stage point at different versions."""
    return int(o.version(alias).version) != int(o.version(stage).version)


@answer
def version_features_added(o: Oracle, base: str, other: str) -> list[str]:
    return features_added(o, o.version_run(base), o.version_run(other))


@answer
def version_features_removed(o: Oracle, base: str, other: str) -> list[str]:
    return features_removed(o, o.version_run(base), o.version_run(other))


@answer
def version_metric_delta(o: Oracle, base: str, other: str, key: str) -> float:
    return metric_delta(o, o.version_run(base), o.version_run(other), key)


@answer
def run_registered_version(o: Oracle, run: str) -> str:
    """'game_winner_model vN' of the newest version made from the run."""
    versions = o.versions_of_run(run)
    if not versions:
        raise Missing(run)
    return f"{o.model_name} v{versions[-1].version}"


@answer
def run_registered_stage(o: Oracle, run: str) -> str:
    versions = o.versions_of_run(run)
    if not versions:
        raise Missing(run)
    return versions[-1].current_stage


# Feast


def _dtype(field: Any) -> str:
    return str(field.dtype)


@answer
def feature_views(o: Oracle) -> list[str]:
    return sorted(o.feature_views)


@answer
def view_fields(o: Oracle, view: str) -> list[str]:
    return [f.name for f in o.view(view).features]


@answer
def view_field_count(o: Oracle, view: str) -> int:
    return len(o.view(view).features)


@answer
def field_dtype(o: Oracle, view: str, field: str) -> str:
    for f in o.view(view).features:
        if f.name == field:
            return _dtype(f)
    raise Missing(field)


@answer
def view_source(o: Oracle, view: str) -> str:
    return o.view(view).batch_source.name


@answer
def view_entities(o: Oracle, view: str) -> list[str]:
    return list(o.view(view).entities)


@answer
def entities(o: Oracle) -> list[str]:
    return [e.name for e in o.store.list_entities()]


@answer
def entity_join_key(o: Oracle, entity: str) -> str:
    for e in o.store.list_entities():
        if e.name == entity:
            return e.join_key
    raise Missing(entity)


@answer
def data_sources(o: Oracle) -> list[str]:
    return [s.name for s in o.store.list_data_sources()]


@answer
def source_timestamp_field(o: Oracle, source: str) -> str:
    for s in o.store.list_data_sources():
        if s.name == source:
            return s.timestamp_field
    raise Missing(source)


@answer
def feast_projects(o: Oracle) -> list[str]:
    return sorted(p.name for p in o.store.list_projects())


@answer
def feature_services(o: Oracle) -> list[str]:
    return [s.name for s in o.store.list_feature_services()]


@answer
def service_views(o: Oracle, service: str) -> list[str]:
    for s in o.store.list_feature_services():
        if s.name == service:
            return [p.name for p in s.feature_view_projections]
    raise Missing(service)


@answer
def service_feature_count(o: Oracle, service: str) -> int:
    for s in o.store.list_feature_services():
        if s.name == service:
            return sum(len(p.features) for p in s.feature_view_projections)
    raise Missing(service)


@answer
def view_version_count(o: Oracle, view: str) -> int:
    o.view(view)
    return len(o.store.list_feature_view_versions(view))


# Alignment and validation


@answer
def alignment_status(o: Oracle, run: str) -> str:
    return "MISALIGNED" if o.missing_in_feast(run) else "ALIGNED"


@answer
def version_alignment_status(o: Oracle, ref: str) -> str:
    return alignment_status(o, o.version_run(ref))


@answer
def missing_features(o: Oracle, run: str) -> list[str]:
    return o.missing_in_feast(run)


@answer
def misaligned_runs(o: Oracle) -> list[str]:
    return [
        r.info.run_name for r in o.runs if r.info.status == "FINISHED" and o.missing_in_feast(r.info.run_name)
    ]


@answer
def features_from_view(o: Oracle, run: str, view: str) -> int:
    return sum(1 for f in o.features(run) if o.feast_features.get(f.split(":")[-1]) == view)


@answer
def unused_view_fields(o: Oracle, ref: str, view: str) -> list[str]:
    used = {f.split(":")[-1] for f in o.features(o.version_run(ref))}
    return [f.name for f in o.view(view).features if f.name not in used]


@answer
def feature_feast_dtype(o: Oracle, feature: str) -> str:
    view = o.feast_features.get(feature)
    if view is None:
        raise Missing(feature)
    return field_dtype(o, view, feature)


@answer
def version_top_feature_dtype(o: Oracle, ref: str) -> str:
    return feature_feast_dtype(o, top_feature(o, o.version_run(ref)))


@answer
def failed_checks(o: Oracle, run: str) -> list[str]:
    """The seed's validation checklist, computed from MLflow and Feast: which checks fail."""
    r = o.run(run)
    failed: list[str] = []
    if r.info.status != "FINISHED":
        failed.append("run")
    if any(p not in r.data.params for p in REQUIRED_PARAMS):
        failed.append("params")
    metrics = r.data.metrics
    if any(m not in metrics for m in REQUIRED_METRICS) or not all(
        0.0 <= metrics[m] <= 1.0 for m in ("train_accuracy", "test_accuracy") if m in metrics
    ):
        failed.append("metrics")
    if not all(artifact_exists(o, run, p) for p in REQUIRED_ARTIFACTS):
        failed.append("artifacts")
    try:
        count_ok = int(r.data.params.get("feature_count", -1)) == len(o.features(run))
    except Missing:
        count_ok = False
    if not count_ok:
        failed.append("feature_count")
    if not o.versions_of_run(run):
        failed.append("registry")
    try:
        if o.missing_in_feast(run):
            failed.append("alignment")
    except Missing:
        failed.append("alignment")
    return failed


@answer
def validation_passes(o: Oracle, run: str) -> bool:
    return not failed_checks(o, run)


# The MLflow 3 world's and the serving answers register themselves in ANSWERS.
from . import oracle_mlflow3, oracle_serving  # noqa: E402, F401
