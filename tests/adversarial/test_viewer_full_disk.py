"""The index when its disk fills up in the middle of a load (a real tmpfs, a private mount).

The index's storage failing mid-transaction must not surface: the index opens
one step down its chain (root, user cache, temporary file, memory), loads
what the new place lacks, and the caller gets its answer. Each case runs in a
private mount namespace (``unshare -r -m``) on a small tmpfs; where this
machine refuses that, the test says why it is skipped.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

FILL_DURING_LOAD = """
set -eu
mount -t tmpfs -o size=16384k tmpfs "$MNT"
"$PY" - <<'PYEOF'
import os, trackui
from trackui.store.index import Index
root = os.environ["MNT"] + "/runs"
def log(name, n):
    run = trackui.init(project="p", name=name, dir=root)
    for i in range(n):
        run.log({"loss": 1 / (i + 1), "acc": i / 7, "x": i * 3.3})
    run.finish()
log("a", 10)
with Index(root) as ix:  # a cache file on the tmpfs, holding run a
    ix.refresh()
log("b", 20000)
PYEOF
avail=$(df -k --output=avail "$MNT" | tail -1)
dd if=/dev/zero of="$MNT/filler" bs=1k count=$((avail - 64)) 2>/dev/null || true
exec "$PY" - <<'PYEOF'
import json, os
from trackui.store.index import Index
ix = Index(os.environ["MNT"] + "/runs")
assert ix.storage == "root", ix.storage  # the cache file opened where it was
changed = ix.refresh()
rows = ix.runs()
print(json.dumps({
    "storage": ix.storage,
    "notes": list(ix.notes),
    "changed": sorted(r.name for r in rows if r.id in changed),
    "runs": sorted((r.name, r.steps, r.last_step) for r in rows),
    "points": len(ix.points(next(r.id for r in rows if r.name == "b"), "loss")[0]),
}))
ix.close()
PYEOF
"""


def test_index_falls_back_when_the_disk_fills_during_a_load(
    tmp_path: Path, in_private_mounts
) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    home = tmp_path / "home"
    env = {
        **os.environ,
        "TRACKUI_SILENT": "1",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "MNT": str(mnt),
        "PY": sys.executable,
    }
    p = in_private_mounts(FILL_DURING_LOAD, env)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["storage"] == "user"  # one step down: the per-user cache, fresh
    assert any("given up" in n for n in got["notes"])
    # Everything was loaded again into the new place, and the answer says so.
    assert got["changed"] == ["a", "b"]
    assert got["runs"] == [["a", 10, 9], ["b", 20000, 19999]]
    assert got["points"] == 20000
