"""Fixtures for the UI tests (the run roots and waiting logic behind them are in ``tui_support``).

Async tests run on a fresh event loop each through ``asyncio.run``: Textual's
``run_test`` needs nothing more, and the suite needs no async plugin.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tui_support import NOW, build_hostile_root, build_root

from trackui.tui.app import TrackApp, make_app


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {a: pyfuncitem.funcargs[a] for a in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


@pytest.fixture
def fixture_root(tmp_path: Path) -> Path:
    """A root with the five fixture runs."""
    return build_root(tmp_path / "runs")


@pytest.fixture
def hostile_root(tmp_path: Path) -> Path:
    """A root of runs with hostile names."""
    return build_hostile_root(tmp_path / "evil")


@pytest.fixture
def app_factory() -> Callable[..., TrackApp]:
    """``make_app`` with the frozen clock and no watcher (tests post or refresh themselves)."""

    def make(root: Path, *, watch: bool = False, frozen: bool = True) -> TrackApp:
        app = make_app(root, watch=watch, now=(lambda: NOW) if frozen else time.time)
        app.animation_level = "none"
        return app

    return make
