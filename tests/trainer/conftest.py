"""Fixtures for the trainer's tests: the MNIST files and the reference script."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _mnist_dir() -> Path:
    env = os.environ.get("TRACKUI_DATA_DIR")
    return Path(env) if env else (REPO / "../shared/mnist").resolve()


@pytest.fixture(scope="session")
def mnist() -> Path:
    """The folder with the four MNIST IDX files (``../shared/mnist``, or ``$TRACKUI_DATA_DIR``)."""
    path = _mnist_dir()
    if not any((path / f"train-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz")):
        pytest.skip(f"MNIST files not found in {path} (set TRACKUI_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def reference() -> ModuleType:
    """``bench/reference_mnist.py``, the reference workload, as a module."""
    spec = importlib.util.spec_from_file_location(
        "reference_mnist", REPO / "bench" / "reference_mnist.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the network."""
    monkeypatch.setenv("TRACKUI_NO_DOWNLOAD", "1")
