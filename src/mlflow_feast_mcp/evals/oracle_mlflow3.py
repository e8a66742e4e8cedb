"""The truth for the MLflow 3 cases (`cases/mlflow3/`): a store logged as teams log it today
(autolog, LoggedModels `m-...`, aliases without stages, a stage and a same-named alias that
disagree, nested sweeps). Everything is read with `MlflowClient` and MLflow's own semantics
(`get_latest_versions` for a stage, `get_model_version_by_alias` for an alias, the MLmodel file for a
signature), never through the server under test; the variables are found from what MLflow records,
not from run names."""

from __future__ import annotations

import tempfile
import warnings
from typing import Any

from .oracle import Missing, Oracle, answer

PARENT = "mlflow.parentRunId"


class Mlflow3Oracle(Oracle):
    """An `Oracle` whose template variables describe an MLflow 3 world."""

    def top_level(self) -> list[Any]:
        return [r for r in self.runs if PARENT not in r.data.tags]

    def children(self, parent: str) -> list[Any]:
        parent_id = self.run(parent).info.run_id
        return [r for r in self.runs if r.data.tags.get(PARENT) == parent_id]

    def stage_version(self, model: str, stage: str) -> Any:
        """What `models:/<model>/<stage>` loads: the newest version in that stage."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = self.client.get_latest_versions(model, stages=[stage])
        if not found:
            raise Missing(f"no version of {model} in {stage}")
        return found[0]

    def signature(self, model_id: str) -> Any:
        import mlflow
        from mlflow.models import Model

        location = self.client.get_logged_model(model_id).artifact_location
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{location}/MLmodel", dst_path=tmp, tracking_uri=self.tracking_uri
            )
            return Model.load(local).signature

    def variables(self) -> dict[str, Any]:
        top = self.top_level()
        parents = {r.data.tags[PARENT] for r in self.runs if PARENT in r.data.tags}
        sweeps = [r for r in top if r.info.run_id in parents]
        hand_made = next(r for r in sweeps if "estimator_name" not in r.data.tags)
        searched = next(r for r in sweeps if r.data.tags.get("estimator_name") == "GridSearchCV")
        autologged = [r for r in top if "estimator_name" in r.data.tags and r.outputs.model_outputs]
        champion = self.client.get_model_version_by_alias(self.model_name, "champion")
        staged, stage, alias = self._stage_and_alias_disagree()
        return {
            "experiment": self.experiment,
            "model_name": self.model_name,
            "newest_run": top[0].info.run_name,
            "sweep_run": hand_made.info.run_name,
            "sweep_metric": hand_made.data.params["metric"],
            "grid_run": searched.info.run_name,
            "autolog_run": autologged[-1].info.run_name,  # the oldest: a plain autologged fit
            "autolog_run_id": autologged[-1].info.run_id,
            "autolog_model_id": autologged[-1].outputs.model_outputs[0].model_id,
            "champion_model_id": champion.source.removeprefix("models:/"),
            "staged_model": staged,
            "stage": stage,
            "stage_alias": alias,
        }

    def _stage_and_alias_disagree(self) -> tuple[str, str, str]:
        """A registered model with a stage and an alias of the same name on another version."""
        for model in self.client.search_registered_models():
            for alias, number in model.aliases.items():
                for stage in ("Production", "Staging"):
                    if alias.lower() != stage.lower():
                        continue
                    try:
                        holder = self.stage_version(model.name, stage)
                    except Missing:
                        continue
                    if int(holder.version) != int(number):
                        return model.name, stage, alias
        raise Missing("no stage and same-named alias disagree")


# ---------------------------------------------------------------------------------------------
# Answers (registered in oracle.ANSWERS)


def _m3(o: Oracle) -> Mlflow3Oracle:
    if not isinstance(o, Mlflow3Oracle):
        raise Missing("an MLflow 3 case asked of another world")
    return o


@answer
def alias_version(o: Oracle, alias: str, model: str | None = None) -> int:
    return int(o.client.get_model_version_by_alias(model or o.model_name, alias).version)


@answer
def stage_version(o: Oracle, stage: str, model: str) -> int:
    """MLflow's answer to `models:/<model>/<stage>`."""
    return int(_m3(o).stage_version(model, stage).version)


@answer
def stage_alias_disagree(o: Oracle, model: str, stage: str, alias: str) -> bool:
    staged = int(_m3(o).stage_version(model, stage).version)
    return staged != int(o.client.get_model_version_by_alias(model, alias).version)


@answer
def alias_model_id(o: Oracle, alias: str) -> str:
    source = o.client.get_model_version_by_alias(o.model_name, alias).source
    if not source.startswith("models:/m-"):
        raise Missing(f"@{alias} was not made from a LoggedModel")
    return source.removeprefix("models:/")


@answer
def alias_signature_inputs(o: Oracle, alias: str) -> list[str]:
    return _m3(o).signature(alias_model_id(o, alias)).inputs.input_names()


@answer
def alias_takes_column(o: Oracle, alias: str, column: str) -> bool:
    return column in alias_signature_inputs(o, alias)


@answer
def version_made_from(o: Oracle, model_id: str) -> int:
    found = o.client.search_model_versions(f"source_path = 'models:/{model_id}'")
    if not found:
        raise Missing(model_id)
    return int(found[0].version)


@answer
def logged_model_metric(o: Oracle, model_id: str, key: str, dataset: str) -> float:
    found = [
        m.value
        for m in o.client.get_logged_model(model_id).metrics
        if m.key == key and m.dataset_name == dataset
    ]
    if not found:
        raise Missing(f"{model_id} has no {key} on {dataset}")
    return found[-1]


@answer
def logged_model_files(o: Oracle, model_id: str) -> list[str]:
    return [f.path for f in o.client.list_logged_model_artifacts(model_id)]


@answer
def logged_model_of_run(o: Oracle, run: str) -> str:
    outputs = o.run(run).outputs.model_outputs
    if not outputs:
        raise Missing(f"run {run} logged no model")
    return outputs[0].model_id


@answer
def best_model_on_dataset(o: Oracle, key: str, dataset: str) -> str:
    """The LoggedModel of the experiment with the highest `key` computed on `dataset`."""
    exp = o.client.get_experiment_by_name(o.experiment)
    scored = {
        m.model_id: metric.value
        for m in o.client.search_logged_models([exp.experiment_id])
        for metric in m.metrics
        if metric.key == key and metric.dataset_name == dataset
    }
    if not scored:
        raise Missing(f"no model has {key} on {dataset}")
    return max(scored, key=scored.__getitem__)


@answer
def top_level_runs(o: Oracle) -> list[str]:
    return [r.info.run_name for r in _m3(o).top_level()]


@answer
def child_count(o: Oracle, parent: str) -> int:
    return len(_m3(o).children(parent))


@answer
def best_child(o: Oracle, parent: str, key: str, mode: str = "max") -> str:
    children = [c for c in _m3(o).children(parent) if key in c.data.metrics]
    if not children:
        raise Missing(f"no child of {parent} logged {key}")
    pick = max if mode == "max" else min
    return pick(children, key=lambda c: c.data.metrics[key]).info.run_name


@answer
def best_child_param(o: Oracle, parent: str, key: str, param: str, mode: str = "max") -> str:
    return o.run(best_child(o, parent, key, mode)).data.params[param]


@answer
def previous_top_level_run(o: Oracle, run: str) -> str:
    top = _m3(o).top_level()  # newest first
    names = [r.info.run_name for r in top]
    index = names.index(o.run(run).info.run_name)
    if index + 1 >= len(top):
        raise Missing(f"{run} is the oldest top-level run")
    return names[index + 1]


@answer
def experiment_description(o: Oracle) -> str:
    exp = o.client.get_experiment_by_name(o.experiment)
    note = exp.tags.get("mlflow.note.content") if exp else None
    if not note:
        raise Missing("no description")
    return note


@answer
def estimator_name(o: Oracle, run: str) -> str:
    tags = o.run(run).data.tags
    if "estimator_name" not in tags:
        raise Missing(f"{run} recorded no estimator")
    return tags["estimator_name"]
