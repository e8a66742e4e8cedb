"""The MLflow seam. Both implementations (REST over httpx, `MlflowClient` in a thread) return the
typed entities of `mlflow_models`, read from the same REST JSON, so services are written once and the
two can be checked for parity. Errors are domain errors; a missing object is `MlflowMissing`."""

from __future__ import annotations

from typing import Protocol, TypeVar

from .mlflow_models import (
    ArtifactFile,
    Experiment,
    Json,
    LoggedModel,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    Run,
)

T = TypeVar("T")
Page = tuple[list[T], str | None]


class MlflowMissing(LookupError):
    """MLflow answered RESOURCE_DOES_NOT_EXIST; services turn it into a NotFound with suggestions."""


class MlflowApi(Protocol):
    tracking_uri: str

    async def search_experiments(
        self, filter_string: str | None, max_results: int, page_token: str | None, view_type: str
    ) -> Page[Experiment]: ...

    async def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    async def get_experiment(self, experiment_id: str) -> Experiment | None: ...

    async def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str,
        order_by: list[str],
        max_results: int,
        page_token: str | None,
        view_type: str,
    ) -> Page[Run]: ...

    async def get_run(self, run_id: str) -> Run: ...

    async def get_metric_history(self, run_id: str, key: str) -> list[MetricPoint]: ...

    async def list_artifacts(self, run_id: str, path: str | None) -> list[ArtifactFile]: ...

    async def read_artifact(self, run_id: str, path: str, offset: int, length: int) -> tuple[bytes, int]:
        """Bytes [offset, offset+length) of a file, and the file's total size (-1 when unknown)."""
        ...

    async def search_registered_models(
        self, filter_string: str | None, max_results: int, page_token: str | None
    ) -> Page[RegisteredModel]: ...

    async def get_registered_model(self, name: str) -> RegisteredModel: ...

    async def search_model_versions(
        self, filter_string: str, max_results: int, page_token: str | None
    ) -> Page[ModelVersion]: ...

    async def get_model_version(self, name: str, version: str) -> ModelVersion: ...

    async def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    async def search_logged_models(
        self,
        experiment_ids: list[str],
        filter_string: str | None,
        datasets: list[Json],
        order_by: list[Json],
        max_results: int,
        page_token: str | None,
    ) -> Page[LoggedModel]:
        """MLflow 3 LoggedModels; `datasets` ({dataset_name, dataset_digest}) scope metric filters,
        `order_by` items are {field_name, ascending, dataset_name?, dataset_digest?}."""
        ...

    async def get_logged_model(self, model_id: str) -> LoggedModel: ...

    async def list_logged_model_artifacts(self, model_id: str, path: str | None) -> list[ArtifactFile]: ...

    async def read_logged_model_artifact(
        self, model_id: str, path: str, offset: int, length: int
    ) -> tuple[bytes, int]:
        """Like `read_artifact`, for a file of a LoggedModel (MLmodel, requirements.txt...)."""
        ...

    async def aclose(self) -> None: ...
