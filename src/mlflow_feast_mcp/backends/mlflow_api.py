"""The MLflow seam. Both implementations return MLflow's REST JSON shapes (proto field names,
int64 as strings), so the tools' logic is written once and the two can be checked for parity."""

from __future__ import annotations

from typing import Any, Protocol

Json = dict[str, Any]
Page = tuple[list[Json], str | None]


class MlflowMissing(LookupError):
    """MLflow answered RESOURCE_DOES_NOT_EXIST; the tool turns it into a NotFound with suggestions."""


class MlflowApi(Protocol):
    tracking_uri: str

    async def search_experiments(
        self, filter_string: str | None, max_results: int, page_token: str | None, view_type: str
    ) -> Page: ...

    async def get_experiment_by_name(self, name: str) -> Json | None: ...

    async def get_experiment(self, experiment_id: str) -> Json | None: ...

    async def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str,
        order_by: list[str],
        max_results: int,
        page_token: str | None,
        view_type: str,
    ) -> Page: ...

    async def get_run(self, run_id: str) -> Json: ...

    async def get_metric_history(self, run_id: str, key: str) -> list[Json]: ...

    async def list_artifacts(self, run_id: str, path: str | None) -> list[Json]: ...

    async def read_artifact(self, run_id: str, path: str, offset: int, length: int) -> tuple[bytes, int]:
        """Bytes [offset, offset+length) of a file, and the file's total size."""
        ...

    async def search_registered_models(
        self, filter_string: str | None, max_results: int, page_token: str | None
    ) -> Page: ...

    async def get_registered_model(self, name: str) -> Json: ...

    async def search_model_versions(
        self, filter_string: str, max_results: int, page_token: str | None
    ) -> Page: ...

    async def get_model_version(self, name: str, version: str) -> Json: ...

    async def get_model_version_by_alias(self, name: str, alias: str) -> Json: ...

    async def aclose(self) -> None: ...
