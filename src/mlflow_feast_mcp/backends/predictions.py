"""The predictions table (`ml_dev.predictions` by default), read-only, through SQLAlchemy Core.

The database is a SQLAlchemy URL (`MLFLOW_FEAST_MCP_PREDICTIONS_URI`); the table name
(`MLFLOW_FEAST_MCP_PREDICTIONS_TABLE`) is validated as `[schema.]table` identifiers, and every query
is built here from fixed column names: nothing a caller writes ever becomes SQL. SQLite opens the file
with `mode=ro` (and `PRAGMA query_only`), attached under the table's schema so `ml_dev.predictions`
works as written; PostgreSQL connects with `default_transaction_read_only=on` and reads in a
`BEGIN READ ONLY` transaction. A batch is the rows one run of `generate_game_predictions` wrote: the
same created time, model version and run id."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..core.errors import BackendUnavailable, InvalidArgument, NotFound, PermissionDenied, closest, quote
from ..core.formatting import clip

URI_ENV = "MLFLOW_FEAST_MCP_PREDICTIONS_URI"
TABLE_ENV = "MLFLOW_FEAST_MCP_PREDICTIONS_TABLE"
REQUIRED_COLUMNS = (
    "game_id",
    "predicted_winner",
    "probability",
    "model_name",
    "model_version",
    "run_id",
    "created_at",
)
BATCH_COLUMNS = ("model_name", "model_version", "run_id", "created_at", "feature_service")
# Read when present: the feature service the features came from, and the teams (class balance).
OPTIONAL_COLUMNS = ("game_date", "home_team_id", "away_team_id", "feature_service")
HOW_TO_CONFIGURE = (
    f"set {URI_ENV} to a SQLAlchemy URL of the database holding the predictions (e.g. "
    "sqlite:////abs/path/predictions.db, where the file is attached as the table's schema, or "
    f"postgresql://user@host:5432/db) and {TABLE_ENV} to its [schema.]table (default ml_dev.predictions); "
    "`mlflow-feast-mcp demo` writes one"
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def split_table_name(name: str) -> tuple[str | None, str]:
    """(schema or None, table) of `[schema.]table`; InvalidArgument for anything else."""
    parts = name.strip().split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise InvalidArgument(
            f"{TABLE_ENV}={quote(name)} is not a table name: use [schema.]table made of letters, digits and "
            "underscores, e.g. ml_dev.predictions."
        )
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


@dataclass(frozen=True)
class Batch:
    key: Any  # created_at as the database returned it, to select the batch again
    created_at: str | None
    model_version: str | None
    run_id: str | None
    rows: int


@dataclass(frozen=True)
class Writer:
    model_version: str | None
    run_id: str | None
    batches: int
    rows: int
    first: str | None
    last: str | None


@dataclass(frozen=True)
class BatchStats:
    rows: int
    probability_min: float | None
    probability_max: float | None
    probability_mean: float | None
    out_of_range: int
    below_half: int
    home_picks: int | None  # None: no home_team_id column
    feature_services: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    """What one spot-check read: scoped to one model name and an optional created-time window."""

    table: str
    database: str
    columns: list[str]
    rows: int = 0
    batch_count: int = 0
    first_batch: str | None = None
    last_batch: str | None = None
    batches: list[Batch] = field(default_factory=list)
    writers: list[Writer] = field(default_factory=list)
    nulls: dict[str, int] = field(default_factory=dict)
    newest: BatchStats | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    other_models: dict[str, int] = field(default_factory=dict)


def iso(value: Any) -> str | None:
    """A created time (datetime, or SQLite's text) as ISO 8601 UTC; unparseable text as it is."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


class PredictionsStore:
    """One predictions table, read-only. Blocking: call from a worker thread."""

    def __init__(self, uri: str, table: str, timeout: float = 10.0) -> None:
        import sqlalchemy as sa

        self.schema, self.name = split_table_name(table)
        self.table_name = f"{self.schema}.{self.name}" if self.schema else self.name
        try:
            url = sa.engine.make_url(uri)
        except Exception:
            raise InvalidArgument(f"{URI_ENV} is not a SQLAlchemy URL: {HOW_TO_CONFIGURE}.") from None
        self.database = url.render_as_string(hide_password=True)
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine(sa, url.database or "", timeout)
        elif self.dialect == "postgresql":
            self.engine = self._postgres_engine(sa, url, timeout)
        else:
            raise InvalidArgument(
                f"{URI_ENV} names a {self.dialect} database; predictions are read from SQLite or "
                "PostgreSQL only (where the connection can be made read-only)."
            )

    def _sqlite_engine(self, sa: Any, path: str, timeout: float) -> Any:
        if path in ("", ":memory:"):
            raise InvalidArgument(
                f"{URI_ENV} must name a SQLite file, e.g. sqlite:////abs/path/predictions.db."
            )
        file = Path(path).expanduser().resolve()
        if not file.is_file():
            raise BackendUnavailable(
                f"the predictions database {file} does not exist: run generate_game_predictions (the demo's "
                f"`mlflow-feast-mcp demo` does) or fix {URI_ENV}."
            )
        target = file.as_uri() + "?mode=ro"
        schema = self.schema

        def connect() -> sqlite3.Connection:
            if schema and schema != "main":  # the file is attached under the table's schema name
                connection = sqlite3.connect(":memory:", uri=True, timeout=timeout, check_same_thread=False)
                connection.execute(f'ATTACH DATABASE ? AS "{schema}"', (target,))
            else:
                connection = sqlite3.connect(target, uri=True, timeout=timeout, check_same_thread=False)
            connection.execute("PRAGMA query_only = ON")
            return connection

        return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)

    def _postgres_engine(self, sa: Any, url: Any, timeout: float) -> Any:
        options = f"-c default_transaction_read_only=on -c statement_timeout={int(timeout * 1000)}"
        try:
            return sa.create_engine(
                url,
                poolclass=sa.pool.NullPool,
                connect_args={"connect_timeout": max(int(timeout), 1), "options": options},
                execution_options={"postgresql_readonly": True},
            )
        except ImportError as exc:
            raise BackendUnavailable(
                f"no PostgreSQL driver ({exc}): pip install 'mlflow-feast-mcp[postgresql]'."
            ) from exc

    @property
    def label(self) -> str:
        return f"{self.table_name} in {self.database}"

    def close(self) -> None:
        self.engine.dispose()

    # -----------------------------------------------------------------------------------------
    # Reads

    def _errors(self, exc: Exception) -> Exception:
        """A SQLAlchemy failure as a domain error that says what to fix."""
        text = clip(" ".join(str(getattr(exc, "orig", None) or exc).split()), 300)
        if "permission denied" in text.lower():
            return PermissionDenied(
                f"the predictions database refused the read ({text}): grant SELECT on {self.table_name}."
            )
        return BackendUnavailable(
            f"the predictions database {self.database} could not be read ({type(exc).__name__}: {text}); "
            f"check {URI_ENV}."
        )

    def _columns(self, connection: Any) -> list[str]:
        """The table's columns, after checking it exists and has the required ones."""
        import sqlalchemy as sa

        inspector = sa.inspect(connection)
        if self.schema and self.dialect == "postgresql" and self.schema not in inspector.get_schema_names():
            raise NotFound(
                f"schema {self.schema!r} does not exist in {self.database}: create it and the table "
                f"{self.table_name} (generate_game_predictions does), or set {TABLE_ENV}."
            )
        tables = inspector.get_table_names(schema=self.schema)
        if self.name not in tables:
            similar = closest(self.name, tables)
            listed = ", ".join(sorted(tables)[:20]) or "none"
            raise NotFound(
                f"no table {self.table_name} in {self.database}"
                + (f" (did you mean {', '.join(similar)}?)" if similar else "")
                + f"; tables there: {listed}. Run generate_game_predictions to create it, or set {TABLE_ENV}."
            )
        columns = [c["name"] for c in inspector.get_columns(self.name, schema=self.schema)]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise InvalidArgument(
                f"table {self.table_name} lacks the columns {', '.join(missing)} (it has "
                f"{', '.join(columns[:30])}): a predictions table needs {', '.join(REQUIRED_COLUMNS)}; "
                f"point {TABLE_ENV} at one that has them."
            )
        return columns

    def reachable(self) -> tuple[int, int, str | None]:
        """(rows, batches, newest created time) of the whole table: the `check` command's probe."""
        import sqlalchemy as sa

        try:
            with self.engine.connect() as connection:
                self._columns(connection)
                t = sa.table(self.name, sa.column("created_at"), schema=self.schema)
                created = t.c.created_at
                probe = sa.select(sa.func.count(), sa.func.count(sa.distinct(created)), sa.func.max(created))
                rows, batches, newest = connection.execute(probe).one()
        except sa.exc.SQLAlchemyError as exc:
            raise self._errors(exc) from exc
        return int(rows), int(batches), iso(newest)

    def snapshot(
        self,
        model_name: str,
        since: datetime | None,
        until: datetime | None,
        batch_limit: int,
        sample_rows: int,
    ) -> Snapshot:
        """Every aggregate of the spot-check, in one read-only transaction."""
        import sqlalchemy as sa

        try:
            with self.engine.connect() as connection, connection.begin():
                columns = self._columns(connection)
                query = _Query(sa, self, columns, model_name, since, until)
                return query.run(connection, batch_limit, sample_rows)
        except sa.exc.SQLAlchemyError as exc:
            raise self._errors(exc) from exc


class _Query:
    """The spot-check's statements, built with SQLAlchemy Core over the known columns."""

    def __init__(
        self,
        sa: Any,
        store: PredictionsStore,
        columns: list[str],
        model_name: str,
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        self.sa, self.store, self.model_name = sa, store, model_name
        known = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in columns]
        self.t = sa.table(store.name, *(sa.column(c) for c in known), schema=store.schema)
        self.columns = known
        window = []
        for bound, op in ((since, "__ge__"), (until, "__lt__")):
            if bound is not None:
                window.append(getattr(self.t.c.created_at, op)(self._moment(bound)))
        self.window = window
        self.where = [self.t.c.model_name == model_name, *window]

    def _moment(self, moment: datetime) -> Any:
        """A bound created time: naive UTC text for SQLite (as SQLAlchemy stores it), aware otherwise."""
        sa = self.sa
        moment = moment.astimezone(timezone.utc)
        if self.store.dialect == "sqlite":
            return sa.bindparam(None, moment.replace(tzinfo=None), type_=sa.DateTime())
        return sa.bindparam(None, moment, type_=sa.DateTime(timezone=True))

    def run(self, connection: Any, batch_limit: int, sample_rows: int) -> Snapshot:
        snap = Snapshot(table=self.store.table_name, database=self.store.database, columns=self.columns)
        self._batches(connection, snap, batch_limit)
        if not snap.rows:
            snap.other_models = self._other_models(connection)
            return snap
        self._writers(connection, snap)
        snap.nulls = self._nulls(connection)
        newest = snap.batches[0]
        condition = self._batch(newest)
        snap.newest = self._stats(connection, condition)
        if sample_rows:  # the batch's own columns (model, version, run, time) are said once, not per row
            shown = [c for c in self.t.c if c.name not in BATCH_COLUMNS]
            picked = self.sa.select(*shown).where(*condition).order_by(self.t.c.game_id).limit(sample_rows)
            snap.samples = [dict(row._mapping) for row in connection.execute(picked)]
        return snap

    def _batches(self, connection: Any, snap: Snapshot, limit: int) -> None:
        sa, c = self.sa, self.t.c
        key = (c.created_at, c.model_version, c.run_id)
        grouped = sa.select(*key, sa.func.count().label("n")).where(*self.where).group_by(*key)
        sub = grouped.subquery()
        total = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sub.c.n), 0),
            sa.func.min(sub.c.created_at),
            sa.func.max(sub.c.created_at),
        )
        count, rows, first, last = connection.execute(total).one()
        snap.batch_count, snap.rows, snap.first_batch, snap.last_batch = (
            int(count),
            int(rows),
            iso(first),
            iso(last),
        )
        newest_first = grouped.order_by(c.created_at.desc(), c.model_version.desc()).limit(limit)
        snap.batches = [
            Batch(row[0], iso(row[0]), _text(row[1]), _text(row[2]), int(row[3]))
            for row in connection.execute(newest_first)
        ]

    def _writers(self, connection: Any, snap: Snapshot) -> None:
        sa, c = self.sa, self.t.c
        statement = (
            sa.select(
                c.model_version,
                c.run_id,
                sa.func.count(sa.distinct(c.created_at)),
                sa.func.count(),
                sa.func.min(c.created_at),
                sa.func.max(c.created_at),
            )
            .where(*self.where)
            .group_by(c.model_version, c.run_id)
            .order_by(sa.func.max(c.created_at).desc())
            .limit(50)
        )
        snap.writers = [
            Writer(_text(v), _text(r), int(b), int(n), iso(first), iso(last))
            for v, r, b, n, first, last in connection.execute(statement)
        ]

    def _nulls(self, connection: Any) -> dict[str, int]:
        sa = self.sa
        checked = [c for c in self.columns if c != "model_name"]
        sums = [sa.func.sum(sa.case((self.t.c[c].is_(None), 1), else_=0)) for c in checked]
        counts = connection.execute(sa.select(*sums).where(*self.where)).one()
        nulls = {c: int(n or 0) for c, n in zip(checked, counts, strict=True) if n}
        unnamed = sa.select(sa.func.count()).where(self.t.c.model_name.is_(None), *self.window)
        without_model = int(connection.execute(unnamed).scalar_one())
        if without_model:
            nulls["model_name"] = without_model  # rows no model claims: outside every model's scope
        return nulls

    def _batch(self, batch: Batch) -> list[Any]:
        c = self.t.c
        return [
            c.model_name == self.model_name,
            c.created_at == batch.key,
            c.model_version.is_not_distinct_from(batch.model_version),
            c.run_id.is_not_distinct_from(batch.run_id),
        ]

    def _stats(self, connection: Any, condition: list[Any]) -> BatchStats:
        sa, c = self.sa, self.t.c
        p = c.probability
        parts = [
            sa.func.count(),
            sa.func.min(p),
            sa.func.max(p),
            sa.func.avg(p),
            sa.func.sum(sa.case(((p < 0) | (p > 1), 1), else_=0)),
            sa.func.sum(sa.case((p < 0.5, 1), else_=0)),
        ]
        if "home_team_id" in self.columns:
            parts.append(sa.func.sum(sa.case((c.predicted_winner == c.home_team_id, 1), else_=0)))
        row = connection.execute(sa.select(*parts).where(*condition)).one()
        home = int(row[6] or 0) if len(row) > 6 else None
        services: list[str] = []
        if "feature_service" in self.columns:
            distinct = sa.select(c.feature_service).where(*condition).distinct().limit(5)
            services = [str(s) for (s,) in connection.execute(distinct) if s is not None]
        numbers = (_number(row[1]), _number(row[2]), _number(row[3]))
        return BatchStats(int(row[0]), *numbers, int(row[4] or 0), int(row[5] or 0), home, services)

    def _other_models(self, connection: Any) -> dict[str, int]:
        sa, c = self.sa, self.t.c
        statement = (
            sa.select(c.model_name, sa.func.count())
            .where(c.model_name.is_not(None), *self.window)
            .group_by(c.model_name)
            .order_by(sa.func.count().desc())
            .limit(20)
        )
        return {str(name): int(n) for name, n in connection.execute(statement)}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
