"""Backend seams. A backend knows MLflow or Feast and nothing of MCP; tools ask it for data."""
