"""A throwaway PostgreSQL cluster and nginx for the PostgreSQL profile (tests/postgres/).

`PostgresCluster` runs `initdb` + `pg_ctl` from the Debian packages in a fresh temp dir, listening on a
free loopback port only (no unix socket in a shared place), trust auth for user `postgres`, fsync off.
PostgreSQL refuses to run as root, so when the tests run as root the server runs as the `postgres`
system user (created by the Debian package) through `runuser`. `Nginx` is a load balancer with its
whole config, logs and temp files in a temp dir. `MlflowOnPostgres` is `mlflow server` with a
PostgreSQL backend store and served artifacts."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .servers import MlflowServer, free_port, start_process, stop_process

PG_ENV = "MLFLOW_FEAST_MCP_PG"


def pg_bin_dir() -> Path | None:
    """Where `initdb` and `pg_ctl` live: PATH first, then the Debian layout /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def nginx_bin() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def missing_tools() -> list[str]:
    """What the profile needs and this machine lacks (empty: the profile can run)."""
    missing = []
    if pg_bin_dir() is None:
        missing.append("PostgreSQL server binaries (initdb, pg_ctl: apt-get install postgresql)")
    if nginx_bin() is None:
        missing.append("nginx (apt-get install nginx)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser (util-linux), to run PostgreSQL as a non-root user")
    for module, package in (("psycopg", "psycopg[binary]"), ("psycopg2", "psycopg2-binary")):
        try:  # postgresql:// means psycopg 3 to SQLAlchemy 2.1; Feast's docs use postgresql+psycopg2://
            __import__(module)
        except ImportError:
            missing.append(f"{module} (pip install '{package}')")
    return missing


class PostgresCluster:
    def __init__(self, databases: tuple[str, ...] = ("mlflow", "feast")) -> None:
        self.bin = pg_bin_dir()
        if self.bin is None:
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found")
        self.databases = databases
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mfm-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.as_root = os.geteuid() == 0

    def url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}\n{log}")
        return done

    def start(self) -> PostgresCluster:
        if self.as_root:  # the cluster's files belong to the user that runs it
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale", "C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start"
        )
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in self.databases:
                cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


class MlflowOnPostgres(MlflowServer):
    """`mlflow server --backend-store-uri postgresql://...` with served artifacts in `root/artifacts`."""

    def __init__(self, root: Path, backend_uri: str) -> None:
        super().__init__(root, backend_uri=backend_uri)


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_method $request_uri $status upstream=$upstream_addr';
    access_log {root}/access.log upstream;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream mcp_replicas {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location /mcp {{
            proxy_pass http://mcp_replicas;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


class Nginx:
    """nginx on 127.0.0.1:port, round-robin over `upstreams`, retrying the next one on error/timeout."""

    def __init__(self, root: Path, upstreams: list[int], port: int | None = None) -> None:
        self.root, self.upstreams = root, upstreams
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Nginx:
        self.root.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in self.upstreams
        )
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=self.root, servers=servers, port=self.port))
        binary = nginx_bin()
        assert binary, "nginx not installed"
        checked = subprocess.run(
            [binary, "-t", "-c", str(conf), "-p", str(self.root)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stderr
        self.proc = start_process(
            [binary, "-c", str(conf), "-p", str(self.root)], log=self.root / "stdout.log"
        )
        deadline = time.monotonic() + 20
        while not (self.root / "nginx.pid").exists() and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.root / "error.log").read_text()[-2000:])
            time.sleep(0.1)
        return self

    def upstreams_used(self) -> list[str]:
        """The upstream address of every proxied request, in order (from the access log)."""
        log = self.root / "access.log"
        return [
            line.rsplit("upstream=", 1)[1].strip()
            for line in log.read_text().splitlines()
            if "upstream=" in line
        ]

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
