"""A run's state as a reader reports it.

The writer records ``running``, ``finished`` or ``failed`` in ``meta.json``.
A run that still says ``running`` after its writer died (SIGKILL, the OOM
killer, a power cut) is reported ``crashed``: on this host when its pid is
gone, on another host when its heartbeat is stale.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trackui.store import layout

_HOST = socket.gethostname()


def this_host() -> str:
    """This machine's host name, as writers record it in ``meta.json``."""
    return _HOST


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


_BOOT_TIME: list[float] = []


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (Unix seconds), from ``/proc``; None where unknown.

    The start time in ``/proc/<pid>/stat`` is the real one; the ctime of
    ``/proc/<pid>`` is only when the kernel first built that entry.
    """
    try:
        if not _BOOT_TIME:
            with open("/proc/stat", "rb") as f:
                for line in f:
                    if line.startswith(b"btime "):
                        _BOOT_TIME.append(float(line.split()[1]))
                        break
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        # Field 22 of proc_pid_stat(5), counted after the command name (field 2).
        return _BOOT_TIME[0] + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _pid_is_writer(pid: int, writer_start: float | None) -> bool:
    """Whether ``pid`` is alive and not a later process that reused the number."""
    if not pid_alive(pid):
        return False
    if writer_start is None:
        return True
    started = process_start_time(pid)
    # A process that started after the writer opened the run cannot be it
    # (a few seconds of slack for clock ticks and a slow interpreter start).
    return started is None or started <= writer_start + 5.0


RUNNING = "running"
"""The one state that can change without its writer saying so (to ``crashed``)."""


def claims_running(meta: Mapping[str, Any]) -> bool:
    """Whether a run's writer says it is running; whether it still is, :func:`derive_state` says.

    The one test of a live run in the store: the index derives the state
    again only for these runs, and rows of running runs are not reused.
    """
    return meta.get("state") == RUNNING


def _foreign_state(meta: Mapping[str, Any], run_dir: Path, now: float | None) -> str:
    """A run another tracker wrote (mirrored by ``store.sources``) is never ``crashed``.

    Its tracker's state where it records one; else ``running`` until its
    files (whose newest mtime the mirror gives its ``heartbeat``) are
    ``source_quiet_s`` quiet, then ``finished``.
    """
    state = meta.get("state")
    if state not in (RUNNING, "finished", "failed"):
        return "finished"
    if state != RUNNING or meta.get("source_state") == "tracker":
        return str(state)
    quiet = meta.get("source_quiet_s")
    quiet = float(quiet) if isinstance(quiet, (int, float)) else 300.0
    try:
        beat = (run_dir / layout.HEARTBEAT).stat().st_mtime
    except OSError:
        return "finished"
    now = time.time() if now is None else now
    return RUNNING if now - beat <= quiet else "finished"


def derive_state(
    meta: Mapping[str, Any],
    run_dir: Path,
    *,
    now: float | None = None,
    host: str | None = None,
) -> str:
    """The state to report for a run whose ``meta.json`` holds ``meta``."""
    state = meta.get("state")
    if meta.get("source"):
        return _foreign_state(meta, run_dir, now)
    if state not in (RUNNING, "finished", "failed"):
        return "crashed" if state == "crashed" else RUNNING
    if not claims_running(meta):
        return str(state)
    host = _HOST if host is None else host
    if meta.get("host") == host:
        pid = meta.get("pid")
        # A resumed run was reopened by a later process than the one that created it.
        start = meta.get("resumed_time") or meta.get("start_time")
        if isinstance(pid, int) and not _pid_is_writer(
            pid, float(start) if isinstance(start, (int, float)) else None
        ):
            return "crashed"
        return RUNNING
    now = time.time() if now is None else now
    try:
        beat = (run_dir / layout.HEARTBEAT).stat().st_mtime
    except OSError:
        start = meta.get("start_time")
        beat = float(start) if isinstance(start, (int, float)) else 0.0
    return "crashed" if now - beat > layout.STALE_HEARTBEAT_S else RUNNING
