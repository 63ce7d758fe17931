"""Mutation testing of the store's pure modules and the API's value path (mutmut).

    pip install -e '.[mutation]'
    python scripts/mutation.py                         # every module, every mutant
    python scripts/mutation.py store/filter.py         # one module
    python scripts/mutation.py --sample 60 --seed 1    # 60 mutants per module, drawn at random
    python scripts/mutation.py --list                  # the modules and their tests

The mutants are mutmut's (its operators, through its Python API: numbers,
strings, operators, keywords, names, arguments, decorators), made one at a
time in copies of the tree (``.mutation/``, ignored by git), never in the
checkout. The tests run from a copy, whose ``trackui/`` gets links to its
``store/``, ``tui/`` and ``trainer/``, so that the mutated code is what they
import. A module's fast tests (``MODULES``) run once under coverage to learn
which tests execute each line; a mutant then runs only those, stopping at
the first failure, forked from one warm process at a lower CPU priority,
one per core at a time (``scripts/mutation_fork.py``). One slower than three
times those tests' own time (plus 5 s) counts as killed (the tests noticed).

Not part of ``.ci/run``: the scores are reported like a benchmark, in
``bench/MUTATION.md``. ``--rev`` mutates a commit's tree instead of the
working files (a "before" score); ``--json`` appends each module's result,
survivors' diffs included.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutation_fork import Job, limit_for, line_map, run_jobs, warm_up, worker_trees  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

MODULES: dict[str, list[str]] = {
    "store/filter.py": ["tests/unit/test_filter.py", "tests/unit/test_filter_reference.py"],
    "store/smoothing.py": [
        "tests/unit/test_smoothing.py",
        "tests/unit/test_smoothing_reference.py",
    ],
    "store/bucketing.py": [
        "tests/unit/test_smoothing.py",
        "tests/unit/test_smoothing_reference.py",
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
    "store/ingest_sampling.py": ["tests/unit/test_ingest.py", "tests/unit/test_step_counts.py"],
    "store/points.py": [
        "tests/unit/test_series_cache.py",
        "tests/unit/test_smoothing_reference.py",
    ],
    "store/curves.py": [
        "tests/unit/test_smoothing_reference.py",
        "tests/unit/test_series_cache.py",
    ],
    "store/sorting.py": ["tests/unit/test_index.py"],
    "trackui/metrics_spec.py": [
        "tests/unit/test_wandb_metrics.py",
        "tests/unit/test_metric_decl.py",
    ],
    "trackui/values.py": [
        "tests/adversarial/test_log_values.py",
        "tests/adversarial/test_log_properties.py",
    ],
}
"""Each mutated module and the fast tests that judge its mutants (missing files are skipped)."""

PACKAGES = {"store": "store", "tui": "tui", "trainer": "trainer"}
"""Subpackages of ``trackui`` that live in other folders (pyproject's package-dir)."""

PYTEST_ALL = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:textual-snapshot",
              "-p", "no:syrupy", "-o", "addopts=", "-W", "ignore"]  # fmt: skip
"""No plugins the fast tests do not use."""

PYTEST = ["-x", *PYTEST_ALL]
"""On a mutant: stop at the first failure."""


def copy_tree(work: Path, rev: str | None) -> Path:
    """A fresh copy of the checkout's files (tracked and untracked, not ignored), or of
    commit ``rev``, whose ``trackui/`` imports the copy's subpackages."""
    if work.exists():
        shutil.rmtree(work)
    tree = (work / "tree").resolve()
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

    return list_mutations(Context(source=path.read_text(), filename=str(path)))


def mutated(path: Path, source: str, mid: object) -> str:
    """``source`` (the file at ``path``, unmutated) with mutation ``mid``."""
    from mutmut import Context, mutate

    return mutate(Context(source=source, filename=str(path), mutation_id=mid))[0]


def run_module(
    module: str, trees: list[Path], sample: int, seed: int, show: bool
) -> dict[str, object] | None:
    """Every mutant of ``module`` (or a sample), judged by the tests that reach its line."""
    tree = trees[0]
    tests = [t for t in MODULES[module] if (tree / t).exists()]
    path = tree / module
    original = path.read_text()
    lines = line_map(tree, module, tests, PYTEST_ALL)
    if not lines.passed:
        print(f"{module}: its tests fail before any mutation ({' '.join(tests)}):\n{lines.log}")
        return None
    whole = 3 * lines.seconds + 10
    todo = mutants(path)
    total = len(todo)
    if sample and sample < total:
        todo = sorted(random.Random(f"{seed}:{module}").sample(todo, sample),
                      key=lambda m: (m.line_number, m.index))  # fmt: skip

    def jobs() -> Iterator[Job]:
        for mid in todo:
            chosen = lines.for_line(mid.line_number + 1)
            if chosen:  # the tests that execute the line, quickest first
                chosen = sorted(chosen, key=lambda t: lines.durations.get(t, 1.0))
                yield Job(
                    mid, mutated(path, original, mid), chosen, limit_for(chosen, lines.durations)
                )
            else:  # no test runs the line in-process (a subprocess may): all of them
                yield Job(mid, mutated(path, original, mid), tests, whole)

    counts = {"killed": 0, "timeout": 0, "survived": 0}
    survivors, outcomes, took = [], [], []
    start = time.monotonic()
    for job, key, seconds in run_jobs(trees, module, PYTEST, jobs()):
        mid = job.key
        counts[key] += 1
        took.append(seconds)
        outcomes.append([mid.line_number + 1, mid.index, key, len(job.tests)])
        if key == "survived":
            diff = "".join(difflib.unified_diff(
                original.splitlines(keepends=True), job.source.splitlines(keepends=True),
                module, module, n=1,
            ))  # fmt: skip
            covered = bool(lines.for_line(mid.line_number + 1))
            survivors.append({"line": mid.line_number + 1, "diff": diff, "covered": covered})
            if show:
                print(diff, flush=True)
    tested = sum(counts.values())
    killed = counts["killed"] + counts["timeout"]
    return {
        "module": module, "mutants": total, "tested": tested, **counts,
        "score": round(100 * killed / tested, 1) if tested else None,
        "seconds": round(time.monotonic() - start),
        "median_s": round(statistics.median(took), 2) if took else None,
        "map_s": round(lines.seconds, 1), "tests": tests, "survivors": survivors,
        "outcomes": outcomes,
    }  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    ap.add_argument("--work", type=Path, default=REPO / ".mutation", help="scratch folder")
    ap.add_argument("--rev", help="mutate this commit's tree instead of the working files")
    ap.add_argument("--sample", type=int, default=0, help="mutants per module (0: all)")
    ap.add_argument("--seed", type=int, default=1, help="the draw of --sample")
    ap.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    ap.add_argument("--json", type=Path, help="append each module's result to this file")
    ap.add_argument("--list", action="store_true", help="list the modules and their tests")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants at once")
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
    warm_up()
    trees = worker_trees(copy_tree(args.work, args.rev), max(1, args.jobs))
    print("| module | mutants | tested | killed | timeout | survived | score | seconds "
          "| median s/mutant |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    begin = time.monotonic()
    for m in todo:
        row = run_module(m, trees, args.sample, args.seed, args.survivors)
        if row is None:  # (its tests fail unmutated: said above)
            continue
        print(
            f"| {m} | {row['mutants']} | {row['tested']} | {row['killed']} | {row['timeout']} "
            f"| {row['survived']} | {row['score']}% | {row['seconds']} | {row['median_s']} |",
            flush=True,
        )
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")
    print(f"all: {time.monotonic() - begin:.0f} s with {len(trees)} at once", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
