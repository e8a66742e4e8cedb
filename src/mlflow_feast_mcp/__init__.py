"""mlflow-feast-mcp: a read-only MCP server over MLflow and Feast, the systems of record."""

__version__ = "0.1.0"
