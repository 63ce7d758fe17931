"""The index answers repeated curve queries from a cache that never goes stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import trackui
from trackui.store.index import Index


def test_cached_curves_follow_appends_and_rewrites(root: Path) -> None:
    run = trackui.init(dir=root, id="r1")
    for i in range(10):
        run.log({"loss": float(i)})
    ix = Index(root, cache=False)
    ix.refresh()
    (first,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert first.points == 10 and first.raw[-1] == 9.0
    # A caller changing its arrays does not change the next answer.
    first.raw[:] = -1.0
    (again,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert again.raw[-1] == 9.0 and np.array_equal(again.raw, np.arange(10.0))
    # Appended points show up in the next answer for the same query.
    for i in range(10, 15):
        run.log({"loss": float(i)})
    run.finish()
    ix.refresh()
    (grown,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert grown.points == 15 and grown.raw[-1] == 14.0
    # So does a history file rewritten from scratch.
    history = run.dir / "history.jsonl"
    history.write_bytes(b'{"s":0,"t":1.0,"m":{"loss":7.0}}\n')
    ix.refresh()
    (rewritten,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert rewritten.points == 1 and rewritten.raw[-1] == 7.0
    ix.close()
