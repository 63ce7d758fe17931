"""``trackui serve``: the same Textual app in a browser, through ``textual-serve``.

Each browser tab starts its own ``trackui DIR`` process under Textual's web
driver (``textual-serve`` runs the command and relays its terminal to the
page). Nothing here imports the UI: the served command does.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from pathlib import Path
from typing import IO

SERVE_EXTRA = "serve"
MISSING = (
    "trackui serve: needs the textual-serve package: "
    f"pip install 'trackui[{SERVE_EXTRA}]' (or pip install textual-serve)"
)
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"
"""The driver ``textual-serve`` starts the app with (stdin and stdout carry its protocol)."""
DEFAULT_PORT = 8000
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def under_web_driver() -> bool:
    """Whether this process is an app ``textual-serve`` started for a browser."""
    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER


def served_command(root: Path, *, poll: bool = False) -> str:
    """The shell command each browser session runs: this Python's ``trackui ROOT``."""
    argv = [sys.executable, "-m", "trackui", str(root)]
    if poll:
        argv.append("--poll")
    return shlex.join(argv)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def public_url(host: str, port: int) -> str:
    """The address to open: ``localhost`` for a loopback host (the same through an SSH
    tunnel), the machine's name for a wildcard one, else the host itself."""
    if host in LOOPBACK_HOSTS:
        name = "localhost"
    elif host in WILDCARD_HOSTS:
        name = socket.gethostname()
    else:
        name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}"


def start_lines(host: str, port: int) -> list[str]:
    """What the user reads on start: where the app is, and how to reach it over SSH."""
    url = public_url(host, port)
    lines = [f"trackui: serving the UI at {url} (Ctrl+C stops it)"]
    if host in LOOPBACK_HOSTS:
        lines.append(
            f"trackui: from another machine: ssh -L {port}:localhost:{port} "
            f"{socket.gethostname()}, then open {url}"
        )
    elif host in WILDCARD_HOSTS:
        lines.append(f"trackui: every interface listens: whoever reaches port {port} sees the runs")
    return lines


def serve(
    root: Path, host: str, port: int, out: IO[str], err: IO[str], *, poll: bool = False
) -> int:
    """Serve the UI on ``root`` until interrupted; returns the exit code."""
    try:
        from textual_serve.server import Server
    except ImportError:
        err.write(MISSING + "\n")
        return 2
    if root.exists() and not root.is_dir():
        err.write(f"trackui: {root}: not a directory\n")
        return 2
    # An SVG, a browser or a relay cannot take Kitty or Sixel graphics: half blocks.
    os.environ["TRACKUI_IMAGES"] = "halfcell"
    # The page addresses its web socket through this URL: through a tunnel, the
    # browser's localhost:PORT is this machine's.
    server = Server(
        served_command(root, poll=poll),
        host=host or "0.0.0.0",
        port=port,
        title=f"trackui {root}",
        public_url=public_url(host, port),
    )
    for line in start_lines(host, port):
        out.write(line + "\n")
    out.flush()
    server.serve()
    return 0
