"""The real viewer on a root whose index cannot be written: it opens and lists every run."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_viewer_terminal import drain, set_size

import trackui


def log_run(root: Path, name: str, steps: int) -> None:
    run = trackui.init(project="p", name=name, dir=root)
    for i in range(steps):
        run.log({"loss": 1 / (i + 1)})
    run.finish()


def test_the_viewer_when_the_cache_folder_cannot_be_written(root: Path, tmp_path: Path) -> None:
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file modes cannot be made to bind")
        prefix = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
    env = {**os.environ, "TRACKUI_SILENT": "1", "TERM": "xterm-256color"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    log_run(root, "alpha-run", 5)
    subprocess.run(
        [sys.executable, "-m", "trackui", "ls", str(root)], env=env, check=True, capture_output=True
    )
    log_run(root, "omega-run", 50)  # not in the index yet: the viewer must write
    cache = root / ".trackui"
    for f in cache.iterdir():
        f.chmod(0o666)
    cache.chmod(0o555)
    root.chmod(0o555)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache").chmod(0o555)
    master, slave = pty.openpty()
    set_size(slave, 120, 30)
    p = subprocess.Popen(
        [*prefix, sys.executable, "-m", "trackui", str(root)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"omega-run" not in seen and time.monotonic() < deadline and p.poll() is None:
            seen += drain(master, 0.2)
        seen += drain(master, 1.0)
        assert b"omega-run" in seen and b"alpha-run" in seen, seen[-3000:]
        assert b"rollback" not in seen and b"Traceback" not in seen
        os.write(master, b"q")
        p.wait(timeout=30)
        assert p.returncode == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
        cache.chmod(0o755)
        root.chmod(0o755)
