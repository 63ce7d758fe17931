"""SVG snapshots of groups drawn as a mean with a band (fixture runs grouped by lr).

Update after reading the report: ``pytest tests/tui/test_group_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

from test_snapshots import snap

from trackui.tui.prefs import Prefs, save_prefs


def grouped(root: Path, band: str = "minmax") -> Path:
    save_prefs(root, Prefs(group_by=["lr"], band=band))
    return root


def test_grouped_chart_with_bands(snap_compare, fixture_root: Path, app_factory) -> None:
    """Two groups selected: 0.001 (three runs, one shorter) and 0.1 (one run)."""
    assert snap(snap_compare, app_factory(grouped(fixture_root)), ["space", "space"])


def test_grouped_chart_std_band_80x24(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(grouped(fixture_root, "std")), size=(80, 24))
