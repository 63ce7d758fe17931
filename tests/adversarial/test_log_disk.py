"""A read-only or full disk at ``init()``: one clear warning (what, where, and that
training goes on), never a traceback, never a warning per file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys, trackui
run = trackui.init(dir=sys.argv[1], config={"lr": 0.1}, name="r")
run.define_metric("loss", summary="min")
for i in range(100):
    trackui.log({"loss": 1.0 / (i + 1), "note": "x" * 40})
run.config["more"] = 1
run.summary["best"] = 1.0
run.save(sys.argv[2], policy="now")
trackui.finish()
print("done")
"""

SETUP = {
    "read-only": "mount -t tmpfs -o size=1m tmpfs {mnt} && mkdir {mnt}/runs && "
    "mount -o remount,ro {mnt}",
    "full": "mount -t tmpfs -o size=64k tmpfs {mnt} && mkdir {mnt}/runs && "
    "(cat /dev/zero > {mnt}/filler 2>/dev/null; true)",
}


def _run_in_mount_namespace(tmp_path: Path, kind: str) -> subprocess.CompletedProcess[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not installed")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    saved = tmp_path / "weights.bin"
    saved.write_bytes(b"w" * 4096)
    shell = SETUP[kind].format(mnt=mnt) + f" && exec {sys.executable} {script} {mnt}/runs {saved}"
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "wrap"}
    proc = subprocess.run(
        [unshare, "-r", "-m", "sh", "-c", shell],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if proc.returncode != 0 and "done" not in proc.stdout and "Traceback" not in proc.stderr:
        pytest.skip(f"cannot make a private mount here: {proc.stderr.strip()[:200]}")
    return proc


@pytest.mark.parametrize(
    ("kind", "reason"), [("read-only", "Read-only file system"), ("full", "No space left")]
)
def test_an_unwritable_disk_at_init_is_one_clear_warning(
    tmp_path: Path, kind: str, reason: str
) -> None:
    proc = _run_in_mount_namespace(tmp_path, kind)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip() == "done"
    warnings = [line for line in proc.stderr.splitlines() if "trackui" in line]
    assert len(warnings) == 1, proc.stderr
    (line,) = warnings
    assert reason in line and "training goes on" in line
    assert str(tmp_path / "mnt" / "runs") in line
