"""MLflow over its REST API with an async HTTP client: no `import mlflow`, nothing blocks the event
loop, and every request is bounded by a timeout with at most a few retries on connect errors.

A small response cache (LRU, bounded in entries and bytes) saves the round trips that agents repeat:
runs in a terminal state (FINISHED, FAILED, KILLED) and their artifact listings, artifact windows
and metric histories for `run_ttl` seconds; experiment lookups for `run_ttl`; registry reads
(registered models, versions, aliases) for the much shorter `registry_ttl`, since stages and aliases
move; the registered-model search too. Run and experiment searches are never cached: a new run shows
at once (and 'latest' is always the newest).
The cache is only read while MLflow is answering: after a failed request every read goes to MLflow
until one succeeds, so an outage is reported, never papered over with cached answers."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import httpx

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

CREDENTIALS_HINT = (
    "Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) for the server, "
    "or, when it forwards each client's credentials, send them in the X-MLflow-Authorization header."
)
# which object a REST call is about, for a permission error: endpoint -> (kind, parameter naming it)
_TAG = re.compile(r"<[^>]*>")


def plain_text(body: str) -> str:
    """An error page as its words: a 500 from MLflow's web server is HTML, not MLflow's JSON."""
    return clip(" ".join(_TAG.sub(" ", body).split()), 300)


_SUBJECTS = {
    "runs/get": ("run", "run_id"),
    "metrics/get-history": ("the metrics of run", "run_id"),
    "artifacts/list": ("the artifacts of run", "run_id"),
    "experiments/get": ("experiment", "experiment_id"),
    "experiments/get-by-name": ("experiment", "experiment_name"),
    "registered-models/get": ("registered model", "name"),
    "model-versions/get": ("a version of registered model", "name"),
    "model-versions/search": ("the versions of", "filter"),
    "runs/search": ("runs of experiments", "experiment_ids"),
}


def subject_of(path: str, kwargs: dict[str, Any]) -> str:
    """'run 'abc...'' for a permission error, from the endpoint and its parameters."""
    endpoint = path.split("/mlflow/", 1)[-1]
    kind, parameter = _SUBJECTS.get(endpoint, ("", ""))
    values = {**(kwargs.get("params") or {}), **(kwargs.get("json") or {})}
    if not kind:
        return f"{endpoint or path}"
    value = values.get(parameter)
    return f"{kind} {clip(str(value), 120)!r}" if value not in (None, "", []) else kind


def auth_headers() -> dict[str, str]:
    """MLflow's own auth variables: a bearer token, or basic username/password."""
    if token := os.environ.get("MLFLOW_TRACKING_TOKEN"):
        return {"Authorization": f"Bearer {token}"}
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    return {}


def _content_range(header: str, offset: int) -> tuple[int, int]:
    """(first byte, total size; -1 unknown) of a 206's `Content-Range: bytes a-b/total`."""
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", header.strip())
    if not match:
        return offset, -1
    return int(match.group(1)), int(match.group(2)) if match.group(2) != "*" else -1


async def _read_upto(response: httpx.Response, limit: int) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data)


class ResponseCache:
    """LRU of raw response bodies with per-entry expiry; bounded by entries and total bytes. Hits are
    decoded afresh, so callers may mutate what they get."""

    def __init__(
        self, max_entries: int = 2048, max_bytes: int = 32 * 1024 * 1024, max_item: int = 2 * 1024 * 1024
    ):
        self.max_entries, self.max_bytes, self.max_item = max_entries, max_bytes, max_item
        self._items: OrderedDict[Any, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def get(self, key: Any) -> bytes | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            if item is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[1]

    def put(self, key: Any, body: bytes, ttl: float) -> None:
        if ttl <= 0 or len(body) > self.max_item:
            return
        self._drop(key)
        self._items[key] = (time.monotonic() + ttl, body)
        self._bytes += len(body)
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._items)))

    def _drop(self, key: Any) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= len(item[1])

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


class MlflowRest:
    def __init__(
        self,
        tracking_uri: str,
        timeout: float = 10.0,
        retries: int = 1,
        run_ttl: float = 0.0,
        registry_ttl: float = 0.0,
    ) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        self.run_ttl, self.registry_ttl = run_ttl, registry_ttl
        self.cache = ResponseCache()
        self._terminal: dict[str, float] = {}  # run id -> until when its artifacts/history may be cached
        self._ready: dict[str, float] = {}  # LoggedModel id seen READY -> until when its files may be cached
        self._healthy = True
        self._authorization: str | None = None  # a caller's own credentials (see with_credentials)
        insecure = os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true"
        self._http = httpx.AsyncClient(
            base_url=self.tracking_uri,
            headers=auth_headers(),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=httpx.AsyncHTTPTransport(retries=retries, verify=not insecure),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    @property
    def _sends_credentials(self) -> bool:
        return self._authorization is not None or "authorization" in self._http.headers

    async def aclose(self) -> None:
        if self._authorization is None:  # a credentials view shares its parent's connection pool
            await self._http.aclose()

    def with_credentials(self, authorization: str) -> MlflowRest:
        """A view of this client that sends a caller's own MLflow credentials (an `Authorization`
        header value) on every request, sharing the connection pool but no cached answers."""
        view = copy.copy(self)
        view._authorization = authorization
        view.run_ttl = view.registry_ttl = 0.0
        view.cache = ResponseCache(max_entries=0)
        view._terminal = {}
        return view

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._authorization is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Authorization": self._authorization}
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            self._healthy = False
            raise BackendUnavailable(
                f"MLflow at {self.tracking_uri} did not answer in time ({type(exc).__name__}). "
                "It may be overloaded or down; retry shortly, or check the tracking server."
            ) from exc
        except httpx.HTTPError as exc:
            self._healthy = False
            raise BackendUnavailable(
                f"MLflow at {self.tracking_uri} is unreachable ({type(exc).__name__}). Check that the "
                "tracking server is running and that MLFLOW_TRACKING_URI / --tracking-uri points at it."
            ) from exc
        self._healthy = response.status_code < 500
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        code, message = body.get("error_code", ""), body.get("message") or plain_text(response.text[:2000])
        if response.status_code == 404 or code == "RESOURCE_DOES_NOT_EXIST":
            raise MlflowMissing(message)
        if response.status_code == 401 or code == "UNAUTHENTICATED":
            raise PermissionDenied(
                f"MLflow at {self.tracking_uri} requires credentials (401) and "
                + ("rejected the ones sent. " if self._sends_credentials else "none were sent. ")
                + CREDENTIALS_HINT
            )
        if response.status_code == 403 or code == "PERMISSION_DENIED":
            raise PermissionDenied(
                f"Permission denied for {subject_of(path, kwargs)} (MLflow 403): these MLflow credentials may "
                "not read it, or it does not exist (MLflow answers 403 for both). Ask an MLflow admin for "
                "READ on it, or check the name or id."
            )
        if response.status_code == 400 or code == "INVALID_PARAMETER_VALUE":
            raise InvalidArgument(f"MLflow rejected the request: {clip(message, 300)}")
        raise BackendUnavailable(
            f"MLflow at {self.tracking_uri} failed ({response.status_code} {code}): {message[:300]}"
        )

    # -- cache ------------------------------------------------------------------------------------

    def _cached(self, key: Any) -> bytes | None:
        return self.cache.get(key) if self._healthy else None

    def _run_is_terminal(self, run_id: str | None) -> bool:
        return bool(run_id) and self._terminal.get(run_id, 0.0) > time.monotonic()  # type: ignore[arg-type]

    def _note_runs(self, runs: list[Run]) -> None:
        """Remember which runs are in a terminal state (their artifacts and history may be cached)."""
        if self.run_ttl <= 0:
            return
        until = time.monotonic() + self.run_ttl
        for run in runs:
            if run.is_terminal and run.run_id:
                self._terminal[run.run_id] = until
        if len(self._terminal) > 4 * self.cache.max_entries:
            now = time.monotonic()
            self._terminal = {k: v for k, v in self._terminal.items() if v > now}

    async def _get(self, endpoint: str, ttl: float = 0.0, **params: Any) -> Json:
        clean = {k: v for k, v in params.items() if v is not None}
        key = ("GET", endpoint, tuple(sorted(clean.items()))) if ttl > 0 else None
        if key is not None and (body := self._cached(key)) is not None:
            return json.loads(body)
        response = await self._call("GET", f"/api/2.0/mlflow/{endpoint}", params=clean)
        data = response.json()
        # an empty answer is not cached: a finished run's artifacts can still arrive (uploaded after
        # end_run, or a LoggedModel's files), and "nothing there" must not outlive them for a minute
        if key is not None and any(v for k, v in data.items() if k != "root_uri"):
            self.cache.put(key, response.content, ttl)
        return data

    async def _post(self, endpoint: str, body: Json) -> Json:
        clean = {k: v for k, v in body.items() if v is not None}
        return (await self._call("POST", f"/api/2.0/mlflow/{endpoint}", json=clean)).json()

    async def search_experiments(
        self, filter_string: str | None, max_results: int, page_token: str | None, view_type: str
    ) -> Page[Experiment]:
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
        experiments = [Experiment.from_json(e) for e in body.get("experiments", [])]
        return experiments, body.get("next_page_token") or None

    async def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            body = await self._get("experiments/get-by-name", self.run_ttl, experiment_name=name)
        except MlflowMissing:
            return None
        return Experiment.from_json(body["experiment"])

    async def get_experiment(self, experiment_id: str) -> Experiment | None:
        try:
            body = await self._get("experiments/get", self.run_ttl, experiment_id=experiment_id)
        except MlflowMissing:
            return None
        except InvalidArgument:
            return None
        return Experiment.from_json(body["experiment"])

    async def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str,
        order_by: list[str],
        max_results: int,
        page_token: str | None,
        view_type: str,
    ) -> Page[Run]:
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
        runs = [Run.from_json(r) for r in body.get("runs", [])]
        self._note_runs(runs)
        return runs, body.get("next_page_token") or None

    async def get_run(self, run_id: str) -> Run:
        key = ("run", run_id)
        if self.run_ttl > 0 and (cached := self._cached(key)) is not None:
            return Run.from_json(json.loads(cached))
        response = await self._call("GET", "/api/2.0/mlflow/runs/get", params={"run_id": run_id})
        body = response.json()["run"]
        run = Run.from_json(body)
        if run.is_terminal:  # a RUNNING run is never cached
            self._note_runs([run])
            self.cache.put(key, json.dumps(body).encode(), self.run_ttl)
        return run

    async def get_metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        token: str | None = None
        while True:
            body = await self._get(
                "metrics/get-history",
                self.run_ttl if self._run_is_terminal(run_id) else 0.0,
                run_id=run_id,
                metric_key=key,
                max_results=25000,
                page_token=token,
            )
            points.extend(MetricPoint.from_json(m) for m in body.get("metrics", []))
            token = body.get("next_page_token")
            if not token:
                return points

    async def list_artifacts(self, run_id: str, path: str | None) -> list[ArtifactFile]:
        files: list[ArtifactFile] = []
        token: str | None = None
        while True:
            body = await self._get(
                "artifacts/list",
                self.run_ttl if self._run_is_terminal(run_id) else 0.0,
                run_id=run_id,
                path=path or None,
                page_token=token,
            )
            files.extend(ArtifactFile.from_json(f) for f in body.get("files", []))
            token = body.get("next_page_token")
            if not token:
                return files

    async def read_artifact(self, run_id: str, path: str, offset: int, length: int) -> tuple[bytes, int]:
        # /get-artifact streams the file through the tracking server whatever the artifact store;
        # we stop reading once the window is filled, so a 2 GB file costs no more than the window.
        key = ("artifact", run_id, path, offset, length)
        cacheable = self._run_is_terminal(run_id)
        if cacheable and (cached := self._cached(key)) is not None:
            total, _, data = cached.partition(b"\n")
            return data, int(total)
        data, total = await self._read_artifact(run_id, path, offset, length)
        if cacheable:
            self.cache.put(key, str(total).encode() + b"\n" + data, self.run_ttl)
        return data, total

    async def _read_artifact(self, run_id: str, path: str, offset: int, length: int) -> tuple[bytes, int]:
        return await self._stream("/get-artifact", {"path": path, "run_uuid": run_id}, path, offset, length)

    async def _stream(
        self, url: str, params: dict[str, str], path: str, offset: int, length: int
    ) -> tuple[bytes, int]:
        # a Range request where the server honours it (206); otherwise the stream is read up to the
        # window's end, keeping only the window's bytes, so a deep offset into 2 GB costs no memory
        headers = {"Range": f"bytes={offset}-{offset + length}"} if offset else {}
        request = self._http.build_request("GET", url, params=params, headers=headers)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            self._healthy = False
            raise BackendUnavailable(
                f"MLflow at {self.tracking_uri} is unreachable ({type(exc).__name__})."
            ) from exc
        self._healthy = response.status_code < 500
        try:
            if response.status_code == 404:
                raise MlflowMissing(path)
            if response.status_code == 416:  # the offset is past the end
                total = response.headers.get("content-range", "").rpartition("/")[2]
                return b"", int(total) if total.isdigit() else offset
            if response.status_code >= 400:
                await response.aread()
                raise BackendUnavailable(
                    f"MLflow could not serve artifact {path!r} ({response.status_code}): {response.text[:200]}"
                )
            if response.status_code == 206:
                start, total = _content_range(response.headers.get("content-range", ""), offset)
                data = await _read_upto(response, length + 1)
                return data[offset - start : offset - start + length], total
            declared = response.headers.get("content-length")
            kept, seen, exhausted = bytearray(), 0, True
            async for chunk in response.aiter_bytes():
                if seen + len(chunk) > offset:  # the part of the chunk inside the window
                    kept += chunk[max(offset - seen, 0) : offset + length + 1 - seen]
                seen += len(chunk)
                if seen > offset + length:
                    exhausted = False
                    break
            # -1: size unknown (no content-length and we stopped reading before the end)
            total = int(declared) if declared is not None else (seen if exhausted else -1)
            return bytes(kept[:length]), total
        finally:
            await response.aclose()

    # -- MLflow 3 LoggedModels ---------------------------------------------------------------------

    def _note_models(self, models: list[LoggedModel]) -> None:
        """A READY model's files no longer change: its listings and reads may be cached."""
        if self.run_ttl > 0:
            until = time.monotonic() + self.run_ttl
            self._ready.update({m.model_id: until for m in models if m.status == "READY"})

    def _model_ttl(self, model_id: str) -> float:
        return self.run_ttl if self._ready.get(model_id, 0.0) > time.monotonic() else 0.0

    async def search_logged_models(
        self,
        experiment_ids: list[str],
        filter_string: str | None,
        datasets: list[Json],
        order_by: list[Json],
        max_results: int,
        page_token: str | None,
    ) -> Page[LoggedModel]:
        body = await self._post(
            "logged-models/search",
            {
                "experiment_ids": experiment_ids,
                "filter": filter_string or None,
                "datasets": datasets or None,
                "order_by": order_by or None,
                "max_results": max_results,
                "page_token": page_token,
            },
        )
        models = [LoggedModel.from_json(m) for m in body.get("models", [])]
        self._note_models(models)
        return models, body.get("next_page_token") or None

    async def get_logged_model(self, model_id: str) -> LoggedModel:
        body = await self._get(f"logged-models/{quote(model_id, safe='')}")
        model = LoggedModel.from_json(body["model"])
        self._note_models([model])
        return model

    async def list_logged_model_artifacts(self, model_id: str, path: str | None) -> list[ArtifactFile]:
        body = await self._get(
            f"logged-models/{quote(model_id, safe='')}/artifacts/directories",
            self._model_ttl(model_id),
            artifact_directory_path=path or None,
        )
        return [ArtifactFile.from_json(f) for f in body.get("files", [])]

    async def read_logged_model_artifact(
        self, model_id: str, path: str, offset: int, length: int
    ) -> tuple[bytes, int]:
        # MLflow 3.17 serves a model's files only under /ajax-api (the /api/2.0 twin answers 404).
        key = ("model-artifact", model_id, path, offset, length)
        ttl = self._model_ttl(model_id)
        if ttl > 0 and (cached := self._cached(key)) is not None:
            total, _, data = cached.partition(b"\n")
            return data, int(total)
        url = f"/ajax-api/2.0/mlflow/logged-models/{quote(model_id, safe='')}/artifacts/files"
        data, total = await self._stream(url, {"artifact_file_path": path}, path, offset, length)
        if ttl > 0:
            self.cache.put(key, str(total).encode() + b"\n" + data, ttl)
        return data, total

    async def search_registered_models(
        self, filter_string: str | None, max_results: int, page_token: str | None
    ) -> Page[RegisteredModel]:
        body = await self._get(
            "registered-models/search",
            self.registry_ttl,
            filter=filter_string or None,
            max_results=max_results,
            page_token=page_token,
            order_by="name ASC",
        )
        models = [RegisteredModel.from_json(m) for m in body.get("registered_models", [])]
        return models, body.get("next_page_token") or None

    async def get_registered_model(self, name: str) -> RegisteredModel:
        body = await self._get("registered-models/get", self.registry_ttl, name=name)
        return RegisteredModel.from_json(body["registered_model"])

    async def search_model_versions(
        self, filter_string: str, max_results: int, page_token: str | None
    ) -> Page[ModelVersion]:
        body = await self._get(
            "model-versions/search",
            self.registry_ttl,
            filter=filter_string,
            max_results=max_results,
            page_token=page_token,
            order_by="version_number DESC",
        )
        versions = [ModelVersion.from_json(v) for v in body.get("model_versions", [])]
        return versions, body.get("next_page_token") or None
