"""``trackui ls`` answers whatever happens to the index's cache file.

The index is a cache: a root on a full disk, a cache folder that cannot be
written (another user's root, a read-only cache directory) or a disk that
fills up in the middle of a load sends it down its chain (root, user cache,
temporary file, memory), and the command still lists every run. Each case
runs the real command in a subprocess, as the person or on the disk it
describes; where this machine cannot arrange that, the test says why it is
skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import trackui

NOBODY = 65534


def log_run(root: Path, name: str, steps: int) -> None:
    run = trackui.init(project="p", name=name, dir=root)
    for i in range(steps):
        run.log({"loss": 1 / (i + 1), "acc": i / 7, "x": i * 3.3})
    run.finish()


def env_for(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TRACKUI_SILENT": "1",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
    }


def ls_json(root: Path, env: dict[str, str], prefix: list[str] | None = None) -> list[dict]:
    p = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "trackui", "ls", str(root), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    return json.loads(p.stdout)


def unprivileged() -> list[str]:
    """A command prefix under which file modes bind (root: without capabilities)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot be made to bind")
    prefix = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "pass"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode()[-200:]}")
    return prefix


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    """A root with one run, indexed, and a second run logged after that."""
    root = tmp_path / "runs"
    log_run(root, "a", 10)
    ls_json(root, env_for(tmp_path / "home0"))
    assert (root / ".trackui" / "index.duckdb").is_file()
    log_run(root, "b", 50)
    return root


def test_ls_when_the_cache_folder_cannot_be_written(indexed: Path, tmp_path: Path) -> None:
    # The cache file itself is writable, its folder is not: DuckDB opens the
    # file and fails at the first commit, when it creates its WAL beside it.
    prefix = unprivileged()
    cache = indexed / ".trackui"
    for f in cache.iterdir():
        f.chmod(0o666)
    cache.chmod(0o555)
    indexed.chmod(0o555)
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    (home / "cache").chmod(0o555)
    try:
        runs = ls_json(indexed, env_for(home), prefix)
    finally:
        cache.chmod(0o755)
        indexed.chmod(0o755)
    assert sorted(r["name"] for r in runs) == ["a", "b"]


def test_ls_when_the_user_cache_file_cannot_be_written(indexed: Path, tmp_path: Path) -> None:
    # A read-only root, and a user cache file (a good one) in a folder that
    # cannot be written: down to a temporary index.
    prefix = unprivileged()
    home = tmp_path / "home"
    cached = tmp_path / "index.duckdb"
    shutil.copy(indexed / ".trackui" / "index.duckdb", cached)
    shutil.rmtree(indexed / ".trackui")
    indexed.chmod(0o555)
    user_dir = home / "cache" / "trackui"
    user_dir.mkdir(parents=True, exist_ok=True)
    code = textwrap.dedent(f"""
        from pathlib import Path
        from trackui.store.db import user_cache_path
        print(user_cache_path(Path({str(indexed)!r})))
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env_for(home), capture_output=True, text=True, check=True
    )
    user_file = Path(out.stdout.strip())
    assert user_file.parent == user_dir
    shutil.copy(cached, user_file)
    user_file.chmod(0o666)
    user_dir.chmod(0o555)
    try:
        runs = ls_json(indexed, env_for(home), prefix)
    finally:
        indexed.chmod(0o755)
        user_dir.chmod(0o755)
    assert sorted(r["name"] for r in runs) == ["a", "b"]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder that other users can read (``tmp_path`` is private to this one)."""
    path = Path(tempfile.mkdtemp(prefix="trackui-shared-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_ls_as_another_user(shared_tmp: Path) -> None:
    """Another user reads a root (and its index) that this one wrote."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the command as another user")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "pass"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"this Python cannot be run as uid {NOBODY} (its folder is private)")
    root = shared_tmp / "runs"
    log_run(root, "a", 10)
    ls_json(root, env_for(shared_tmp / "home0"))
    log_run(root, "b", 50)
    for p in [shared_tmp, *shared_tmp.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0))
    home = shared_tmp / "nobody-home"
    (home / "cache").mkdir(parents=True)  # owned by this user: not writable by nobody
    runs = ls_json(root, env_for(home), prefix)
    assert sorted(r["name"] for r in runs) == ["a", "b"]


FULL_DISK = """
set -eu
mount -t tmpfs -o size={size_k}k tmpfs "$MNT"
"$PY" - <<'PYEOF'
import os, trackui
root = os.environ["MNT"] + "/runs"
def log(name, n):
    run = trackui.init(project="p", name=name, dir=root)
    for i in range(n):
        run.log({{"loss": 1 / (i + 1), "acc": i / 7, "x": i * 3.3}})
    run.finish()
log("a", 10)
PYEOF
"$PY" -m trackui ls "$MNT/runs" > /dev/null
"$PY" - <<'PYEOF'
import os, trackui
run = trackui.init(project="p", name="b", dir=os.environ["MNT"] + "/runs")
for i in range({steps}):
    run.log({{"loss": 1 / (i + 1), "acc": i / 7, "x": i * 3.3}})
run.finish()
PYEOF
avail=$(df -k --output=avail "$MNT" | tail -1)
dd if=/dev/zero of="$MNT/filler" bs=1k count=$((avail - {free_k})) 2>/dev/null || true
exec "$PY" -m trackui ls "$MNT/runs" --json
"""


@pytest.mark.parametrize(
    ("free_k", "why"),
    [(0, "full before the command starts"), (64, "fills up in the middle of the load")],
)
def test_ls_on_a_full_disk(tmp_path: Path, free_k: int, why: str, in_private_mounts) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = {**env_for(tmp_path / "home"), "MNT": str(mnt), "PY": sys.executable}
    script = FULL_DISK.format(size_k=16384, steps=20000, free_k=free_k)
    p = in_private_mounts(script, env)
    assert p.returncode == 0, f"{why}: {p.stderr}"
    assert "Traceback" not in p.stderr
    runs = json.loads(p.stdout)
    assert sorted((r["name"], r["steps"]) for r in runs) == [("a", 10), ("b", 20000)]
