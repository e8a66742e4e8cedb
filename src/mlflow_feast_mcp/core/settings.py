"""Configuration from the environment, overridden by CLI flags (names fixed in DESIGN.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from .budget import DEFAULT_BUDGET

# The seed's headline metrics (services/conventions.py holds the other names the server reads).
DEFAULT_KEY_METRICS = ["test_accuracy", "train_accuracy", "training_samples", "test_samples"]
DEFAULT_PREDICTIONS_TABLE = "ml_dev.predictions"


class Settings(BaseModel):
    tracking_uri: str = "http://localhost:5000"
    feast_repo: Path = Path("./feature_repo")
    default_experiment: str = "nba_game_winner_prediction"
    default_model: str = "game_winner_model"
    response_budget: int = Field(DEFAULT_BUDGET, ge=2_000, le=1_000_000)
    mlflow_timeout: float = Field(10.0, gt=0, description="seconds per MLflow request")
    mlflow_retries: int = Field(1, ge=0, le=5)
    feast_cache_ttl: float = Field(30.0, ge=0, description="seconds a loaded Feast registry is reused")
    mlflow_cache_ttl: float = Field(
        60.0,
        ge=0,
        description="seconds finished runs, their artifacts and metric histories are cached (0: off)",
    )
    registry_cache_ttl: float = Field(5.0, ge=0, description="seconds registry reads are cached (0: off)")
    mlflow_backend: Literal["auto", "rest", "client"] = "auto"
    http_token: str | None = None
    http_request_timeout: float = Field(
        30.0, gt=0, description="seconds a whole HTTP request may take to arrive"
    )
    forward_credentials: bool = Field(
        False, description="HTTP: call MLflow with each client's X-MLflow-Authorization, not the server's"
    )
    page_token_key: str | None = Field(
        None, description="key that signs page tokens; set the same one on replicas behind one balancer"
    )
    allowed_hosts: list[str] = []
    key_metrics: list[str] = Field(
        DEFAULT_KEY_METRICS, min_length=1, description="metrics shown first in every run and version summary"
    )
    describe_sample: int = Field(
        1000, ge=10, le=50_000, description="newest runs mlflow_describe_experiment reads for key statistics"
    )
    toolsets: list[str] | None = Field(
        None, description="load only these parts of the catalogue (default: all)"
    )
    predictions_uri: str | None = Field(None, description="SQLAlchemy URL of the predictions database")
    predictions_table: str = Field(DEFAULT_PREDICTIONS_TABLE, description="[schema.]table of the predictions")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "tracking_uri": env.get("MLFLOW_TRACKING_URI") or cls.model_fields["tracking_uri"].default,
            "feast_repo": env.get("FEAST_REPO_PATH") or cls.model_fields["feast_repo"].default,
            "default_experiment": env.get("MLFLOW_FEAST_MCP_DEFAULT_EXPERIMENT")
            or cls.model_fields["default_experiment"].default,
            "default_model": env.get("MLFLOW_FEAST_MCP_DEFAULT_MODEL")
            or cls.model_fields["default_model"].default,
            "http_token": env.get("MLFLOW_FEAST_MCP_TOKEN") or None,
            "page_token_key": env.get("MLFLOW_FEAST_MCP_PAGE_TOKEN_KEY") or None,
            "predictions_uri": env.get("MLFLOW_FEAST_MCP_PREDICTIONS_URI") or None,
            "predictions_table": env.get("MLFLOW_FEAST_MCP_PREDICTIONS_TABLE") or DEFAULT_PREDICTIONS_TABLE,
        }
        for field, var in (
            ("response_budget", "MLFLOW_FEAST_MCP_RESPONSE_BUDGET"),
            ("mlflow_timeout", "MLFLOW_FEAST_MCP_MLFLOW_TIMEOUT"),
            ("mlflow_retries", "MLFLOW_FEAST_MCP_MLFLOW_RETRIES"),
            ("feast_cache_ttl", "MLFLOW_FEAST_MCP_FEAST_CACHE_TTL"),
            ("mlflow_cache_ttl", "MLFLOW_FEAST_MCP_MLFLOW_CACHE_TTL"),
            ("registry_cache_ttl", "MLFLOW_FEAST_MCP_REGISTRY_CACHE_TTL"),
            ("mlflow_backend", "MLFLOW_FEAST_MCP_MLFLOW_BACKEND"),
            ("forward_credentials", "MLFLOW_FEAST_MCP_FORWARD_CREDENTIALS"),
            ("http_request_timeout", "MLFLOW_FEAST_MCP_HTTP_REQUEST_TIMEOUT"),
            ("describe_sample", "MLFLOW_FEAST_MCP_DESCRIBE_SAMPLE"),
        ):
            if env.get(var):
                values[field] = env[var]
        for field, var in (
            ("allowed_hosts", "MLFLOW_FEAST_MCP_ALLOWED_HOSTS"),
            ("toolsets", "MLFLOW_FEAST_MCP_TOOLSETS"),
            ("key_metrics", "MLFLOW_FEAST_MCP_KEY_METRICS"),
        ):
            if env.get(var):
                values[field] = [item.strip() for item in env[var].split(",") if item.strip()]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    @property
    def uses_rest(self) -> bool:
        """Speak MLflow's REST API directly (no `import mlflow`) for http(s) tracking URIs."""
        if self.mlflow_backend != "auto":
            return self.mlflow_backend == "rest"
        return self.tracking_uri.startswith(("http://", "https://"))
