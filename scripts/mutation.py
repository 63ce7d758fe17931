"""Mutation testing of the store's pure modules and the API's value path (mutmut).

    pip install -e '.[mutation]'
    python scripts/mutation.py                         # every module, every mutant
    python scripts/mutation.py store/filter.py         # one module
    python scripts/mutation.py --sample 60 --seed 1    # 60 mutants per module, drawn at random
    python scripts/mutation.py --list                  # the modules and their tests

The mutants are mutmut's (its operators, through its Python API: numbers,
strings, operators, keywords, names, arguments, decorators), made one at a
time in a copy of the tree (``.mutation/``, ignored by git), never in the
checkout. The tests run from the copy, whose ``trackui/`` gets links to its
``store/``, ``tui/`` and ``trainer/``, so that the mutated code is what they
import.

Fast: one warm parent imports pytest and the heavy third-party modules
(``HEAVY``; never trackui) and forks a child per mutant that runs
``pytest.main`` on a copy of the tree (``--jobs`` copies, one mutant each at
a time). The module's tests (``MODULES``) run once unmutated under coverage
with a context per test; a mutant on line L runs only the tests that ran L
(all of them when L runs on import), stopping at the first failure; a
mutant on a line no test runs survives at once ("not covered"). A mutant
slower than three times its tests' unmutated run (plus 10 s) counts as
killed (the tests noticed). Hypothesis runs with seed 0 and no database.
``--again JSON`` reruns only the survivors of an earlier full pass of the same
source (its killed mutants kept): a module's score once new tests are in.

Not part of ``.ci/run``: the scores are reported like a benchmark, in
``bench/MUTATION.md``. ``--rev`` mutates a commit's tree instead of the
working files (a "before" score); ``--json`` appends each module's result,
survivors' diffs included.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MODULES: dict[str, list[str]] = {
    "store/filter.py": [
        "tests/unit/test_filter.py",
        "tests/unit/test_filter_reference.py",
        "tests/unit/test_filter_edges.py",
    ],
    "store/smoothing.py": [
        "tests/unit/test_smoothing.py",
        "tests/unit/test_smoothing_reference.py",
        "tests/unit/test_smoothing_extremes.py",
    ],
    "store/bucketing.py": [
        "tests/unit/test_smoothing.py",
        "tests/unit/test_smoothing_reference.py",
        "tests/unit/test_smoothing_extremes.py",
    ],
    "store/reader.py": [
        "tests/unit/test_reader_files.py",
        "tests/unit/test_reader_corpus.py",
        "tests/unit/test_reader_run.py",
        "tests/adversarial/test_log_reader_bounds.py",
    ],
    "store/ingest.py": [
        "tests/unit/test_history_warnings.py",
        "tests/unit/test_step_counts.py",
        "tests/unit/test_ingest.py",
    ],
    "store/ingest_exact.py": [
        "tests/unit/test_step_counts.py",
        "tests/unit/test_history_warnings.py",
        "tests/unit/test_ingest.py",
    ],
    "store/ingest_bulk.py": [
        "tests/unit/test_step_counts.py",
        "tests/unit/test_history_warnings.py",
        "tests/unit/test_ingest.py",
    ],
    "store/ingest_sampling.py": [
        "tests/unit/test_ingest.py",
        "tests/unit/test_step_counts.py",
        "tests/unit/test_history_warnings.py",
    ],
    "store/points.py": [
        "tests/unit/test_series_cache.py",
        "tests/unit/test_smoothing_reference.py",
    ],
    "store/curves.py": [
        "tests/unit/test_smoothing_reference.py",
        "tests/unit/test_series_cache.py",
    ],
    "store/sorting.py": ["tests/unit/test_sorting.py"],
    "trackui/metrics_spec.py": [
        "tests/unit/test_summary_aggregates.py",
        "tests/unit/test_wandb_metrics.py",
        "tests/unit/test_metric_decl.py",
    ],
    "trackui/values.py": [
        "tests/unit/test_value_conversion.py",
        "tests/adversarial/test_log_values.py",
        "tests/adversarial/test_log_properties.py",
    ],
}
"""Each mutated module and the fast tests that judge its mutants (missing files are skipped)."""

PACKAGES = {"store": "store", "tui": "tui", "trainer": "trainer"}
"""Subpackages of ``trackui`` that live in other folders (pyproject's package-dir)."""

PYTEST = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:textual-snapshot",
          "-p", "no:syrupy", "-o", "addopts="]  # fmt: skip
"""Stop at the first failure; no plugins the fast tests do not use."""


def copy_tree(tree: Path, rev: str | None) -> Path:
    """A fresh copy at ``tree`` of the checkout's files (tracked and untracked, not ignored),
    or of commit ``rev``, whose ``trackui/`` imports the copy's subpackages."""
    tree = tree.resolve()
    tree.mkdir(parents=True)
    if rev is not None:
        archive = subprocess.run(["git", "archive", rev], cwd=REPO, check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    else:
        files = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO, check=True, capture_output=True,
        ).stdout.split(b"\0")  # fmt: skip
        for raw in files:
            rel = raw.decode()
            src = REPO / rel
            if not rel or not src.is_file() or rel.startswith(("screenshots/", "bench/out/")):
                continue
            dst = tree / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    # The copy's trackui/ is what ``import trackui`` finds from the copy (the
    # current folder comes first on sys.path): links in it make its
    # subpackages the copy's too, not the editable install's folders.
    for name, folder in PACKAGES.items():
        (tree / "trackui" / name).symlink_to(tree / folder)
    return tree


def mutants(path: Path) -> list[object]:
    """mutmut's mutations of one file (its ids: line, index on the line)."""
    from mutmut import Context, list_mutations

    return list_mutations(Context(filename=str(path)))


def mutated(path: Path, mid: object) -> str:
    from mutmut import Context, mutate

    return mutate(Context(filename=str(path), mutation_id=mid))[0]


HEAVY = ("numpy", "duckdb", "pyarrow", "pyarrow.parquet", "hypothesis", "hypothesis.strategies",
         "watchdog.observers", "coverage")  # fmt: skip
"""Third-party modules the warm parent imports once, before forking a child per mutant."""


class _Select:
    """Pytest plugin: run only the tests named (by node id)."""

    def __init__(self, ids: set[str]) -> None:
        self.ids = ids

    def pytest_collection_modifyitems(self, config: object, items: list) -> None:
        items[:] = [item for item in items if item.nodeid in self.ids]


class _Contexts:
    """Pytest plugin: a coverage context per test (its node id) and each test's seconds."""

    def __init__(self, cov: object) -> None:
        self.cov = cov
        self.seconds: dict[str, float] = {}

    def pytest_runtest_protocol(self, item: object, nextitem: object):  # noqa: ANN201
        self.cov.switch_context(item.nodeid)
        start = time.monotonic()
        yield
        self.seconds[item.nodeid] = time.monotonic() - start
        self.cov.switch_context("")

    pytest_runtest_protocol.hookwrapper = True  # type: ignore[attr-defined]


def _child(tree: Path, tests: list[str], basetemp: Path, plugins: list, cov: object) -> int:
    """In the forked child: run the tests on ``tree`` and return pytest's exit code."""
    import pytest

    os.setpgid(0, 0)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    sys.dont_write_bytecode = True
    try:
        from hypothesis import settings

        settings.register_profile("mutation", database=None)
        settings.load_profile("mutation")
    except ImportError:
        pass
    if cov is not None:
        cov.start()
    args = [*PYTEST, f"--basetemp={basetemp}", "--hypothesis-seed=0", *tests]
    rc = int(pytest.main(args, plugins=plugins))
    if cov is not None:
        cov.stop()
        cov.save()
    return rc


def fork(tree: Path, tests: list[str], basetemp: Path, plugins: list, cov: object = None,
         after: object = None) -> int:  # fmt: skip
    """Fork a child that runs the tests (then ``after()``, in the child); its pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        rc = 70
        try:
            rc = _child(tree, tests, basetemp, plugins, cov)
            if after is not None:
                after()
        finally:
            os._exit(rc)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    return pid


def statement_start(path: Path):  # noqa: ANN201
    """line -> the first line of the statement it belongs to (coverage's parser): a
    multi-line statement is traced on some of its lines, mutated on any."""
    from coverage.python import PythonParser

    parser = PythonParser(filename=str(path))
    parser.parse_source()
    return parser.first_line


def baseline(module: str, tree: Path, tests: list[str], work: Path) -> dict[str, object]:
    """The unmutated tests once, under coverage with a context per test: for each line of
    ``module``, the tests that run it ("" among them: it runs on import), and each test's
    seconds, and the whole run's."""
    import coverage

    data_file = work / "coverage.sqlite"
    seconds_file = work / "seconds.json"
    for f in (data_file, seconds_file):
        f.unlink(missing_ok=True)
    cov = coverage.Coverage(data_file=str(data_file), include=[f"*/{Path(module).name}"])
    plug = _Contexts(cov)

    def after() -> None:
        seconds_file.write_text(json.dumps(plug.seconds))

    start = time.monotonic()
    pid = fork(tree, tests, work / "tmp-base", [plug], cov, after)
    _, status = os.waitpid(pid, 0)
    total = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{module}: its tests fail before any mutation ({' '.join(tests)})")
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    target = os.path.realpath(tree / module)
    first = statement_start(tree / module)
    lines: dict[int, set[str]] = {}
    for measured in data.measured_files():
        if os.path.realpath(measured) == target:
            for line, ctxs in data.contexts_by_lineno(measured).items():
                lines.setdefault(first(line), set()).update(ctxs)
    if not lines:
        raise SystemExit(f"{module}: the tests never ran the copy's {module}")
    seconds = json.loads(seconds_file.read_text())
    return {"lines": lines, "first": first, "seconds": seconds, "total": total,
            "overhead": max(0.0, total - sum(seconds.values()))}  # fmt: skip


def earlier(path: Path | None, module: str, source: str) -> dict[tuple[int, int], str]:
    """(line, index) -> outcome of ``module``'s mutants in an earlier ``--json`` file (its
    last row for the module, if made from the same source); empty without one."""
    if path is None or not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["module"] == module]
    if not rows:
        return {}
    row = rows[-1]
    sha = hashlib.sha256(source.encode()).hexdigest()
    if row.get("sha", sha) != sha or row["mutants"] != len(row["outcomes"]):
        raise SystemExit(f"{module}: --again needs a full pass of this very source")
    return {(line, index): key for line, index, key in row["outcomes"]}


def run_module(module: str, trees: list[Path], work: Path, sample: int, seed: int,
               show: bool, again: Path | None = None) -> dict[str, object]:  # fmt: skip
    tests = [t for t in MODULES[module] if (trees[0] / t).exists()]
    original = (trees[0] / module).read_text()
    start = time.monotonic()
    base = baseline(module, trees[0], tests, work)
    todo = mutants(trees[0] / module)
    total = len(todo)
    if sample and sample < total:
        todo = sorted(random.Random(f"{seed}:{module}").sample(todo, sample),
                      key=lambda m: (m.line_number, m.index))  # fmt: skip
    counts = {"killed": 0, "timeout": 0, "survived": 0}
    survivors, outcomes, spent = [], [], []
    before = earlier(again, module, original)

    def record(mid: object, src: str, key: str, why: str = "") -> None:
        counts[key] += 1
        outcomes.append([mid.line_number + 1, mid.index, key])
        if key == "survived":
            diff = "".join(difflib.unified_diff(
                original.splitlines(keepends=True), src.splitlines(keepends=True),
                module, module, n=1,
            ))  # fmt: skip
            survivors.append({"line": mid.line_number + 1, "why": why, "diff": diff})
            if show:
                print(f"{why}\n{diff}" if why else diff, flush=True)

    queue = []
    for mid in todo:
        if before.get((mid.line_number + 1, mid.index), "survived") != "survived":
            counts[before[(mid.line_number + 1, mid.index)]] += 1  # killed then: kept
            outcomes.append(
                [mid.line_number + 1, mid.index, before[(mid.line_number + 1, mid.index)]]
            )
            continue
        src = mutated(trees[0] / module, mid)
        ctxs = base["lines"].get(base["first"](mid.line_number + 1), set())
        if not ctxs:
            record(mid, src, "survived", "not covered")
            continue
        if "" in ctxs:  # runs on import (a constant, a signature): every test may see it
            select, secs = None, sum(base["seconds"].values())
        else:
            select = ctxs
            secs = sum(base["seconds"].get(c, 0.0) for c in ctxs)
        queue.append((mid, src, select, 3 * (secs + base["overhead"]) + 10))
    free = list(range(len(trees)))
    running: dict[int, tuple] = {}
    try:
        while queue or running:
            while queue and free:
                slot = free.pop()
                mid, src, select, limit = queue.pop(0)
                (trees[slot] / module).write_text(src)
                plugins = [_Select(select)] if select is not None else []
                pid = fork(trees[slot], tests, work / f"tmp{slot}", plugins)
                running[pid] = (slot, mid, src, time.monotonic(), limit)
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                now = time.monotonic()
                for p, (_, _, _, began, limit) in list(running.items()):
                    if 0 <= limit < now - began:
                        os.killpg(p, signal.SIGKILL)
                        running[p] = (*running[p][:4], -1.0)  # reaped as a timeout below
                time.sleep(0.02)
                continue
            slot, mid, src, began, limit = running.pop(pid)
            spent.append(time.monotonic() - began)
            (trees[slot] / module).write_text(original)
            free.append(slot)
            rc = os.waitstatus_to_exitcode(status)
            if limit < 0:
                record(mid, src, "timeout")
            elif rc == 0:
                record(mid, src, "survived")
            elif rc in (4, 5):  # usage error, no test collected: the runner's fault
                record(mid, src, "survived", f"no test ran (pytest exit {rc})")
            else:
                record(mid, src, "killed")
    finally:
        for p in running:
            os.killpg(p, signal.SIGKILL)
            os.waitpid(p, 0)
        for tree in trees:
            (tree / module).write_text(original)
    tested = sum(counts.values())
    killed = counts["killed"] + counts["timeout"]
    return {
        "module": module, "mutants": total, "tested": tested, **counts,
        "sha": hashlib.sha256(original.encode()).hexdigest(), "again": bool(before),
        "not_covered": sum(1 for s in survivors if s["why"] == "not covered"),
        "score": round(100 * killed / tested, 1) if tested else None,
        "seconds": round(time.monotonic() - start),
        "median_mutant_s": round(statistics.median(spent), 2) if spent else None,
        "tests": tests, "survivors": survivors, "outcomes": outcomes,
        "mutant_seconds": [round(t, 2) for t in spent],
    }  # fmt: skip


def warm_up() -> None:
    """Import pytest and the heavy third-party modules (never trackui) once, in the parent."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS threads across fork()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.environ["PYTHONHASHSEED"] = "0"
    import importlib

    import pytest  # noqa: F401

    for name in HEAVY:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    assert "trackui" not in sys.modules


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    ap.add_argument("--work", type=Path, default=REPO / ".mutation", help="scratch folder")
    ap.add_argument("--rev", help="mutate this commit's tree instead of the working files")
    ap.add_argument("--sample", type=int, default=0, help="mutants per module (0: all)")
    ap.add_argument("--seed", type=int, default=1, help="the draw of --sample")
    ap.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    ap.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    ap.add_argument("--json", type=Path, help="append each module's result to this file")
    ap.add_argument("--again", type=Path, metavar="JSON",
                    help="run only the survivors of an earlier full pass (its --json file)")  # fmt: skip
    ap.add_argument("--list", action="store_true", help="list the modules and their tests")
    args = ap.parse_args()
    if args.list:
        for m, tests in MODULES.items():
            print(m, " ".join(tests))
        return 0
    todo = args.modules or list(MODULES)
    unknown = [m for m in todo if m not in MODULES]
    if unknown:
        ap.error(f"not mapped to tests: {', '.join(unknown)}")
    os.nice(10)  # the machine is shared: the tests of others come first
    work = args.work.resolve()
    if work.exists():
        shutil.rmtree(work)
    trees = [copy_tree(work / f"tree{i}", args.rev) for i in range(max(1, args.jobs))]
    warm_up()
    print("| module | mutants | tested | killed | timeout | survived | not covered | score "
          "| seconds | median s/mutant |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    start, spent = time.monotonic(), []
    for m in todo:
        row = run_module(m, trees, work, args.sample, args.seed, args.survivors, args.again)
        print(
            f"| {m} | {row['mutants']} | {row['tested']} | {row['killed']} | {row['timeout']} "
            f"| {row['survived']} | {row['not_covered']} | {row['score']}% | {row['seconds']} "
            f"| {row['median_mutant_s']} |",
            flush=True,
        )
        spent += row["mutant_seconds"]
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")
    median = round(statistics.median(spent), 2) if spent else None
    print(f"all: {round(time.monotonic() - start)} s for {len(todo)} module(s), "
          f"{len(spent)} mutants run, median {median} s each", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
