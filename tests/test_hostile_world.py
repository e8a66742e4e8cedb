"""The hostile world is what it claims to be, read back through the ordinary `MlflowClient` only:
MLflow stored every hostile string byte for byte, every nested value whole, every wide run at full
width. (What our server makes of it is tested elsewhere; this pins the ground truth.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.hostile_world import (
    BIG_FILE,
    BIG_FILE_BYTES,
    DEEP_JSON,
    DEEP_PARAM,
    DEEP_SCHEMA,
    DEEP_TAG,
    HOSTILE_FEATURES,
    MARKERS,
    MIXED_FILE,
    NUL_VALUE,
    PAYLOAD,
    WIDE_ARTIFACT_COUNT,
    WIDE_METRIC_COUNT,
    WIDE_PARAM_COUNT,
    HostileWorld,
    wide_feature_names,
)

pytestmark = pytest.mark.slow  # a server of its own, logged for a minute or two


@pytest.fixture(scope="module")
def mlflow_client(hostile_world: HostileWorld):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=hostile_world.uri, registry_uri=hostile_world.uri)


def download(client, run_id: str, path: str, tmp_path: Path) -> bytes:
    return Path(client.download_artifacts(run_id, path, str(tmp_path))).read_bytes()


def test_payload_carries_every_kind_of_breakout():
    lines = PAYLOAD.splitlines()
    for marker in MARKERS:
        assert any(line.startswith(marker) for line in lines), marker
    for needle in (
        "\r",
        "\x1b[31m",
        "\x1b]0;",
        "\x85",
        "\u2028",
        "\u2029",
        "\u202e",
        "\u200b",
        "artifact content>>>",
    ):
        assert needle in PAYLOAD, repr(needle)


def test_hostile_text_is_stored_byte_for_byte(hostile_world: HostileWorld, mlflow_client, tmp_path: Path):
    run = mlflow_client.get_run(hostile_world.runs["text"])
    assert run.info.run_name == "run " + PAYLOAD
    assert run.data.params["algorithm"] == PAYLOAD
    assert run.data.params["with_nul"] == NUL_VALUE
    assert run.data.tags["mlflow.note.content"] == PAYLOAD
    assert run.data.tags["with_nul"] == NUL_VALUE
    experiment = mlflow_client.get_experiment(hostile_world.experiments["text"])
    assert experiment.tags["mlflow.note.content"] == PAYLOAD
    features = json.loads(
        download(mlflow_client, run.info.run_id, "training_artifacts/features.json", tmp_path)
    )
    assert features == HOSTILE_FEATURES
    assert download(mlflow_client, run.info.run_id, "notes.txt", tmp_path).decode() == PAYLOAD + "\n"
    dataset = run.inputs.dataset_inputs[0].dataset
    assert "\nINJECTED-LINE" in dataset.name
    assert [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]] == HOSTILE_FEATURES


def test_hostile_names_of_experiments_models_and_artifacts(hostile_world: HostileWorld, mlflow_client):
    named = mlflow_client.get_experiment(hostile_world.experiments["named"])
    assert named.name == hostile_world.experiment_names["named"] and "\nINJECTED-LINE" in named.name
    model = mlflow_client.get_registered_model(hostile_world.models["named"])
    assert "\nINJECTED-LINE" in model.name and model.description == PAYLOAD
    listed = {f.path for f in mlflow_client.list_artifacts(hostile_world.runs["text"])}
    assert {"pipe|INJECTED-LINE 0.txt", "sep\u2028INJECTED-LINE.txt", "bidi\u202eINJECTED-LINE.txt"} <= listed
    assert listed == set(hostile_world.artifact_names)
    # MLflow's artifact proxy refuses a newline in a file name and URL-decodes the rest.
    assert "404" in hostile_world.refused["artifact named 'new\\nline.txt'"]
    assert hostile_world.refused["artifact named 'hash#INJECTED-LINE.txt'"] == "stored as ['hash']"


def test_registry_descriptions_and_tags(hostile_world: HostileWorld, mlflow_client):
    name, number = hostile_world.versions["text"]
    model = mlflow_client.get_registered_model(name)
    assert model.description == PAYLOAD and model.tags["owner"] == PAYLOAD
    assert model.aliases == {"champion": str(number)}
    version = mlflow_client.get_model_version(name, str(number))
    assert version.description == PAYLOAD and version.tags["note"] == PAYLOAD
    assert version.run_id == hostile_world.runs["text"] and version.current_stage == "Production"


def test_mixed_file_is_text_then_binary(hostile_world: HostileWorld, mlflow_client, tmp_path: Path):
    data = download(mlflow_client, hostile_world.runs["text"], MIXED_FILE, tmp_path)
    data[:4096].decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_deleted_run_is_deleted(hostile_world: HostileWorld, mlflow_client):
    run = mlflow_client.get_run(hostile_world.runs["deleted"])
    assert run.info.lifecycle_stage == "deleted" and run.info.status == "FINISHED"
    active = mlflow_client.search_runs([hostile_world.experiments["text"]])
    assert hostile_world.runs["deleted"] not in {r.info.run_id for r in active}


def test_nested_values_are_whole(hostile_world: HostileWorld, mlflow_client, tmp_path: Path):
    runs = hostile_world.runs
    assert mlflow_client.get_run(runs["deep_param"]).data.params["features_part0"] == DEEP_PARAM
    assert mlflow_client.get_run(runs["deep_tag"]).data.tags["feast.feature_refs"] == DEEP_TAG
    assert (
        download(mlflow_client, runs["deep_json"], "training_artifacts/features.json", tmp_path)
        == DEEP_JSON.encode()
    )
    schemas = [d.dataset.schema for d in mlflow_client.get_run(runs["deep_dataset"]).inputs.dataset_inputs]
    assert schemas == [DEEP_SCHEMA]
    with pytest.raises(RecursionError):
        json.loads(DEEP_PARAM)  # what makes them hostile: Python's own parser cannot read them
    newest = mlflow_client.search_runs(
        [hostile_world.experiments["nested"]], order_by=["attributes.start_time DESC"]
    )
    assert [r.info.run_name for r in newest][:2] == ["after_deep", "deep_param"]
    name, _ = hostile_world.versions["deep_param"]
    assert {v.run_id for v in mlflow_client.search_model_versions(f"name = '{name}'")} == {
        runs[r] for r in ("deep_param", "deep_json", "deep_tag", "deep_dataset")
    }


def test_wide_runs_are_wide(hostile_world: HostileWorld, mlflow_client, tmp_path: Path):
    runs = hostile_world.runs
    assert len(mlflow_client.get_run(runs["wide_params"]).data.params) == WIDE_PARAM_COUNT
    assert len(mlflow_client.get_run(runs["wide_metrics"]).data.metrics) == WIDE_METRIC_COUNT + 4
    assert len(mlflow_client.list_artifacts(runs["wide_artifacts"])) == WIDE_ARTIFACT_COUNT
    (big,) = mlflow_client.list_artifacts(runs["big_file"])
    assert (big.path, big.file_size) == (BIG_FILE, BIG_FILE_BYTES)
    features = download(mlflow_client, runs["wide_features"], "training_artifacts/features.json", tmp_path)
    assert json.loads(features) == wide_feature_names()
    params = mlflow_client.get_run(runs["wide_features"]).data.params
    parts = [params[f"features_part{i}"] for i in range(len(params)) if f"features_part{i}" in params]
    assert "".join(parts).split(",") == wide_feature_names()
    name, number = hostile_world.versions["wide"]
    assert mlflow_client.get_model_version(name, str(number)).run_id == runs["wide_features"]
