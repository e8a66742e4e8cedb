"""The peer MCP servers, in their own virtual environment (they pin mcp<2; ours is mcp 2.x):

* kkruglik `mlflow-mcp` from PyPI (console script `mlflow-mcp`, FastMCP from mcp 1.x);
* MLflow's built-in `mlflow mcp run` (needs `fastmcp`, MLflow's `mcp` extra, which the project venv
  does not carry because fastmcp pins mcp<2): run from the same peer venv's mlflow, the same MLflow
  version as the project's, with MLFLOW_MCP_TOOLS=all (every category: its best chance).

`ensure_peer_venv` creates the venv with `python3 -m venv` and `pip install mlflow-mcp fastmcp` when it
is missing; if pip fails, the peers are skipped with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import bench_cold, bench_questions
from .bench_common import log

PEER_VENV = Path(os.environ.get("BENCH_PEER_VENV", "/tmp/peer-venv"))


def _mlflow_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("mlflow")
    except Exception:
        return None


def ensure_peer_venv(venv: Path = PEER_VENV) -> tuple[bool, str]:
    """(ready, note). Creates the venv and installs the peers when missing."""
    py = venv / "bin" / "python"
    have_kk = (venv / "bin" / "mlflow-mcp").exists()
    have_fastmcp = (
        py.exists() and subprocess.run([str(py), "-c", "import fastmcp"], capture_output=True).returncode == 0
    )
    if have_kk and have_fastmcp:
        return True, f"reused {venv}"
    try:
        if not py.exists():
            log(f"creating the peer venv {venv} (python3 -m venv; pip install mlflow-mcp fastmcp) ...")
            subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        pins = [f"mlflow=={v}"] if (v := _mlflow_version()) else []
        cmd = [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "mlflow-mcp",
            "fastmcp>=2.7,<4",
            "mcp<2",
            *pins,
        ]
        log("  " + " ".join(cmd))
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            return False, f"pip could not install the peers: {done.stderr.strip()[-400:]}"
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"could not create the peer venv: {exc}"
    return True, f"created {venv}"


def peer_versions(venv: Path = PEER_VENV) -> dict[str, str]:
    code = (
        "from importlib.metadata import version as v\n"
        "for p in ('mlflow-mcp','mlflow','mcp','fastmcp'):\n"
        "    try: print(p, v(p))\n"
        "    except Exception: print(p, 'absent')\n"
    )
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


def peer_params(store, which: str, venv: Path = PEER_VENV) -> Any:
    from mcp import StdioServerParameters

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "VIRTUAL_ENV"))}
    env.update(MLFLOW_TRACKING_URI=store.mlflow_url, PYTHONWARNINGS="ignore",
               PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")  # fmt: skip
    if which == "kkruglik":
        return StdioServerParameters(command=str(venv / "bin" / "mlflow-mcp"), args=[], env=env,
                                     cwd=str(store.workdir))  # fmt: skip
    env["MLFLOW_MCP_TOOLS"] = "all"
    return StdioServerParameters(command=str(venv / "bin" / "mlflow"), args=["mcp", "run"], env=env,
                                 cwd=str(store.workdir))  # fmt: skip


COLD_CALLS = {
    "kkruglik": ("get_experiment_by_name", {"name": bench_questions.EXPERIMENT}),
    "builtin": None,  # filled from its tool list (search experiments)
}


async def _builtin_tools(store) -> dict[str, Any]:
    from .bench_common import mcp_client

    async with mcp_client(peer_params(store, "builtin"), mode="legacy", read_timeout_seconds=300) as c:
        listed = await c.list_tools()
    return {t.name: t for t in listed.tools}


async def run(store, cold_n: int, repeats: int) -> dict:
    ready, note = ensure_peer_venv()
    if not ready:
        log(f"peers skipped: {note}")
        return {"skipped": note}
    out: dict[str, Any] = {"venv": str(PEER_VENV), "venv_note": note, "versions": peer_versions()}
    facts = bench_questions.expected_facts(store)

    # MLflow built-in: discover its tools, pick its run search / get tools
    try:
        tools = await _builtin_tools(store)
        names = set(tools)
        out["builtin_tools"] = sorted(names)
        search = next((t for t in ("search_runs", "list_runs", "runs_list") if t in names), None)
        if search:
            props = (tools[search].input_schema or {}).get("properties", {})
            args: dict[str, Any] = {}
            for key in ("experiment_id", "experiment_ids"):
                if key in props:
                    args[key] = store.report.experiment_id
            if "max_results" in props:
                args["max_results"] = 1
            if "order_by" in props:
                args["order_by"] = "attributes.start_time DESC" if props["order_by"].get("type") == "string" \
                    else ["attributes.start_time DESC"]  # fmt: skip
            bench_questions.BUILTIN_SEARCH_ARGS[search] = args
        exp_tool = next(
            (t for t in ("search_experiments", "experiments_search", "get_experiment") if t in names), None
        )
        COLD_CALLS["builtin"] = (exp_tool, {}) if exp_tool else None
    except Exception as exc:
        log(f"  ! built-in mlflow mcp failed to start: {exc}")
        out["builtin"] = {"error": str(exc)[:300]}
        names = set()

    for which in ("kkruglik", "builtin"):
        if which == "builtin" and not names:
            continue
        params = peer_params(store, which)
        log(f"peer {which}: cold start (x{cold_n}) ...")
        try:
            cold = await bench_cold.cold_start(params, cold_n, which, COLD_CALLS[which], None, mode="legacy")
            log(f"peer {which}: seed questions ...")
            plans = (
                (lambda _names: bench_questions.kkruglik(store))
                if which == "kkruglik"
                else (lambda found: bench_questions.builtin(store, found))
            )
            answers = await bench_questions.run_peer(params, plans, facts, repeats)
            bench_questions.log_answers(which, answers["questions"])
            out[which] = {"cold": cold, **answers}
        except Exception as exc:
            log(f"  ! peer {which} failed: {type(exc).__name__}: {exc}")
            out[which] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return out


if __name__ == "__main__":
    print(ensure_peer_venv(), file=sys.stderr)
