"""Seed a tracking store with N runs (10,000 by default, 100,000 for the scale figures) through
MLflow's own store, never hand-written SQL. Two modes:
- `--mode api`: `SqlAlchemyStore.create_run`, `log_batch`, `update_run_info` per run (three
  transactions a run: the path a client takes; about 15-50 runs/s on a busy 2-core box);
- `--mode bulk` (default): the same rows as MLflow's own ORM models (`SqlRun`, `SqlTag`, `SqlParam`,
  `SqlMetric`, `SqlLatestMetric`) added through the store's `ManagedSessionMaker`, 1,000 runs per
  transaction: the direct-insert path, fast enough for 100,000 runs.
Works on SQLite and PostgreSQL store URIs. The runs are generated deterministically from their
index, so `expected()` tells the scale check (benchmarks/scale_search.py) exact answers.

    python benchmarks/seed_scale.py --store sqlite:////tmp/scale.db --runs 10000
    python benchmarks/seed_scale.py --store postgresql://postgres@127.0.0.1:5432/mlflow --runs 100000 --workers 4

Each run: params algorithm/model_version/feature_count/C, metrics test_accuracy/train_accuracy/
training_samples, tags, status FINISHED, distinct start times (1 s apart, index order)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

ALGORITHMS = ("logistic_regression", "gradient_boosting", "random_forest", "xgboost")
BASE_TIME_MS = 1_700_000_000_000
DEFAULT_EXPERIMENT = "scale_runs"


@dataclass(frozen=True)
class RunSpec:
    index: int
    name: str
    algorithm: str
    model_version: str
    feature_count: int
    test_accuracy: float
    train_accuracy: float
    start_ms: int


def spec(i: int) -> RunSpec:
    acc = round(0.5 + (i * 7919 % 5000) / 10_000, 4)  # 0.5 .. 0.9999, spread over the index
    return RunSpec(
        index=i,
        name=f"scale_{i:06d}",
        algorithm=ALGORITHMS[i % len(ALGORITHMS)],
        model_version=f"v{i % 10}.0",
        feature_count=12 + i % 5,
        test_accuracy=acc,
        train_accuracy=round(min(acc + 0.05, 1.0), 4),
        start_ms=BASE_TIME_MS + i * 1000,
    )


# The scale check's queries and how many runs each must return (computed from the generator).
QUERIES = {
    "all": ("", lambda s: True),
    "xgboost": ("params.algorithm = 'xgboost'", lambda s: s.algorithm == "xgboost"),
    "xgboost_acc_gt_0.95": (
        "params.algorithm = 'xgboost' and metrics.test_accuracy > 0.95",
        lambda s: s.algorithm == "xgboost" and s.test_accuracy > 0.95,
    ),
}


def expected(runs: int, query: str) -> int:
    return sum(1 for i in range(runs) if QUERIES[query][1](spec(i)))


def open_store(store_uri: str, artifact_root: str):
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    return SqlAlchemyStore(store_uri, artifact_root)


def log_run(store, experiment_id: str, s: RunSpec) -> None:
    from mlflow.entities import Metric, Param, RunStatus, RunTag

    run = store.create_run(
        experiment_id,
        "scale-seeder",
        s.start_ms,
        [RunTag("team", "scale"), RunTag("mlflow.runName", s.name)],
        s.name,
    )
    rid = run.info.run_id
    store.log_batch(
        rid,
        metrics=[
            Metric("test_accuracy", s.test_accuracy, s.start_ms, 0),
            Metric("train_accuracy", s.train_accuracy, s.start_ms, 0),
            Metric("training_samples", 2952.0, s.start_ms, 0),
        ],
        params=[
            Param("algorithm", s.algorithm),
            Param("model_version", s.model_version),
            Param("feature_count", str(s.feature_count)),
            Param("C", str(1 + s.index % 7)),
        ],
        tags=[RunTag("batch", str(s.index // 1000))],
    )
    store.update_run_info(rid, RunStatus.FINISHED, s.start_ms + 500, s.name)


def bulk_rows(experiment_id: str, artifact_location: str, s: RunSpec) -> list:
    """One run as MLflow's ORM rows, field for field what create_run + log_batch + update_run_info write."""
    import uuid

    from mlflow.entities import LifecycleStage, RunStatus, SourceType
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag

    rid = uuid.uuid4().hex
    run = SqlRun(
        name=s.name, artifact_uri=f"{artifact_location.rstrip('/')}/{rid}/artifacts", run_uuid=rid,
        experiment_id=experiment_id, source_type=SourceType.to_string(SourceType.UNKNOWN), source_name="",
        entry_point_name="", user_id="scale-seeder", status=RunStatus.to_string(RunStatus.FINISHED),
        start_time=s.start_ms, end_time=s.start_ms + 500, deleted_time=None, source_version="",
        lifecycle_stage=LifecycleStage.ACTIVE,
    )  # fmt: skip
    tags = {"team": "scale", "mlflow.runName": s.name, "batch": str(s.index // 1000)}
    params = {"algorithm": s.algorithm, "model_version": s.model_version,
              "feature_count": str(s.feature_count), "C": str(1 + s.index % 7)}  # fmt: skip
    metrics = {
        "test_accuracy": s.test_accuracy,
        "train_accuracy": s.train_accuracy,
        "training_samples": 2952.0,
    }
    rows: list = [run]
    rows += [SqlTag(run_uuid=rid, key=k, value=v) for k, v in tags.items()]
    rows += [SqlParam(run_uuid=rid, key=k, value=v) for k, v in params.items()]
    for model in (SqlMetric, SqlLatestMetric):
        rows += [
            model(run_uuid=rid, key=k, value=v, timestamp=s.start_ms, step=0, is_nan=False)
            for k, v in metrics.items()
        ]
    return rows


def seed_bulk(store, experiment_id: str, runs: int, chunk: int = 1000) -> None:
    location = store.get_experiment(experiment_id).artifact_location
    t0 = time.perf_counter()
    for start in range(0, runs, chunk):
        rows = [
            row
            for i in range(start, min(start + chunk, runs))
            for row in bulk_rows(experiment_id, location, spec(i))
        ]
        with store.ManagedSessionMaker(read_only=False) as session:
            session.add_all(rows)
        done = min(start + chunk, runs)
        if done % 10_000 == 0 or done == runs:
            print(
                f"  {done:>7,} runs  {done / (time.perf_counter() - t0):,.0f} runs/s",
                file=sys.stderr,
                flush=True,
            )


def seed(
    store_uri: str, runs: int, experiment: str, workers: int, artifact_root: str, mode: str = "bulk"
) -> dict:
    started = time.perf_counter()
    store = open_store(store_uri, artifact_root)
    opened = time.perf_counter() - started
    if store.get_experiment_by_name(experiment) is not None:
        raise SystemExit(
            f"experiment {experiment!r} already exists in {store_uri}: pick another --experiment"
        )
    experiment_id = store.create_experiment(experiment)
    done, lock, t0 = [0], threading.Lock(), time.perf_counter()

    def one(i: int) -> None:
        log_run(store, experiment_id, spec(i))
        with lock:
            done[0] += 1
            if done[0] % 5000 == 0:
                rate = done[0] / (time.perf_counter() - t0)
                print(f"  {done[0]:>7,} runs  {rate:,.0f} runs/s", file=sys.stderr, flush=True)

    if mode == "bulk":
        seed_bulk(store, experiment_id, runs)
    else:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for future in [pool.submit(one, i) for i in range(runs)]:
                future.result()
    seconds = time.perf_counter() - t0
    return {
        "store": store_uri.split("://")[0],
        "experiment": experiment,
        "experiment_id": experiment_id,
        "runs": runs,
        "mode": mode,
        "workers": workers if mode == "api" else 1,
        "open_s": round(opened, 1),
        "seed_s": round(seconds, 1),
        "runs_per_s": round(runs / seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--store", required=True, help="sqlite:////abs/path.db or postgresql://user@host:port/db"
    )
    parser.add_argument("--runs", type=int, default=10_000, help="runs to log (default 10,000; try 100,000)")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT)
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel writers (default 1 on SQLite, 4 on PostgreSQL)"
    )
    parser.add_argument("--mode", choices=["bulk", "api"], default="bulk", help="see the module doc")
    parser.add_argument("--artifact-root", default="mlflow-artifacts:/", help="experiment artifact root")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    workers = args.workers or (1 if args.store.startswith("sqlite") else 4)
    result = seed(args.store, args.runs, args.experiment, workers, args.artifact_root, args.mode)
    print(" | ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
