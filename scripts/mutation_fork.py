"""Running tests on mutants fast: forked from one warm process, only the tests that reach the line.

``scripts/mutation.py`` makes the mutants; this module runs tests on them.

- **Warm process.** The parent imports pytest and the heavy libraries the
  tests use (NumPy, DuckDB, PyArrow, Hypothesis...) once, never trackui.
  Each test run is a ``fork()`` of it that runs ``pytest.main`` in a copy of
  the tree, so a run costs the tests and their collection, not an
  interpreter's start and those imports (seconds each).
- **Tests by line.** The module's tests run once under coverage, each test in
  a context of its own (its node id, setup included), which maps every line
  of the module to the tests that execute it. A mutant on a line runs only
  those tests; a mutant on a line no test runs survives at once
  ("uncovered").
- **Several at once.** Each worker slot has its own copy of the tree (a
  mutant is a file written in it), so ``jobs`` mutants run side by side.

A run slower than its limit (three times the selected tests' own time, plus
a margin) is stopped and counts as killed: the tests noticed.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

WARM = ("numpy", "duckdb", "pyarrow", "orjson", "hypothesis", "pandas", "watchdog", "rich")
"""Imported once in the parent (those that are installed), never trackui itself."""

MARGIN_S = 5.0
"""Added to three times the selected tests' time before a run counts as a timeout."""


def warm_up() -> None:
    """Import pytest and the heavy libraries once, in the parent, before any fork."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS threads across fork()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ["PYTHONHASHSEED"] = "0"
    sys.dont_write_bytecode = True  # a mutant is compiled afresh, never read from a .pyc
    import pytest  # noqa: F401

    for name in WARM:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    assert not any(m == "trackui" or m.startswith("trackui.") for m in sys.modules)


def _in_child(tree: Path, body: Callable[[], int], log: Path | None = None) -> int:
    """Fork; the child runs ``body`` in ``tree`` (output to ``log``, or discarded) and exits
    with its code."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setpgid(0, 0)  # its own group: a timeout stops the tests' own children too
        os.chdir(tree)
        sys.path.insert(0, str(tree))
        null = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(null, 1)
        os.dup2(null, 2)
        code = body()
    except BaseException:  # noqa: BLE001  (the child reports by its exit code only)
        code = 1
    finally:
        os._exit(int(code) if isinstance(code, int) else 1)


def _pytest(args: list[str], plugins: list[object] | None = None) -> int:
    import pytest

    return int(pytest.main(args, plugins=plugins or []))


class _Contexts:
    """A pytest plugin that gives each test (setup, call, teardown) its own coverage context."""

    def __init__(self, cov: object, durations: dict[str, float]) -> None:
        self.cov = cov
        self.durations = durations

    def pytest_runtest_setup(self, item: object) -> None:
        self.cov.switch_context(item.nodeid)  # type: ignore[attr-defined]

    def pytest_runtest_logreport(self, report: object) -> None:
        d = self.durations
        d[report.nodeid] = d.get(report.nodeid, 0.0) + report.duration  # type: ignore[attr-defined]


@dataclass
class LineMap:
    """Which tests execute each line of a module, and how long each test takes."""

    tests: dict[int, list[str]]
    durations: dict[str, float]
    passed: bool
    seconds: float
    log: str = ""
    """The tail of the tests' output (where they failed)."""

    def for_line(self, line: int) -> list[str]:
        return self.tests.get(line, [])


def line_map(tree: Path, module: str, tests: list[str], pytest_args: list[str]) -> LineMap:
    """Run ``tests`` once under coverage in a child and map the module's lines to them."""
    target = os.path.realpath(tree / module)
    out = Path(tempfile.mkstemp(suffix=".json")[1])

    def body() -> int:
        import coverage

        cov = coverage.Coverage(data_file=None, branch=False, config_file=False)
        durations: dict[str, float] = {}
        cov.start()
        try:
            code = _pytest([*pytest_args, *tests], [_Contexts(cov, durations)])
        finally:
            cov.stop()
        data = cov.get_data()
        by_line: dict[int, set[str]] = {}
        for measured in data.measured_files():
            if os.path.realpath(measured) != target:
                continue
            for line, ctxs in data.contexts_by_lineno(measured).items():
                by_line.setdefault(line, set()).update(c for c in ctxs if c)
        out.write_text(json.dumps({
            "code": code,
            "lines": {str(k): sorted(v) for k, v in by_line.items()},
            "durations": durations,
        }))  # fmt: skip
        return 0

    log = out.with_suffix(".log")
    start = time.monotonic()
    pid = _in_child(tree, body, log)
    os.waitpid(pid, 0)
    took = time.monotonic() - start
    raw = json.loads(out.read_text() or "{}")
    out.unlink()
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    log.unlink(missing_ok=True)
    return LineMap(
        tests={int(k): v for k, v in raw.get("lines", {}).items()},
        durations=raw.get("durations", {}),
        passed=raw.get("code") == 0,
        seconds=took,
        log=tail,
    )


@dataclass
class Job:
    """One mutant to judge: the source to put in place and the tests to run."""

    key: object
    source: str
    tests: list[str]
    limit: float


@dataclass
class _Slot:
    tree: Path
    job: Job | None = None
    pid: int = 0
    started: float = 0.0


def worker_trees(tree: Path, jobs: int) -> list[Path]:
    """``jobs`` copies of ``tree`` (the first is ``tree`` itself), links kept as links."""
    out = [tree]
    for i in range(1, jobs):
        copy = tree.with_name(f"{tree.name}-{i}")
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(tree, copy, symlinks=True)
        # the copy's trackui/ links point into the first tree: point them at the copy
        for link in (copy / "trackui").iterdir():
            if link.is_symlink() and str(os.readlink(link)).startswith(str(tree) + os.sep):
                target = copy / Path(os.readlink(link)).relative_to(tree)
                link.unlink()
                link.symlink_to(target)
        out.append(copy)
    return out


def run_jobs(
    trees: list[Path], module: str, pytest_args: list[str], jobs: Iterable[Job]
) -> Iterable[tuple[Job, str, float]]:
    """Run each job in a free slot; yield (job, 'killed'|'timeout'|'survived', seconds)."""
    slots = [_Slot(t) for t in trees]
    originals = [(s.tree / module).read_text() for s in slots]
    pending = iter(jobs)
    running = 0
    try:
        while True:
            for s in slots:
                if s.job is None:
                    job = next(pending, None)
                    if job is None:
                        continue
                    (s.tree / module).write_text(job.source)
                    s.job, s.started = job, time.monotonic()
                    s.pid = _in_child(s.tree, lambda j=job: _pytest([*pytest_args, *j.tests]))
                    running += 1
            if running == 0:
                return
            time.sleep(0.02)
            for i, s in enumerate(slots):
                if s.job is None:
                    continue
                took = time.monotonic() - s.started
                pid, status = os.waitpid(s.pid, os.WNOHANG)
                if pid == 0 and took < s.job.limit:
                    continue
                if pid == 0:  # over its limit: stop it and its children
                    os.killpg(s.pid, signal.SIGKILL)
                    os.waitpid(s.pid, 0)
                    outcome = "timeout"
                else:
                    code = os.waitstatus_to_exitcode(status)
                    outcome = "survived" if code == 0 else "killed"
                (s.tree / module).write_text(originals[i])
                job, s.job = s.job, None
                running -= 1
                yield job, outcome, took
    finally:
        for i, s in enumerate(slots):
            if s.job is not None:
                try:
                    os.killpg(s.pid, signal.SIGKILL)
                    os.waitpid(s.pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            (s.tree / module).write_text(originals[i])


def limit_for(tests: list[str], durations: dict[str, float]) -> float:
    """Three times what the selected tests took unmutated, plus a margin."""
    return 3 * sum(durations.get(t, 1.0) for t in tests) + MARGIN_S
