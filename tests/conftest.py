"""Fixtures shared by every test tier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(
    __import__("os").environ.get("TRACKUI_TEST_MNIST", REPO.parent / "shared" / "mnist")
)


@pytest.fixture(autouse=True)
def _quiet_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No console lines or console capture from runs made in tests, and no run left open."""
    monkeypatch.setenv("TRACKUI_SILENT", "1")
    monkeypatch.setenv("TRACKUI_CONSOLE", "off")
    monkeypatch.delenv("TRACKUI_DIR", raising=False)
    monkeypatch.delenv("TRACKUI_MODE", raising=False)
    yield
    import trackui.api

    for run in list(trackui.api._active):
        run.finish(quiet=True)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty run root."""
    path = tmp_path / "runs"
    path.mkdir()
    return path


@pytest.fixture
def mnist_dir() -> Path:
    """The four standard MNIST IDX files."""
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found at {MNIST_DIR} (set TRACKUI_TEST_MNIST)")
    return MNIST_DIR
