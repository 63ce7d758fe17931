"""``trackui serve``'s arguments, its start lines, and its one-line error without the extra
(the browser itself: tests/browser)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from trackui.cli import main
from trackui.cli_args import build_parser
from trackui.serve import MISSING, public_url, served_command, start_lines


def test_serve_defaults_to_localhost() -> None:
    args = build_parser().parse_args(["serve", "some/root"])
    assert (args.cmd, args.dir, args.host, args.port) == ("serve", "some/root", "127.0.0.1", 8000)
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9001"])
    assert (args.host, args.port) == ("0.0.0.0", 9001)


def test_start_lines_say_how_to_tunnel() -> None:
    lines = start_lines("127.0.0.1", 8123)
    assert lines[0] == "trackui: serving the UI at http://localhost:8123 (Ctrl+C stops it)"
    host = socket.gethostname()
    assert lines[1] == (
        f"trackui: from another machine: ssh -L 8123:localhost:8123 {host}, "
        "then open http://localhost:8123"
    )
    assert public_url("0.0.0.0", 80) == f"http://{host}:80"
    assert "every interface" in start_lines("0.0.0.0", 80)[1]


def test_the_served_command_is_this_python_running_trackui(tmp_path: Path) -> None:
    root = tmp_path / "a root with spaces"
    cmd = served_command(root, poll=True)
    assert cmd.startswith(sys.executable) and "-m trackui" in cmd and cmd.endswith("--poll")
    assert f"'{root}'" in cmd


def test_a_bad_port_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["serve", str(tmp_path), "--port", "70000"]) == 2
    code = subprocess.run(
        [sys.executable, "-m", "trackui", "serve", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert code.returncode == 2 and code.stderr.count("\n") == 1 and "--port 0" in code.stderr


def test_without_textual_serve_one_line_names_the_extra(tmp_path: Path) -> None:
    # A Python where `import textual_serve` fails, as where the extra is not installed.
    script = (
        "import sys; sys.modules['textual_serve'] = None; "
        "from trackui.cli import main; raise SystemExit(main(sys.argv[1:]))"
    )
    got = subprocess.run(
        [sys.executable, "-c", script, "serve", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert got.returncode == 2
    assert got.stderr == MISSING + "\n" and "trackui[serve]" in got.stderr
