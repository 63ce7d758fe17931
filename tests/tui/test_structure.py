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


async def test_the_runs_screen_works_in_any_app_given_its_services(fixture_root: Path) -> None:
    """Nothing below the app reaches into it: a bare App that builds the two
    services and hands the store's messages to the refresher is enough."""
    from textual.app import App
    from tui_support import NOW, settle

    from trackui.store.index import Index
    from trackui.tui.chart_settings import ChartSettings
    from trackui.tui.messages import IngestProgress, StoreRefreshed
    from trackui.tui.refresher import StoreRefresher
    from trackui.tui.screens.runs import RunsScreen
    from trackui.tui.widgets.curves import CurvesPanel
    from trackui.tui.widgets.metric_plot import MetricPlot
    from trackui.tui.widgets.run_table import RunTable

    index = Index(fixture_root, now=lambda: NOW)

    class Host(App[None]):
        def on_mount(self) -> None:
            self.settings = ChartSettings(fixture_root, self)
            self.store = StoreRefresher(self, fixture_root, index=index, now=lambda: NOW)
            self.push_screen(RunsScreen(self.settings, self.store))
            self.store.load()

        def on_store_refreshed(self, event: StoreRefreshed) -> None:
            self.store.took_in(event)

        def on_ingest_progress(self, event: IngestProgress) -> None:
            self.store.progressed(event)

    app = Host()
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(RunTable)
            assert [r.name for r in table.rows_shown][0] == "live-run"
            assert len(table.rows_shown) == 5
            panel = app.screen.query_one(CurvesPanel)
            assert "loss" in {p.metric for p in panel.query(MetricPlot)}
            # A settings change reaches the panel through the settings' signal.
            app.settings.set_smoothing("none")
            await settle(pilot)
            assert panel.view is not None and panel.view.request.smoothing == "none"
            loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
            assert not loss.spec.show_raw
    finally:
        index.close()
