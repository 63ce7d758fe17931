"""Imports go one way: the app imports screens, widgets and services, never the reverse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import trackui.tui

TUI = Path(trackui.tui.__file__).parent
BELOW_THE_APP = sorted(
    f"trackui.tui.{p.parent.name}.{p.stem}" if p.parent != TUI else f"trackui.tui.{p.stem}"
    for p in [*TUI.glob("screens/*.py"), *TUI.glob("widgets/*.py"), *TUI.glob("*.py")]
    if p.stem not in ("__init__", "app")
)


def test_every_screen_widget_and_service_is_checked() -> None:
    for name in (
        "trackui.tui.screens.runs",
        "trackui.tui.screens.run_detail",
        "trackui.tui.screens.compare",
        "trackui.tui.screens.help",
        "trackui.tui.widgets.curves",
        "trackui.tui.widgets.metric_plot",
        "trackui.tui.chart_settings",
        "trackui.tui.refresher",
        "trackui.tui.latest",
    ):
        assert name in BELOW_THE_APP


@pytest.mark.parametrize("module", BELOW_THE_APP)
def test_imported_alone_it_does_not_import_the_app(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "assert 'trackui.tui.app' not in sys.modules, 'imports trackui.tui.app'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("module", BELOW_THE_APP)
def test_it_does_not_import_the_app_lazily_either(module: str) -> None:
    path = TUI.joinpath(*module.split(".")[2:]).with_suffix(".py")
    source = path.read_text(encoding="utf-8")
    assert "trackui.tui.app" not in source
    assert "from trackui.tui import app" not in source
