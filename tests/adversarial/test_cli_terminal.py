"""The command and the terminal: no UI without one, no binary into one, readable usage."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

import trackui
from trackui.cli import build_parser


@pytest.fixture
def one(root: Path) -> Path:
    run = trackui.init(project="p", name="alpha", dir=root)
    for i in range(5):
        run.log({"loss": 1 / (i + 1)})
    run.finish()
    return root


ENV = {**os.environ, "TRACKUI_SILENT": "1", "TERM": "xterm-256color"}


def test_the_ui_without_a_terminal_says_so_and_exits(one: Path) -> None:
    # stdout piped (cron, CI, `| cat`), then stdin too; a UI would hang here.
    for stdin in (subprocess.DEVNULL, None):
        p = subprocess.run(
            [sys.executable, "-m", "trackui", str(one)],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        )
        assert p.returncode == 2, p.stderr
        assert p.stdout == ""
        assert p.stderr.count("\n") == 1 and "terminal" in p.stderr and "trackui ls" in p.stderr
        assert "\x1b" not in p.stderr


def run_on_pty(argv: list[str], *, stdin_tty: bool = True) -> tuple[int, bytes, str]:
    """Run with stdout on a terminal (stderr piped); its exit code, terminal bytes, stderr."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(
            argv,
            stdin=slave if stdin_tty else subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
            env=ENV,
        )
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        try:
            p.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise AssertionError("still running after 60 s") from None
        err = p.stderr.read().decode() if p.stderr else ""
        return p.returncode, seen, err
    finally:
        os.close(master)


def test_the_ui_with_a_terminal_for_stdout_but_not_stdin(one: Path) -> None:
    rc, seen, err = run_on_pty([sys.executable, "-m", "trackui", str(one)], stdin_tty=False)
    assert rc == 2 and "terminal" in err and b"\x1b" not in seen


@pytest.fixture
def own_stdout(tmp_path: Path) -> Path:
    """A link like /dev/stdout (which a failing writer could delete: never the system's)."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    return link


@pytest.mark.parametrize("output", [None, "-", "link"])
def test_parquet_is_refused_on_a_terminal(one: Path, output: str | None, own_stdout: Path) -> None:
    argv = [sys.executable, "-m", "trackui", "export", "alpha", "--dir", str(one)]
    if output == "link":
        output = str(own_stdout)
    argv += ["--format", "parquet"] + (["-o", output] if output else [])
    rc, seen, err = run_on_pty(argv)
    assert rc == 2, err
    assert b"PAR1" not in seen and seen.strip() == b""
    assert err.count("\n") == 1 and "-o FILE" in err and "terminal" in err


@pytest.mark.parametrize("via_link", [False, True])
def test_parquet_into_a_pipe_still_works(one: Path, own_stdout: Path, via_link: bool) -> None:
    argv = [sys.executable, "-m", "trackui", "export", "alpha", "--dir", str(one)]
    argv += ["--format", "parquet"] + (["-o", str(own_stdout)] if via_link else [])
    p = subprocess.run(argv, capture_output=True, env=ENV, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout[:4] == b"PAR1"
    assert own_stdout.is_symlink()  # `-o /dev/stdout | ...` leaves /dev/stdout in place


@pytest.mark.parametrize("cmd", ["ls", "show", "diff", "export"])
def test_each_subcommand_has_its_own_usage(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([cmd, "--help"])
    out = capsys.readouterr().out
    assert out.startswith(f"usage: trackui {cmd} [-h]")
    assert "|" not in out.splitlines()[0]


def test_the_filter_help_says_what_the_language_is(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["ls", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "docs/" not in out
    for term in ("state:running", "tag:", "lr<0.01", "or", "not"):
        assert term in out
