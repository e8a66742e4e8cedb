"""MLflow's entities as the server uses them, and the one place that reads them from MLflow's REST
JSON (proto field names, int64 as strings). Both backends produce that JSON (the REST client from
the wire, the `MlflowClient` one through the entities' protos), so both hand the services the same
typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core import safe_json

Json = dict[str, Any]


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _pairs(items: list[Json] | None) -> dict[str, str]:
    return {item["key"]: item.get("value", "") for item in items or [] if "key" in item}


@dataclass(slots=True)
class Experiment:
    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    artifact_location: str | None = None
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Json) -> Experiment:
        return cls(
            experiment_id=str(data.get("experiment_id", "")),
            name=data.get("name", ""),
            lifecycle_stage=data.get("lifecycle_stage", "active"),
            artifact_location=data.get("artifact_location"),
            creation_time=_int(data.get("creation_time")),
            last_update_time=_int(data.get("last_update_time")),
            tags=_pairs(data.get("tags")),
        )


@dataclass(slots=True)
class DatasetInput:
    name: str | None = None
    digest: str | None = None
    source_type: str | None = None
    source: str | None = None
    schema: str | None = None
    context: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> DatasetInput:
        dataset = data.get("dataset", {})
        return cls(
            name=dataset.get("name"),
            digest=dataset.get("digest"),
            source_type=dataset.get("source_type"),
            source=dataset.get("source"),
            schema=dataset.get("schema"),
            context=_pairs(data.get("tags")).get("mlflow.data.context"),
        )


@dataclass(slots=True)
class Run:
    run_id: str
    experiment_id: str
    status: str = "UNKNOWN"
    run_name: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    lifecycle_stage: str = "active"
    artifact_uri: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: list[DatasetInput] = field(default_factory=list)
    model_ids: list[str] = field(default_factory=list)  # MLflow 3 LoggedModels this run logged

    @classmethod
    def from_json(cls, data: Json) -> Run:
        info, body = data.get("info", {}), data.get("data", {})
        tags = _pairs(body.get("tags"))
        return cls(
            run_id=info.get("run_id") or info.get("run_uuid", ""),
            experiment_id=str(info.get("experiment_id", "")),
            status=info.get("status", "UNKNOWN"),
            run_name=info.get("run_name") or tags.get("mlflow.runName"),
            start_time=_int(info.get("start_time")),
            end_time=_int(info.get("end_time")),
            lifecycle_stage=info.get("lifecycle_stage", "active"),
            artifact_uri=info.get("artifact_uri"),
            params=_pairs(body.get("params")),
            metrics={m["key"]: _float(m.get("value")) for m in body.get("metrics", []) if "key" in m},
            tags=tags,
            datasets=[DatasetInput.from_json(d) for d in data.get("inputs", {}).get("dataset_inputs", [])],
            model_ids=[
                m["model_id"] for m in data.get("outputs", {}).get("model_outputs", []) if m.get("model_id")
            ],
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in ("FINISHED", "FAILED", "KILLED")


@dataclass(slots=True)
class MetricPoint:
    key: str
    value: float
    step: int = 0
    timestamp: int | None = None

    @classmethod
    def from_json(cls, data: Json) -> MetricPoint:
        return cls(
            key=data.get("key", ""),
            value=_float(data.get("value")),
            step=_int(data.get("step")) or 0,
            timestamp=_int(data.get("timestamp")),
        )


@dataclass(slots=True)
class ArtifactFile:
    path: str
    is_dir: bool = False
    file_size: int | None = None

    @classmethod
    def from_json(cls, data: Json) -> ArtifactFile:
        return cls(
            path=data.get("path", ""), is_dir=bool(data.get("is_dir")), file_size=_int(data.get("file_size"))
        )


@dataclass(slots=True)
class ModelVersion:
    name: str
    version: int
    stage: str = "None"
    run_id: str | None = None
    source: str | None = None
    status: str | None = None
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    model_id: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> ModelVersion:
        return cls(
            name=data.get("name", ""),
            version=int(data["version"]),
            stage=data.get("current_stage") or "None",
            run_id=data.get("run_id") or None,
            source=data.get("source"),
            status=data.get("status"),
            creation_timestamp=_int(data.get("creation_timestamp")),
            last_updated_timestamp=_int(data.get("last_updated_timestamp")),
            description=data.get("description") or None,
            tags=_pairs(data.get("tags")),
            aliases=list(data.get("aliases") or []),
            model_id=data.get("model_id") or None,
        )


@dataclass(slots=True)
class RegisteredModel:
    name: str
    description: str | None = None
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    tags: dict[str, str] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None

    @classmethod
    def from_json(cls, data: Json) -> RegisteredModel:
        return cls(
            name=data.get("name", ""),
            description=data.get("description") or None,
            aliases={a["alias"]: int(a["version"]) for a in data.get("aliases", []) if "alias" in a},
            tags=_pairs(data.get("tags")),
            latest_versions=[ModelVersion.from_json(v) for v in data.get("latest_versions", [])],
            creation_timestamp=_int(data.get("creation_timestamp")),
            last_updated_timestamp=_int(data.get("last_updated_timestamp")),
        )

    def aliases_by_version(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for alias, version in self.aliases.items():
            out.setdefault(version, []).append(alias)
        return out


@dataclass(slots=True)
class ModelMetric:
    """A metric of a LoggedModel: like a run's, plus the dataset it was computed on (if any)."""

    key: str
    value: float
    step: int = 0
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> ModelMetric:
        return cls(
            key=data.get("key", ""),
            value=_float(data.get("value")),
            step=_int(data.get("step")) or 0,
            dataset_name=data.get("dataset_name") or None,
            dataset_digest=data.get("dataset_digest") or None,
            run_id=data.get("run_id") or None,
        )


@dataclass(slots=True)
class LoggedModel:
    """An MLflow 3 LoggedModel (`m-...`): its files live with the model, not under the run."""

    model_id: str
    experiment_id: str
    name: str = ""
    source_run_id: str | None = None
    status: str = "UNKNOWN"
    model_type: str | None = None
    artifact_uri: str | None = None
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[ModelMetric] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Json) -> LoggedModel:
        info, body = data.get("info", {}), data.get("data", {})
        status = str(info.get("status") or "UNKNOWN")
        return cls(
            model_id=info.get("model_id", ""),
            experiment_id=str(info.get("experiment_id", "")),
            name=info.get("name", ""),
            source_run_id=info.get("source_run_id") or None,
            status=status.removeprefix("LOGGED_MODEL_"),  # READY, PENDING, UPLOAD_FAILED
            model_type=info.get("model_type") or None,
            artifact_uri=info.get("artifact_uri") or None,
            creation_timestamp=_int(info.get("creation_timestamp_ms")),
            last_updated_timestamp=_int(info.get("last_updated_timestamp_ms")),
            tags=_pairs(info.get("tags")),
            params=_pairs(body.get("params")),
            metrics=[ModelMetric.from_json(m) for m in body.get("metrics", []) if "key" in m],
        )

    def registered_versions(self) -> list[tuple[str, int]]:
        """(model name, version) pairs MLflow recorded in the `mlflow.modelVersions` tag, once each
        (MLflow 3.17 writes each twice: the version as an int, then as a string)."""
        try:
            entries = safe_json.loads(self.tags.get("mlflow.modelVersions") or "[]")
        except ValueError:
            return []
        out: list[tuple[str, int]] = []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not entry.get("name"):
                continue
            name, number = str(entry["name"]), _int(entry.get("version"))
            if number is not None and (name, number) not in out:
                out.append((name, number))
        return out
