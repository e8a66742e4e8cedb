"""MLflow over its REST API with an async HTTP client: no `import mlflow`, nothing blocks the event
loop, and every request is bounded by a timeout with at most a few retries on connect errors."""

from __future__ import annotations

import base64
import os
from typing import Any

import httpx

from ..core.errors import BackendUnavailable, InvalidArgument, PermissionDenied
from .mlflow_api import Json, MlflowMissing, Page


def auth_headers() -> dict[str, str]:
    """MLflow's own auth variables: a bearer token, or basic username/password."""
    if token := os.environ.get("MLFLOW_TRACKING_TOKEN"):
        return {"Authorization": f"Bearer {token}"}
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    return {}


class MlflowRest:
    def __init__(self, tracking_uri: str, timeout: float = 10.0, retries: int = 1) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        insecure = os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true"
        self._http = httpx.AsyncClient(
            base_url=self.tracking_uri,
            headers=auth_headers(),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=httpx.AsyncHTTPTransport(retries=retries, verify=not insecure),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise BackendUnavailable(
                f"MLflow at {self.tracking_uri} did not answer in time ({type(exc).__name__}). "
                "It may be overloaded or down; retry shortly, or check the tracking server."
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendUnavailable(
                f"MLflow at {self.tracking_uri} is unreachable ({type(exc).__name__}). Check that the "
                "tracking server is running and that MLFLOW_TRACKING_URI / --tracking-uri points at it."
            ) from exc
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        code, message = body.get("error_code", ""), body.get("message", response.text[:300])
        if response.status_code == 404 or code == "RESOURCE_DOES_NOT_EXIST":
            raise MlflowMissing(message)
        if response.status_code in (401, 403) or code in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
            raise PermissionDenied(
                f"MLflow at {self.tracking_uri} refused the request ({response.status_code}): {message}. "
                "Set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD."
            )
        if response.status_code == 400 or code == "INVALID_PARAMETER_VALUE":
            raise InvalidArgument(f"MLflow rejected the request: {message}")
        raise BackendUnavailable(
            f"MLflow at {self.tracking_uri} failed ({response.status_code} {code}): {message[:300]}"
        )

    async def _get(self, endpoint: str, **params: Any) -> Json:
        clean = {k: v for k, v in params.items() if v is not None}
        return (await self._call("GET", f"/api/2.0/mlflow/{endpoint}", params=clean)).json()

    async def _post(self, endpoint: str, body: Json) -> Json:
        clean = {k: v for k, v in body.items() if v is not None}
        return (await self._call("POST", f"/api/2.0/mlflow/{endpoint}", json=clean)).json()

    async def search_experiments(
        self, filter_string: str | None, max_results: int, page_token: str | None, view_type: str
    ) -> Page:
        body = await self._post(
            "experiments/search",
            {
                "filter": filter_string or None,
                "max_results": max_results,
                "page_token": page_token,
                "view_type": view_type,
                "order_by": ["name ASC"],
            },
        )
        return body.get("experiments", []), body.get("next_page_token") or None

    async def get_experiment_by_name(self, name: str) -> Json | None:
        try:
            return (await self._get("experiments/get-by-name", experiment_name=name))["experiment"]
        except MlflowMissing:
            return None

    async def get_experiment(self, experiment_id: str) -> Json | None:
        try:
            return (await self._get("experiments/get", experiment_id=experiment_id))["experiment"]
        except MlflowMissing:
            return None
        except InvalidArgument:
            return None

    async def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str,
        order_by: list[str],
        max_results: int,
        page_token: str | None,
        view_type: str,
    ) -> Page:
        body = await self._post(
            "runs/search",
            {
                "experiment_ids": experiment_ids,
                "filter": filter_string or None,
                "order_by": order_by,
                "max_results": max_results,
                "page_token": page_token,
                "run_view_type": view_type,
            },
        )
        return body.get("runs", []), body.get("next_page_token") or None

    async def get_run(self, run_id: str) -> Json:
        return (await self._get("runs/get", run_id=run_id))["run"]

    async def get_metric_history(self, run_id: str, key: str) -> list[Json]:
        points: list[Json] = []
        token: str | None = None
        while True:
            body = await self._get(
                "metrics/get-history", run_id=run_id, metric_key=key, max_results=25000, page_token=token
            )
            points.extend(body.get("metrics", []))
            token = body.get("next_page_token")
            if not token:
                return points

    async def list_artifacts(self, run_id: str, path: str | None) -> list[Json]:
        files: list[Json] = []
        token: str | None = None
        while True:
            body = await self._get("artifacts/list", run_id=run_id, path=path or None, page_token=token)
            files.extend(body.get("files", []))
            token = body.get("next_page_token")
            if not token:
                return files

    async def read_artifact(self, run_id: str, path: str, offset: int, length: int) -> tuple[bytes, int]:
        # /get-artifact streams the file through the tracking server whatever the artifact store;
        # we stop reading once the window is filled, so a 2 GB file costs no more than the window.
        request = self._http.build_request("GET", "/get-artifact", params={"path": path, "run_uuid": run_id})
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(
                f"MLflow at {self.tracking_uri} is unreachable ({type(exc).__name__})."
            ) from exc
        try:
            if response.status_code == 404:
                raise MlflowMissing(path)
            if response.status_code >= 400:
                await response.aread()
                raise BackendUnavailable(
                    f"MLflow could not serve artifact {path!r} ({response.status_code}): {response.text[:200]}"
                )
            declared = response.headers.get("content-length")
            chunks: list[bytes] = []
            seen, exhausted = 0, True
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                seen += len(chunk)
                if seen > offset + length:
                    exhausted = False
                    break
            data = b"".join(chunks)
            # -1: size unknown (no content-length and we stopped reading before the end)
            total = int(declared) if declared is not None else (len(data) if exhausted else -1)
            return data[offset : offset + length], total
        finally:
            await response.aclose()

    async def search_registered_models(
        self, filter_string: str | None, max_results: int, page_token: str | None
    ) -> Page:
        body = await self._get(
            "registered-models/search",
            filter=filter_string or None,
            max_results=max_results,
            page_token=page_token,
            order_by="name ASC",
        )
        return body.get("registered_models", []), body.get("next_page_token") or None

    async def get_registered_model(self, name: str) -> Json:
        return (await self._get("registered-models/get", name=name))["registered_model"]

    async def search_model_versions(
        self, filter_string: str, max_results: int, page_token: str | None
    ) -> Page:
        body = await self._get(
            "model-versions/search",
            filter=filter_string,
            max_results=max_results,
            page_token=page_token,
            order_by="version_number DESC",
        )
        return body.get("model_versions", []), body.get("next_page_token") or None

    async def get_model_version(self, name: str, version: str) -> Json:
        return (await self._get("model-versions/get", name=name, version=version))["model_version"]

    async def get_model_version_by_alias(self, name: str, alias: str) -> Json:
        return (await self._get("registered-models/alias", name=name, alias=alias))["model_version"]
