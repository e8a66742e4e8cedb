"""The MCP server: configuration, backend loading, transports and the CLI."""
