"""SVG snapshots of charts in sections (a pinned one, a folded one) and of compare coloured by
goal, at 120x36 and 80x24, in colour and with ``NO_COLOR``.

Update after reading the report:
``pytest tests/tui/test_section_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sections_support import build_sections_root
from test_snapshots import snap

from trackui.tui.prefs import Prefs, save_prefs

SIZES = {"120x36": (120, 36), "80x24": (80, 24)}


@pytest.fixture(params=["colour", "no_color"])
def colour(request, monkeypatch) -> str:
    if request.param == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    return request.param


@pytest.fixture
def sections_root(tmp_path: Path) -> Path:
    root = build_sections_root(tmp_path / "runs")
    # A pinned chart and a folded one, as a user left them.
    save_prefs(root, Prefs(pinned=["val/accuracy"], folded_charts=["lr"]))
    return root


@pytest.mark.parametrize("size", list(SIZES))
def test_sections(snap_compare, sections_root: Path, app_factory, size: str, colour: str) -> None:
    assert snap(snap_compare, app_factory(sections_root), size=SIZES[size])


@pytest.mark.parametrize("size", list(SIZES))
def test_compare_by_goal(
    snap_compare, sections_root: Path, app_factory, size: str, colour: str
) -> None:
    assert snap(snap_compare, app_factory(sections_root), ["a", "c"], size=SIZES[size])
