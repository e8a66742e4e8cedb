"""What the tools need from whoever serves them, as a protocol the tools own: the settings and the
backends. The server's lifespan yields an object that satisfies it; a tool asks for it with a `Deps`
parameter, which the SDK fills from the request's lifespan context (a test may pass its own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from mcp.server.elicitation import AcceptedElicitation
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve

from ..core.settings import Settings

if TYPE_CHECKING:
    from ..backends.feast_registry import FeastRegistry
    from ..backends.mlflow_api import MlflowApi
    from ..backends.predictions import PredictionsStore


class ToolDeps(Protocol):
    settings: Settings

    async def mlflow(self) -> MlflowApi: ...

    async def feast(self) -> FeastRegistry: ...

    async def predictions(self) -> PredictionsStore: ...

    def for_request(self, headers: Mapping[str, str] | None) -> ToolDeps:
        """The deps one call uses (e.g. with the caller's own MLflow credentials)."""
        ...


def from_context(ctx: Context) -> ToolDeps:
    return ctx.request_context.lifespan_context.for_request(ctx.headers)


Deps = Annotated[ToolDeps, Resolve(from_context)]

# The SDK wraps every resolved value in `AcceptedElicitation[Any]`. Pydantic caches parametrized
# generics only weakly, so once the garbage collector has run the class is built anew: about 4 ms of
# schema building on the event loop in every tool call. Holding it here keeps the cache warm.
_ACCEPTED = AcceptedElicitation[Any]
