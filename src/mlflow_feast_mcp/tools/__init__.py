"""The tools, one module per concern. `register_all` puts every tool on a server."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from ..server.backends import Backends


def register_all(mcp: MCPServer, backends: Backends) -> None:
    from . import alignment, artifacts, feast, registry, runs, validation

    for module in (runs, artifacts, registry, feast, alignment, validation):
        module.register(mcp, backends)
