"""``save()`` copies through a temporary name and a rename: a process killed in the
middle of a copy never leaves a truncated file under the real name, and a big
file is streamed, never read whole into memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import trackui
from trackui.store import layout, reader

SIZE = 256 << 20


def _big_file(path: Path) -> Path:
    with open(path, "wb") as f:
        f.truncate(SIZE)  # sparse: quick to make, a real 256 MiB to copy
    return path


def test_save_killed_midway_leaves_no_truncated_copy(tmp_path: Path) -> None:
    big = _big_file(tmp_path / "big.bin")
    root = tmp_path / "runs"
    code = (
        "import sys, trackui\n"
        "run = trackui.init(dir=sys.argv[1])\n"
        "print(run.run_dir, flush=True)\n"
        "while True:\n"
        "    run.save(sys.argv[2], policy='now')\n"
    )
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(root), str(big)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    files = Path(proc.stdout.readline().strip()) / layout.FILES_DIR
    deadline = time.monotonic() + 60
    killed_mid_copy = False
    while time.monotonic() < deadline and not killed_mid_copy:
        # A copy in progress, under a temporary name or (the defect) under the real one.
        for p in [files / "big.bin", *files.glob(".big.bin.*.tmp")]:
            try:
                if 0 < p.stat().st_size < SIZE:
                    proc.send_signal(signal.SIGKILL)
                    killed_mid_copy = True
                    break
            except FileNotFoundError:
                pass
    if not killed_mid_copy:
        proc.kill()
    proc.wait(timeout=30)
    assert killed_mid_copy, "never caught a copy in progress"
    copy = files / "big.bin"
    # Either no copy yet, or a whole one from an earlier round: never a truncated one.
    assert not copy.exists() or copy.stat().st_size == SIZE
    (run_dir,) = reader.list_run_dirs(root)
    assert reader.read_run(run_dir) is not None


def test_save_streams_a_big_file(tmp_path: Path) -> None:
    big = _big_file(tmp_path / "big.bin")
    code = (
        "import resource, sys, trackui\n"
        "run = trackui.init(dir=sys.argv[1])\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "run.save(sys.argv[2], policy='now')\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "run.finish()\n"
        "print(after - before)\n"
    )
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "runs"), str(big)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    grown_kib = int(out.stdout.strip())
    assert grown_kib < 64 * 1024, f"save grew the process by {grown_kib} KiB"
    (run_dir,) = reader.list_run_dirs(tmp_path / "runs")
    copy = run_dir / layout.FILES_DIR / "big.bin"
    assert copy.stat().st_size == SIZE
    assert not list(copy.parent.glob(".*.tmp"))


def test_save_of_a_file_inside_the_run_is_a_no_op(root: Path) -> None:
    run = trackui.init(dir=root)
    assert run.run_dir is not None
    inside = run.run_dir / layout.FILES_DIR / "note.txt"
    inside.write_text("x")
    assert run.save(str(inside), base_path=str(inside.parent), policy="now")
    run.finish()
    assert inside.read_text() == "x"
