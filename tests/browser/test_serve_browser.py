"""``trackui serve`` in a real headless Chromium: the page loads, the runs table is on
it, and keys typed in the page change the view (help opens; Enter opens a run).

Skipped, with the reason, only where no Chromium (with its chromedriver) or no
selenium can be had; ``.ci/run`` installs Chromium from the system's packages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import (
    browser,
    free_port,
    missing,
    press,
    received,
    served,
    wait_for_text,
)

pytestmark = pytest.mark.skipif(missing() is not None, reason=f"no browser: {missing()}")


def make_root(root: Path) -> Path:
    import trackui

    for name, lr in (("served-alpha", 0.01), ("served-beta", 0.001)):
        run = trackui.init(project="web", name=name, dir=root, config={"lr": lr})
        for step in range(20):
            run.log({"loss": 1.0 / (step + 1) + lr}, step=step)
        run.finish()
    return root


def test_the_browser_shows_the_runs_and_takes_keys(tmp_path: Path) -> None:
    root = make_root(tmp_path / "runs")
    port = free_port()
    with served(root, port), browser() as page:
        page.get(f"http://localhost:{port}")
        wait_for_text(page, ["served-alpha", "served-beta", "state", "name"])
        assert page.find_elements("css selector", ".xterm-screen")
        before = received(page)
        press(page, "\ue007")  # Enter opens the highlighted run
        wait_for_text(page, ["Overview", "Config", "Summary"], since=before)
        before = received(page)
        press(page, "?")
        wait_for_text(page, ["trackui keys", "Everywhere"], since=before)
        before = received(page)
        press(page, "\ue00c")  # Escape closes the help, back to the run
        after = wait_for_text(page, ["Overview"], since=before)
        assert "trackui keys" not in after
        png = tmp_path / "page.png"
        assert page.save_screenshot(str(png)) and png.stat().st_size > 1000
