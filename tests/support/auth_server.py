"""A real `mlflow server --app-name basic-auth` on loopback (MLflow 3.17), with an admin, users and
grants made through its REST API, and a small world in which a reader may see one experiment and one
registered model only.

MLflow 3.17's facts this relies on (read in mlflow/server/auth/):
- the config file is `MLFLOW_AUTH_CONFIG_PATH` (an ini with a `[mlflow]` section); the packaged
  default has `default_permission = READ` (every user reads everything) and no admin password: the
  admin user is created on first start from `admin_password` or `MLFLOW_AUTH_ADMIN_PASSWORD`, and the
  server refuses to start without one. `MLFLOW_FLASK_SERVER_SECRET_KEY` must be set too (CSRF).
- users: POST /api/2.0/mlflow/users/create {username, password} (admin only).
- grants: the 2.x `/api/2.0/mlflow/experiments/permissions/create` is gone; 3.17 grants through
  POST /api/3.0/mlflow/users/permissions/grant {username, resource_type, resource_id, permission}
  with resource_type 'experiment' (id) or 'registered_model' (name), permission READ, USE, EDIT,
  MANAGE, DENY or NO_PERMISSIONS."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from support.servers import free_port, start_process, stop_process, wait_http

ADMIN = "admin"
READER = "reader"

GRANT = "/api/3.0/mlflow/users/permissions/grant"
CREATE_USER = "/api/2.0/mlflow/users/create"


@dataclass
class AuthWorld:
    """Ids of what the admin logged: the reader may read the `allowed_*` ones and nothing else."""

    allowed_experiment: str
    forbidden_experiment: str
    allowed_run: str
    forbidden_run: str
    allowed_model: str
    forbidden_model: str
    users: dict[str, str] = field(default_factory=dict)  # username -> password


class BasicAuthMlflowServer:
    """`mlflow server --app-name basic-auth` on 127.0.0.1: SQLite stores, served artifacts, an admin
    with a random password, and `default_permission` NO_PERMISSIONS (so grants are what a user gets)."""

    def __init__(self, root: Path, default_permission: str = "NO_PERMISSIONS") -> None:
        self.root = root
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.default_permission = default_permission
        self.users: dict[str, str] = {ADMIN: secrets.token_urlsafe(16)}
        self.proc: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        return self.root / "basic_auth.ini"

    def start(self) -> BasicAuthMlflowServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            "[mlflow]\n"
            f"default_permission = {self.default_permission}\n"
            f"database_uri = sqlite:///{self.root / 'basic_auth.db'}\n"
            f"admin_username = {ADMIN}\n"
            f"admin_password = {self.users[ADMIN]}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        env = {
            **os.environ,
            "MLFLOW_AUTH_CONFIG_PATH": str(self.config_path),
            "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
            "MLFLOW_ENABLE_WORKSPACES": "false",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no huey workers: they cost CPU, not needed
        }
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_AUTH_ADMIN_PASSWORD"):
            env.pop(key, None)
        mlflow = Path(sys.executable).with_name("mlflow")
        self.proc = start_process(
            [
                str(mlflow),
                "server",
                "--app-name",
                "basic-auth",
                "--backend-store-uri",
                f"sqlite:///{self.root / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.root / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            log=self.root / "server.log",
            env=env,
        )
        wait_http(f"{self.uri}/health", timeout=180, proc=self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def http(self, user: str | None = ADMIN, password: str | None = None) -> httpx.Client:
        """A REST client as `user` (None: no credentials; `password` overrides the real one)."""
        auth = None if user is None else (user, password if password is not None else self.users[user])
        return httpx.Client(base_url=self.uri, auth=auth, timeout=20)

    def create_user(self, username: str, password: str | None = None) -> str:
        password = password or secrets.token_urlsafe(16)
        with self.http() as admin:
            admin.post(CREATE_USER, json={"username": username, "password": password}).raise_for_status()
        self.users[username] = password
        return password

    def grant(self, username: str, resource_type: str, resource_id: str, permission: str = "READ") -> None:
        body = {
            "username": username,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "permission": permission,
        }
        with self.http() as admin:
            admin.post(GRANT, json=body).raise_for_status()

    def env(self, user: str = ADMIN) -> dict[str, str]:
        """What an MLflow client (or our server) reads its credentials from."""
        return {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": self.users[user]}


def log_auth_world(server: BasicAuthMlflowServer) -> AuthWorld:
    """As admin: two experiments with a run each, two registered models with a version each; a reader
    with READ on the allowed experiment and the allowed model only."""
    from mlflow.tracking import MlflowClient

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ.update(server.env(ADMIN))  # MlflowClient reads credentials from the environment
    try:
        client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
        ids: dict[str, str] = {}
        for role in ("allowed", "forbidden"):
            eid = client.create_experiment(f"auth_{role}")
            run = client.create_run(eid, run_name=f"{role}_run")
            client.log_param(run.info.run_id, "algorithm", "xgboost")
            client.log_metric(run.info.run_id, "test_accuracy", 0.66)
            client.set_terminated(run.info.run_id)
            model = f"auth_{role}_model"
            client.create_registered_model(model)
            client.create_model_version(model, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
            ids |= {f"{role}_experiment": eid, f"{role}_run": run.info.run_id, f"{role}_model": model}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    server.create_user(READER)
    server.grant(READER, "experiment", ids["allowed_experiment"])
    server.grant(READER, "registered_model", ids["allowed_model"])
    return AuthWorld(**ids, users=dict(server.users))
