"""Feast data sources as answers: what each points at (file, warehouse table or query, push, request
schema, Kafka or Kinesis stream) and the views reading it; plus the small helpers every Feast answer
shares."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from ..backends.feast_registry import FeastProject, is_local
from ..core.formatting import clip
from ..core.render import render, scalar


class FeastField(BaseModel):
    name: str
    dtype: str
    description: str | None = None
    tags: dict[str, str] = {}


class SourceInfo(BaseModel):
    name: str | None = None
    type: str
    path: str | None = None
    table: str | None = None
    query: str | None = None
    timestamp_field: str | None = None
    created_timestamp_column: str | None = None
    exists: bool | None = Field(None, description="for local files: does the file exist?")
    details: dict[str, str] = Field({}, description="topic, servers, format, region, batch_source...")
    fields: list[FeastField] = []


class DataSourceRow(SourceInfo):
    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] = {}
    used_by: list[str] = []


def cell(value: Any) -> str:
    """A structured value in one table cell: lists joined with ', ', mappings as k=v."""
    if (
        isinstance(value, dict) and "name" in value and "dtype" in value
    ):  # a field: 'name: dtype (description)'
        about = f" ({scalar(value['description'])})" if value.get("description") else ""
        return f"{scalar(value['name'])}: {scalar(value['dtype'])}{about}"
    if isinstance(value, dict):
        return ", ".join(f"{scalar(k)}={cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    return scalar(value)


def lean_table(rows: list[dict[str, Any]], order: list[str], indent: str = "  ") -> list[str]:
    """Rows (structured dumps, empty fields already dropped) as `a | b` lines in the model's field
    order; a column nobody fills is left out, an empty cell is '-'."""
    columns = [c for c in order if any(c in row for row in rows)]
    return [indent + " | ".join(columns)] + [
        indent + " | ".join(cell(row[c]) if c in row else "-" for c in columns) for row in rows
    ]


def lean_render(data: dict[str, Any], tables: dict[str, list[str]]) -> str:
    """A structured answer as text: `tables` (key -> column order) as lean tables, the rest as
    `key: value` lines; nothing empty or default is shown."""
    lines = []
    for key, value in data.items():
        if key in tables and isinstance(value, list) and value:
            lines += [f"{key} ({len(value)}):", *lean_table(value, tables[key])]
        else:
            lines.append(render({key: value}))
    return "\n".join(line for line in lines if line)


def format_ttl(ttl: timedelta | None) -> str | None:
    """`365d`, `12h`, `90m`; None or zero is 'forever' in Feast and shown as None."""
    if not ttl:
        return None
    seconds = int(ttl.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def text_of(value: Any, limit: int = 2000) -> str | None:
    return clip(str(value), limit) if value else None


def tags_of(tags: dict | None) -> dict[str, str]:
    return {str(k): clip(str(v), 500) for k, v in sorted((tags or {}).items())}


def matches(name: str, part: str | None) -> bool:
    return not part or part.strip().lower() in name.lower()


def attr(obj: Any, dotted: str) -> Any:
    """obj.a.b, None when any step is missing (some sources raise for attributes they lack)."""
    for part in dotted.split("."):
        try:
            obj = getattr(obj, part, None)
        except Exception:
            return None
        if obj is None:
            return None
    return obj


def _format_name(fmt: Any) -> str | None:
    """JsonFormat -> 'json', AvroFormat -> 'avro', ProtoFormat -> 'proto', ParquetFormat -> 'parquet'."""
    if fmt is None or isinstance(fmt, str):
        return fmt or None
    return type(fmt).__name__.removesuffix("Format").lower() or None


def _stream_details(source: Any) -> dict[str, Any]:
    kafka, kinesis = attr(source, "kafka_options"), attr(source, "kinesis_options")
    if kafka is not None:
        fmt = attr(kafka, "message_format")
        return {
            "topic": attr(kafka, "topic"),
            "servers": attr(kafka, "kafka_bootstrap_servers"),
            "format": _format_name(fmt),
            "schema": attr(fmt, "schema_json"),
            "watermark_delay": format_ttl(attr(kafka, "watermark_delay_threshold")),
        }
    if kinesis is not None:
        fmt = attr(kinesis, "record_format")
        return {
            "stream": attr(kinesis, "stream_name"),
            "region": attr(kinesis, "region"),
            "format": _format_name(fmt),
            "schema": attr(fmt, "schema_json"),
        }
    return {}


def _details(source: Any) -> dict[str, str]:
    kind = type(source).__name__
    values: dict[str, Any] = _stream_details(source)
    if kind in ("SnowflakeSource", "RedshiftSource", "AthenaSource"):
        values |= {"database": attr(source, "database"), "schema": attr(source, "schema")}
    if kind == "AthenaSource":
        values["data_source"] = attr(source, "data_source")
    if kind in ("FileSource", "SparkSource"):
        values["format"] = _format_name(attr(source, "file_format"))
        values["table_format"] = _format_name(attr(source, "table_format"))
        values["s3_endpoint"] = attr(source, "s3_endpoint_override")
    batch = attr(source, "batch_source")
    if batch is not None and kind != "RequestSource":
        values["batch_source"] = attr(batch, "name")
    return {k: clip(str(v), 500) for k, v in values.items() if v not in (None, "")}


def _table_and_query(source: Any) -> tuple[str | None, str | None]:
    table, query = attr(source, "table"), attr(source, "query")
    if table is None and query is None:  # PostgreSQLSource keeps them private
        options = attr(source, "_postgres_options")
        table, query = attr(options, "_table"), attr(options, "_query")
    return (str(table) if table else None), (clip(str(query), 2000) if query else None)


def source_info(project: FeastProject, source: Any) -> SourceInfo:
    kind = type(source).__name__
    path = attr(source, "path") if kind in ("FileSource", "SparkSource") else None
    path = str(path) if path else None
    table, query = _table_and_query(source)
    fields = [
        FeastField(name=f.name, dtype=str(f.dtype), description=text_of(f.description, 500))
        for f in attr(source, "schema") or []
        if kind == "RequestSource"
    ]
    timestamp = attr(source, "timestamp_field")
    created = attr(source, "created_timestamp_column")
    return SourceInfo(
        name=attr(source, "name") or None,
        type=kind,
        path=project.display_path(path) if path else None,
        table=table,
        query=query,
        timestamp_field=str(timestamp) if timestamp else None,
        created_timestamp_column=str(created) if created else None,
        exists=project.resolve_path(path).exists() if path and is_local(path) else None,
        details=_details(source),
        fields=fields,
    )


def sources_read_by(view: Any) -> list[str]:
    """Names of the data sources a view reads: batch, stream or push, request; a label view's push."""
    names = [attr(view, "batch_source.name"), attr(view, "stream_source.name"), attr(view, "source.name")]
    names += list(attr(view, "source_request_sources") or {})
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n]


def data_source_rows(project: FeastProject) -> list[DataSourceRow]:
    readers: dict[str, list[str]] = {}
    for view in project.views.values():
        for name in sources_read_by(view):
            readers.setdefault(name, []).append(view.name)
    return [
        DataSourceRow(
            **source_info(project, s).model_dump(),
            description=text_of(attr(s, "description"), 500),
            owner=attr(s, "owner") or None,
            tags=tags_of(attr(s, "tags")),
            used_by=readers.get(s.name, []),
        )
        for s in project.sources.values()
    ]
