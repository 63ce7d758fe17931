"""Shared set-up for the peer benchmarks: a private temp root and one writer per peer.

Every peer is driven in its local or offline mode, with all of its state (run
directories, databases, config and cache folders) inside one temporary root,
so that a benchmark leaves nothing behind in the home directory and two
benchmarks never see each other's runs.

The environment variables must be set before a peer is imported (trackio, for
one, reads ``TRACKIO_DIR`` at import time), so :func:`prepare` is called first
and the peers are imported lazily inside :func:`open_writer`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Peer names accepted by both scripts. ``floor`` is not a tracker: it is the
#: reference the log() budget is stated against (one buffered JSON line per
#: call, written with orjson), in trackui's history record shape.
PEERS: tuple[str, ...] = (
    "wandb",
    "tensorboardX",
    "tensorboard",
    "mlflow",
    "mlflow-async",
    "mlflow-file",
    "trackio",
    "floor",
)

#: The distribution whose version is reported for each peer.
DISTRIBUTION: dict[str, str] = {
    "wandb": "wandb",
    "tensorboardX": "tensorboardX",
    "tensorboard": "tensorboard",
    "mlflow": "mlflow",
    "mlflow-async": "mlflow",
    "mlflow-file": "mlflow",
    "trackio": "trackio",
    "floor": "orjson",
}

PROJECT = "bench"

LogFn = Callable[[int, dict[str, float]], None]


def peer_version(peer: str) -> str:
    """Return the installed version of the package behind ``peer``."""
    return importlib.metadata.version(DISTRIBUTION[peer])


def check_peer(peer: str) -> None:
    """Exit with a one-line message when ``peer`` is unknown or not installed."""
    if peer not in PEERS:
        sys.exit(f"error: unknown peer {peer!r}; choose from {', '.join(PEERS)}")
    try:
        peer_version(peer)
    except importlib.metadata.PackageNotFoundError:
        sys.exit(
            f"error: {DISTRIBUTION[peer]} is not installed in {sys.prefix}; "
            "run bench/peers/setup.sh and use that venv's python"
        )


def prepare(keep: bool = False) -> Path:
    """Create the temporary root, point every peer's state at it and chdir into it.

    Args:
        keep: Leave the root on disk at exit (its path is printed on stderr).

    Returns:
        The root directory.
    """
    root = Path(tempfile.mkdtemp(prefix="trackui-peers-"))
    env = {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        # Console capture wraps sys.stdout; it has no part in log() and would
        # mix wandb's lines into the JSON this script prints.
        "WANDB_CONSOLE": "off",
        "WANDB_DIR": str(root / "wandb"),
        "WANDB_CONFIG_DIR": str(root / "wandb-config"),
        "WANDB_CACHE_DIR": str(root / "wandb-cache"),
        "WANDB_DATA_DIR": str(root / "wandb-data"),
        "TRACKIO_DIR": str(root / "trackio"),
        "HF_HOME": str(root / "hf"),
        "HF_HUB_OFFLINE": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    os.environ.update(env)
    (root / "wandb").mkdir()
    os.chdir(root)
    if keep:
        print(f"keeping {root}", file=sys.stderr)
    return root


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Send what the peers print (banners, run links) to stderr, not stdout."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _quiet_loggers() -> None:
    for name in ("mlflow", "alembic", "trackio", "wandb"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass
class Writer:
    """One open run of one peer.

    Attributes:
        log: ``log(step, row)`` logs one row of scalars at ``step``.
        finish: Flushes and closes the run; returns when the data is on disk.
        run_id: The peer's id for the run (used by the MLflow reader).
    """

    log: LogFn
    finish: Callable[[], None]
    run_id: str = ""


def open_writer(peer: str, root: Path, run_name: str) -> Writer:
    """Start one run of ``peer`` under ``root`` and return its writer.

    Args:
        peer: One of :data:`PEERS`.
        root: The directory from :func:`prepare`.
        run_name: The run's name; also its directory name where the peer
            takes one (TensorBoard, floor).

    Returns:
        A :class:`Writer` whose ``log`` is the peer's idiomatic call for one
        step of scalars.
    """
    _quiet_loggers()
    if peer == "wandb":
        import wandb

        with quiet():
            run = wandb.init(project=PROJECT, name=run_name, dir=str(root / "wandb"))

        def wandb_finish() -> None:
            with quiet():
                run.finish()

        return Writer(lambda step, row: run.log(row), wandb_finish, run.id)

    if peer == "tensorboardX":
        from tensorboardX import SummaryWriter

        tbx = SummaryWriter(logdir=str(root / "tb" / run_name))
        add_scalar = tbx.add_scalar

        def tbx_log(step: int, row: dict[str, float]) -> None:
            # TensorBoard has no multi-scalar step record: one event per scalar.
            for key, value in row.items():
                add_scalar(key, value, step)

        return Writer(tbx_log, tbx.close, run_name)

    if peer == "tensorboard":
        # TensorBoard's own framework-free writer (numpy only); it writes the
        # same event files through the same EventFileWriter that
        # torch.utils.tensorboard uses, with tensor-valued summaries.
        from tensorboard.summary import Writer as TBWriter

        tbw = TBWriter(str(root / "tb" / run_name))
        tb_add = tbw.add_scalar

        def tb_log(step: int, row: dict[str, float]) -> None:
            for key, value in row.items():
                tb_add(key, value, step=step)

        return Writer(tb_log, tbw.close, run_name)

    if peer in ("mlflow", "mlflow-async", "mlflow-file"):
        if peer == "mlflow-file":
            # The file store is in maintenance mode and refuses to start unless
            # asked; it is still what many existing setups use.
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
            os.environ["MLFLOW_TRACKING_URI"] = (root / "mlruns").as_uri()
        import mlflow

        _quiet_loggers()
        mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
        mlflow.set_experiment(PROJECT)
        active = mlflow.start_run(run_name=run_name)
        log_metrics = mlflow.log_metrics
        synchronous = peer != "mlflow-async"

        def mlflow_log(step: int, row: dict[str, float]) -> None:
            log_metrics(row, step=step, synchronous=synchronous)

        def mlflow_finish() -> None:
            if not synchronous:
                mlflow.flush_async_logging()
            mlflow.end_run()

        return Writer(mlflow_log, mlflow_finish, active.info.run_id)

    if peer == "trackio":
        import trackio

        with quiet():
            trun = trackio.init(project=PROJECT, name=run_name)

        def trackio_finish() -> None:
            with quiet():
                trackio.finish()

        return Writer(lambda step, row: trun.log(row), trackio_finish, run_name)

    if peer == "floor":
        import orjson

        path = root / "floor" / run_name / "history.jsonl"
        path.parent.mkdir(parents=True)
        fh = path.open("wb")  # buffered: the floor is one buffered write per call
        dumps = orjson.dumps
        write = fh.write
        now = time.time

        def floor_log(step: int, row: dict[str, Any]) -> None:
            write(dumps({"s": step, "t": now(), "m": row}) + b"\n")

        return Writer(floor_log, fh.close, run_name)

    raise ValueError(f"unknown peer {peer!r}")


def rows(n: int, metrics: int, names: tuple[str, ...] | None = None) -> list[dict[str, float]]:
    """Build ``n`` rows of ``metrics`` float scalars ahead of the timed loop.

    Args:
        n: Number of rows (steps).
        metrics: Scalars per row (ignored when ``names`` is given).
        names: Metric names; ``m0``, ``m1``, ... by default.

    Returns:
        A list of fresh dicts, one per step, so no peer sees the same dict twice.
    """
    keys = names if names is not None else tuple(f"m{j}" for j in range(metrics))
    return [{k: 1.0 / (i + j + 1) for j, k in enumerate(keys)} for i in range(n)]
