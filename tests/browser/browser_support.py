"""A real headless Chromium on ``trackui serve``: the server started as a process, the
page opened with selenium, and what the page's terminal received read back as text.

The page draws the app with xterm.js on a canvas, so its text is not in the DOM: a
script put into the page before it loads keeps every byte the page's web socket
hands the terminal, and ``screen_text`` reads them with the escape sequences taken
out.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1280, 800)

KEEP_TERMINAL_BYTES = """
window.__tty = [];
const Native = window.WebSocket;
function Keeping(url, protocols) {
  const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
  ws.addEventListener("message", (e) => {
    if (typeof e.data !== "string") {
      const bytes = new Uint8Array(e.data);
      let s = "";
      for (const b of bytes) s += String.fromCharCode(b);
      window.__tty.push(s);
    }
  });
  return ws;
}
Keeping.prototype = Native.prototype;
Object.assign(Keeping, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
window.WebSocket = Keeping;
"""
ESCAPES = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]"
)


def missing() -> str | None:
    """Why no browser test can run here (None: it can)."""
    try:
        import selenium  # noqa: F401
        import textual_serve  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed (pip install -e '.[dev]')"
    if chromium() is None:
        return "no Chromium on PATH (apt-get install chromium chromium-driver)"
    if shutil.which("chromedriver") is None:
        return "no chromedriver on PATH (apt-get install chromium-driver)"
    return None


def chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(root: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    """``trackui serve ROOT --port PORT`` running until the block ends (the server and
    the app sessions it started, one process group, ended together)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trackui", "serve", str(root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"trackui serve exited {proc.returncode}: {proc.stdout.read()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("trackui serve did not listen within 30 s")
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (the system's, with its own chromedriver) keeping terminal bytes."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium() or ""
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_TERMINAL_BYTES}
        )
        yield driver
    finally:
        driver.quit()


def received(driver: Any) -> int:
    """How many chunks the page's terminal has received so far."""
    return int(driver.execute_script("return window.__tty ? window.__tty.length : 0"))


def screen_text(driver: Any, since: int = 0) -> str:
    """What the page's terminal received (from chunk ``since``), as plain text."""
    chunks = driver.execute_script("return window.__tty || []")[since:]
    raw = "".join(chunks).encode("latin-1").decode("utf-8", "replace")
    return ESCAPES.sub(" ", raw)


def wait_for_text(driver: Any, words: list[str], *, since: int = 0, timeout: float = 30) -> str:
    """Wait until every word is on the page's terminal; returns its text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen_text(driver, since)
        if all(w in text for w in words):
            return text
        time.sleep(0.2)
    raise AssertionError(f"not on the page after {timeout} s: {words}; it shows: {text[-2000:]!r}")


def press(driver: Any, keys: str) -> None:
    """Type into the terminal, as a user's keyboard would."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(keys)
