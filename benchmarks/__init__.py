"""Benchmarks for mlflow-feast-mcp: cold start, warm latency next to the raw clients, response tokens
per seed question next to the peer MCP servers, HTTP concurrency, and scale (see README.md).

Run: ``python -m benchmarks [--quick] [--json OUT]``."""
