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
import. A mutant runs only its module's fast tests (``MODULES``), stopping
at the first failure, at a lower CPU priority; one slower than three times
the unmutated run (plus 10 s) counts as killed (the tests noticed).

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
import subprocess
import sys
import time
from pathlib import Path

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

PYTEST = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:textual-snapshot",
          "-p", "no:syrupy", "-o", "addopts="]  # fmt: skip
"""Stop at the first failure; no plugins the fast tests do not use."""


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

    return list_mutations(Context(filename=str(path)))


def mutated(path: Path, mid: object) -> str:
    from mutmut import Context, mutate

    return mutate(Context(filename=str(path), mutation_id=mid))[0]


def run_tests(tree: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    """'passed', 'failed' or 'timeout', and the seconds it took."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *PYTEST, *tests], cwd=tree, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    return ("passed" if proc.returncode == 0 else "failed"), time.monotonic() - start


def run_module(module: str, tree: Path, sample: int, seed: int, show: bool) -> dict[str, object]:
    tests = [t for t in MODULES[module] if (tree / t).exists()]
    path = tree / module
    original = path.read_text()
    outcome, base = run_tests(tree, tests, 1800)
    if outcome != "passed":
        raise SystemExit(f"{module}: its tests fail before any mutation ({' '.join(tests)})")
    todo = mutants(path)
    total = len(todo)
    if sample and sample < total:
        todo = sorted(random.Random(f"{seed}:{module}").sample(todo, sample),
                      key=lambda m: (m.line_number, m.index))  # fmt: skip
    counts = {"killed": 0, "timeout": 0, "survived": 0}
    survivors, outcomes = [], []
    start = time.monotonic()
    try:
        for mid in todo:
            src = mutated(path, mid)
            path.write_text(src)
            outcome, _ = run_tests(tree, tests, 3 * base + 10)
            path.write_text(original)
            key = {"failed": "killed", "timeout": "timeout", "passed": "survived"}[outcome]
            counts[key] += 1
            outcomes.append([mid.line_number + 1, mid.index, key])
            if key == "survived":
                diff = "".join(difflib.unified_diff(
                    original.splitlines(keepends=True), src.splitlines(keepends=True),
                    module, module, n=1,
                ))  # fmt: skip
                survivors.append({"line": mid.line_number + 1, "diff": diff})
                if show:
                    print(diff, flush=True)
    finally:
        path.write_text(original)
    tested = sum(counts.values())
    killed = counts["killed"] + counts["timeout"]
    return {
        "module": module, "mutants": total, "tested": tested, **counts,
        "score": round(100 * killed / tested, 1) if tested else None,
        "seconds": round(time.monotonic() - start), "tests": tests, "survivors": survivors,
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
    tree = copy_tree(args.work, args.rev)
    print("| module | mutants | tested | killed | timeout | survived | score | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for m in todo:
        row = run_module(m, tree, args.sample, args.seed, args.survivors)
        print(
            f"| {m} | {row['mutants']} | {row['tested']} | {row['killed']} | {row['timeout']} "
            f"| {row['survived']} | {row['score']}% | {row['seconds']} |",
            flush=True,
        )
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
