"""Which experiments exist: a page of them by name, with creation and update times and tags."""

from __future__ import annotations

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Experiment
from ..core.answer import Answer
from ..core.formatting import clip, iso_from_ms
from ..core.paging import PageInfo, Pager
from .mlflow_lookup import name_contains_filter


class ExperimentRow(Answer):
    name: str
    experiment_id: str
    lifecycle_stage: str
    created: str | None = None
    last_updated: str | None = None
    artifact_location: str | None = None
    description: str | None = None
    tags: dict[str, str] = {}


class ExperimentList(PageInfo):
    experiments: list[ExperimentRow]


def experiment_row(e: Experiment) -> ExperimentRow:
    return ExperimentRow(
        name=e.name,
        experiment_id=e.experiment_id,
        lifecycle_stage=e.lifecycle_stage,
        created=iso_from_ms(e.creation_time),
        last_updated=iso_from_ms(e.last_update_time),
        artifact_location=e.artifact_location,
        description=clip(e.tags["mlflow.note.content"], 500) if e.tags.get("mlflow.note.content") else None,
        tags={k: clip(v, 200) for k, v in e.tags.items() if not k.startswith("mlflow.")},
    )


async def list_experiments(
    api: MlflowApi,
    name_contains: str | None,
    include_deleted: bool,
    page_size: int,
    page_token: str | None,
    budget: int,
) -> ExperimentList:
    view = "ALL" if include_deleted else "ACTIVE_ONLY"
    pager = Pager.open("mlflow_list_experiments", page_token, name_contains, view, page_size)
    filter_string = name_contains_filter(name_contains)
    rows, next_cursor = await api.search_experiments(filter_string, page_size, pager.backend_token, view)
    return pager.page(
        [experiment_row(e) for e in rows],
        lambda items, info: ExperimentList(experiments=items, **info.model_dump()),
        budget,
        next_cursor,
    )
