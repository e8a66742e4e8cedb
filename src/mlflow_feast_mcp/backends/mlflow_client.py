"""MLflow through `MlflowClient`, for tracking URIs the REST client cannot speak (`sqlite:///`,
`postgresql://`, `databricks`). Every call runs in a worker thread; entities are converted to the
REST JSON shapes through their protos, so tools see the same data from either backend."""

from __future__ import annotations

import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from ..core.errors import BackendUnavailable, InvalidArgument, PermissionDenied
from ..core.formatting import clip
from .mlflow_api import MlflowMissing, Page
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
from .mlflow_rest import CREDENTIALS_HINT


def _bound_mlflow_retries(timeout: float, retries: int) -> None:
    # MlflowClient otherwise retries a dead server for minutes (7 retries, 120 s timeout).
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(max(timeout, 1))))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")


def _read_window(download: Any, path: str, offset: int, length: int) -> tuple[bytes, int]:
    """Bytes [offset, offset+length) of the file `download(dst_dir)` fetches, and its size."""
    with tempfile.TemporaryDirectory(prefix="mfm-artifact-") as tmp:
        local = Path(download(tmp))
        if local.is_dir():
            raise InvalidArgument(f"{path!r} is a directory; list it with mlflow_list_artifacts.")
        with local.open("rb") as handle:
            handle.seek(offset)
            return handle.read(length), local.stat().st_size


def _to_json(entity: Any) -> Json:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(entity.to_proto(), preserving_proto_field_name=True)


class MlflowLocal:
    def __init__(self, tracking_uri: str, timeout: float = 10.0, retries: int = 1) -> None:
        _bound_mlflow_retries(timeout, retries)
        from mlflow.tracking import MlflowClient  # slow import: this constructor runs in a thread

        self.tracking_uri = tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    async def aclose(self) -> None:
        return None

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(partial(self._guarded, fn, *args, **kwargs))

    def _guarded(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return fn(*args, **kwargs)
        except MlflowException as exc:
            code = getattr(exc, "error_code", "")
            if code == "RESOURCE_DOES_NOT_EXIST":
                raise MlflowMissing(exc.message) from exc
            if code == "UNAUTHENTICATED":
                raise PermissionDenied(
                    f"MLflow at {self.tracking_uri} requires credentials and refused these. {CREDENTIALS_HINT}"
                ) from exc
            if code == "PERMISSION_DENIED":
                raise PermissionDenied(
                    f"Permission denied by MLflow at {self.tracking_uri}: {clip(exc.message, 200)}"
                ) from exc
            if code == "INVALID_PARAMETER_VALUE":
                raise InvalidArgument(f"MLflow rejected the request: {clip(exc.message, 300)}") from exc
            raise BackendUnavailable(f"MLflow at {self.tracking_uri} failed: {exc.message[:300]}") from exc
        except OSError as exc:
            raise BackendUnavailable(f"MLflow at {self.tracking_uri} is unreachable: {exc}") from exc

    async def search_experiments(
        self, filter_string: str | None, max_results: int, page_token: str | None, view_type: str
    ) -> Page[Experiment]:
        from mlflow.entities import ViewType

        page = await self._run(
            self._client.search_experiments,
            view_type=ViewType.from_string(view_type.lower()),
            max_results=max_results,
            filter_string=filter_string or None,
            order_by=["name ASC"],
            page_token=page_token,
        )
        return [Experiment.from_json(_to_json(e)) for e in page], page.token or None

    async def get_experiment_by_name(self, name: str) -> Experiment | None:
        experiment = await self._run(self._client.get_experiment_by_name, name)
        return Experiment.from_json(_to_json(experiment)) if experiment else None

    async def get_experiment(self, experiment_id: str) -> Experiment | None:
        try:
            return Experiment.from_json(_to_json(await self._run(self._client.get_experiment, experiment_id)))
        except (MlflowMissing, InvalidArgument):
            return None

    async def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str,
        order_by: list[str],
        max_results: int,
        page_token: str | None,
        view_type: str,
    ) -> Page[Run]:
        from mlflow.entities import ViewType

        page = await self._run(
            self._client.search_runs,
            experiment_ids=experiment_ids,
            filter_string=filter_string,
            run_view_type=ViewType.from_string(view_type.lower()),
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )
        return [Run.from_json(_to_json(r)) for r in page], page.token or None

    async def get_run(self, run_id: str) -> Run:
        return Run.from_json(_to_json(await self._run(self._client.get_run, run_id)))

    async def get_metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        history = await self._run(self._client.get_metric_history, run_id, key)
        return [MetricPoint.from_json(_to_json(m)) for m in history]

    async def list_artifacts(self, run_id: str, path: str | None) -> list[ArtifactFile]:
        files = await self._run(self._client.list_artifacts, run_id, path or None)
        return [ArtifactFile.from_json(_to_json(f)) for f in files]

    async def read_artifact(self, run_id: str, path: str, offset: int, length: int) -> tuple[bytes, int]:
        download = partial(self._client.download_artifacts, run_id, path)
        return await self._run(_read_window, download, path, offset, length)

    async def search_logged_models(
        self,
        experiment_ids: list[str],
        filter_string: str | None,
        datasets: list[Json],
        order_by: list[Json],
        max_results: int,
        page_token: str | None,
    ) -> Page[LoggedModel]:
        page = await self._run(
            self._client.search_logged_models,
            experiment_ids=experiment_ids,
            filter_string=filter_string or None,
            datasets=datasets or None,
            max_results=max_results,
            order_by=order_by or None,
            page_token=page_token,
        )
        return [LoggedModel.from_json(_to_json(m)) for m in page], page.token or None

    async def get_logged_model(self, model_id: str) -> LoggedModel:
        return LoggedModel.from_json(_to_json(await self._run(self._client.get_logged_model, model_id)))

    async def list_logged_model_artifacts(self, model_id: str, path: str | None) -> list[ArtifactFile]:
        files = await self._run(self._client.list_logged_model_artifacts, model_id, path or None)
        return [ArtifactFile.from_json(_to_json(f)) for f in files]

    async def read_logged_model_artifact(
        self, model_id: str, path: str, offset: int, length: int
    ) -> tuple[bytes, int]:
        from mlflow.artifacts import download_artifacts

        model = await self.get_logged_model(model_id)
        fetch = partial(
            download_artifacts, artifact_uri=f"{model.artifact_uri}/{path}", tracking_uri=self.tracking_uri
        )
        return await self._run(_read_window, lambda dst: fetch(dst_path=dst), path, offset, length)

    async def search_registered_models(
        self, filter_string: str | None, max_results: int, page_token: str | None
    ) -> Page[RegisteredModel]:
        page = await self._run(
            self._client.search_registered_models,
            filter_string=filter_string or None,
            max_results=max_results,
            order_by=["name ASC"],
            page_token=page_token,
        )
        return [RegisteredModel.from_json(_to_json(m)) for m in page], page.token or None

    async def get_registered_model(self, name: str) -> RegisteredModel:
        return RegisteredModel.from_json(_to_json(await self._run(self._client.get_registered_model, name)))

    async def search_model_versions(
        self, filter_string: str, max_results: int, page_token: str | None
    ) -> Page[ModelVersion]:
        page = await self._run(
            self._client.search_model_versions,
            filter_string=filter_string,
            max_results=max_results,
            order_by=["version_number DESC"],
            page_token=page_token,
        )
        return [ModelVersion.from_json(_to_json(v)) for v in page], page.token or None
