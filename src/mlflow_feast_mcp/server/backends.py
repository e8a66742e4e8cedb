"""Backend loading. The MCP handshake never waits for `import mlflow` or `import feast`: both
load in the background after start, a tool called early waits for its backend, and a backend
that failed to load is retried on the next call (MLflow or Feast may come back)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio

from ..core.errors import BackendUnavailable, PermissionDenied
from ..core.settings import Settings

if TYPE_CHECKING:
    from ..backends.feast_registry import FeastRegistry
    from ..backends.mlflow_api import MlflowApi
    from ..backends.predictions import PredictionsStore

log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Move what a loaded backend brought (modules, classes, protobuf descriptors: objects that live as
    long as the process) out of the collector's reach. Left in, every full collection walks them: 175
    ms with the GIL held, several times a second while a wide run's answer allocates, stalling every
    other call. Called once per backend; what is collected later is what answers allocate. The cost:
    the first Feast registry, frozen with the rest, stays in memory after its first reload."""
    gc.collect()
    gc.freeze()


# seconds after start before the Feast registry loads in the background (env override for A/B runs)
FEAST_WARM_DELAY = float(os.environ.get("MLFLOW_FEAST_MCP_FEAST_WARM_DELAY", "2.0") or 2.0)


class Backends:
    def __init__(self, settings: Settings, owns_process: bool = False) -> None:
        """`owns_process`: the server is the process (`serve`), so it may settle the heap (below)."""
        self.settings = settings
        self._settle = owns_process
        self._mlflow: MlflowApi | None = None
        self._mlflow_lock = asyncio.Lock()
        self._feast: FeastRegistry | None = None
        self._feast_loaded_at = 0.0
        self._feast_lock = asyncio.Lock()
        self._started = False
        self._tasks: set[asyncio.Task] = set()
        self._predictions: PredictionsStore | None = None

    def start(self) -> None:
        """Begin loading both backends in the background; safe to call more than once."""
        if self._started:
            return
        self._started = True
        loop = asyncio.get_running_loop()
        # `import feast` (seconds of CPU in a worker thread) contends for the GIL with the handshake
        # and the first MLflow answers, so its warm-up starts a little later; a Feast tool called
        # before then loads it at once.
        for warm, delay in ((self.mlflow, 0.0), (self.feast, FEAST_WARM_DELAY)):
            task = loop.create_task(self._warm(warm, delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _warm(load: Any, delay: float = 0.0) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            await load()
        except Exception as exc:  # reported to the first tool that needs it
            log.info("background load failed: %s", exc)

    async def mlflow(self) -> MlflowApi:
        if self._mlflow is not None:
            return self._mlflow
        async with self._mlflow_lock:
            if self._mlflow is None:
                self._mlflow = await self._open_mlflow()
                if self._settle:
                    await anyio.to_thread.run_sync(settle_heap)
        return self._mlflow

    async def _open_mlflow(self) -> MlflowApi:
        s = self.settings
        if s.uses_rest:
            from ..backends.mlflow_rest import MlflowRest

            return MlflowRest(
                s.tracking_uri,
                timeout=s.mlflow_timeout,
                retries=s.mlflow_retries,
                run_ttl=s.mlflow_cache_ttl,
                registry_ttl=s.registry_cache_ttl,
            )
        try:
            from ..backends.mlflow_client import MlflowLocal

            return await anyio.to_thread.run_sync(
                lambda: MlflowLocal(s.tracking_uri, timeout=s.mlflow_timeout, retries=s.mlflow_retries)
            )
        except Exception as exc:
            raise BackendUnavailable(f"MLflow at {s.tracking_uri} could not be opened: {exc}") from exc

    async def feast(self) -> FeastRegistry:
        """The Feast registry, reloaded when older than the cache TTL (so `feast apply` is seen)."""
        fresh = time.monotonic() - self._feast_loaded_at < self.settings.feast_cache_ttl
        if self._feast is not None and fresh:
            return self._feast
        async with self._feast_lock:
            fresh = time.monotonic() - self._feast_loaded_at < self.settings.feast_cache_ttl
            if self._feast is None or not fresh:
                from ..backends.feast_registry import open_feast_registry

                first = self._feast is None
                self._feast = await anyio.to_thread.run_sync(open_feast_registry, self.settings.feast_repo)
                self._feast_loaded_at = time.monotonic()
                if first and self._settle:
                    await anyio.to_thread.run_sync(settle_heap)
        return self._feast

    async def predictions(self) -> PredictionsStore:
        """The predictions table's read-only store; says how to configure it when it is not."""
        from ..backends.predictions import HOW_TO_CONFIGURE, PredictionsStore

        s = self.settings
        if not s.predictions_uri:
            raise BackendUnavailable(f"no predictions database is configured: {HOW_TO_CONFIGURE}.")
        if self._predictions is None:
            self._predictions = await anyio.to_thread.run_sync(
                PredictionsStore, s.predictions_uri, s.predictions_table, s.mlflow_timeout
            )
        return self._predictions

    def for_request(self, headers: Mapping[str, str] | None) -> Backends | CallerBackends:
        """The backends one call uses: these, or, when the server forwards each client's MLflow
        credentials, a view that calls MLflow with the caller's own (never the server's)."""
        if not self.settings.forward_credentials:
            return self
        return CallerBackends(self, (headers or {}).get(FORWARDED_HEADER))

    async def aclose(self) -> None:
        if self._mlflow is not None:
            await self._mlflow.aclose()
        if self._predictions is not None:
            self._predictions.close()


FORWARDED_HEADER = "x-mlflow-authorization"


class CallerBackends:
    """One caller's view in credential-forwarding mode: MLflow with the caller's `X-MLflow-Authorization`
    (no shared cache), Feast as the server sees it. The header is never logged."""

    def __init__(self, shared: Backends, authorization: str | None) -> None:
        self.settings = shared.settings
        self._shared, self._authorization = shared, authorization

    def for_request(self, headers: Mapping[str, str] | None) -> CallerBackends:
        return self

    async def mlflow(self) -> MlflowApi:
        if not self._authorization:
            raise PermissionDenied(
                "This server calls MLflow with each client's own credentials: send them in the "
                "X-MLflow-Authorization header (e.g. 'Basic <base64 user:password>' or 'Bearer <token>')."
            )
        api = await self._shared.mlflow()
        with_credentials = getattr(api, "with_credentials", None)
        if with_credentials is None:
            raise BackendUnavailable("Forwarding MLflow credentials needs an http(s) tracking URI.")
        return with_credentials(self._authorization)

    async def feast(self) -> FeastRegistry:
        return await self._shared.feast()

    async def predictions(self) -> PredictionsStore:
        return await self._shared.predictions()
