"""Fixtures for other trackers' runs: each test's own user cache, and a listing to prove nothing is written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The user cache (where the index and the mirror of other trackers' runs live) per test."""
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    yield cache


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder below ``folder``: ``{relative path: (size, mtime_ns)}``."""
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, folder)] = (st.st_size if n in files else 0, st.st_mtime_ns)
    return out


def f32(v: float) -> float:
    """``v`` as TensorBoard keeps it (a 32-bit float)."""
    import numpy as np

    return float(np.float32(v))


def read_back(ix, run_id: str, metric: str) -> dict[int, float]:
    """``{step: value}`` of one metric of a run, as the index answers."""
    step, _t, v = ix.points(run_id, metric)
    return dict(zip(step.tolist(), v.tolist(), strict=True))


def same(a: dict[int, float], b: dict[int, float]) -> bool:
    """Equal, NaN equal to NaN."""
    import math

    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


@pytest.fixture
def h() -> object:
    """The helpers above: ``h.listing``, ``h.f32``, ``h.read_back``, ``h.same``."""
    import types

    return types.SimpleNamespace(listing=listing, f32=f32, read_back=read_back, same=same)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Coroutine tests (the UI's, under ``App.run_test``) run on their own event loop."""
    import asyncio
    import inspect

    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {a: pyfuncitem.funcargs[a] for a in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None
