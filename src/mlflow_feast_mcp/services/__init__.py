"""What the tools answer, computed from the backends: MCP-free, reused by several tools."""
