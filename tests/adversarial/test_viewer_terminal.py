"""The real viewer on a real (pseudo) terminal: ``TERM=dumb``, 20x5, a burst of resizes."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

import trackui


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def drain(master: int, seconds: float) -> bytes:
    seen = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    return seen


@pytest.mark.parametrize("term", ["dumb", "xterm-256color"])
def test_the_viewer_survives_a_dumb_tiny_resized_terminal(root: Path, term: str) -> None:
    run = trackui.init(project="p", name="alpha", dir=root, config={"lr": 0.1})
    for i in range(20):
        run.log({"loss": 1 / (i + 1)})
    run.finish()
    master, slave = pty.openpty()
    set_size(slave, 20, 5)
    env = {**os.environ, "TRACKUI_SILENT": "1", "TERM": term, "TRACKUI_DIR": str(root)}
    p = subprocess.Popen(
        [sys.executable, "-m", "trackui", str(root)],
        stdin=slave,
        stdout=slave,
        stderr=slave,  # (Textual draws on stderr)
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        seen = drain(master, 4.0)
        assert p.poll() is None, seen[-2000:]
        for cols, rows in [(200, 60), (1, 1), (80, 3), (20, 5), (120, 36), (20, 5)] * 2:
            set_size(master, cols, rows)
            p.send_signal(signal.SIGWINCH)
            seen += drain(master, 0.05)
        seen += drain(master, 1.0)
        assert p.poll() is None, seen[-2000:]
        os.write(master, b"q")
        deadline = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < deadline:
            seen += drain(master, 0.1)
        assert p.poll() == 0, seen[-2000:]
        assert b"Traceback" not in seen and b"Error" not in seen
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
