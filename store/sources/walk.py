"""One bounded walk of a root, shared by every source's ``find``.

Sources find their runs in the folders a walk of the root lists: the walk
skips the viewer's cache folder, trackui's own run directories, hidden
folders and symbolic links to folders (so no loop), stops at
:data:`MAX_DEPTH` folders below the root and after :data:`MAX_DIRS`
folders. :func:`shared_walk` lets several ``find`` calls share one walk.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from trackui.store import layout

MAX_DEPTH = 8
"""Folders below the root looked into (``mlruns/<experiment>/<run>/metrics/<name>`` is 4)."""
MAX_DIRS = 20_000
"""Folders listed in one walk at most (a home directory given as a root stays bounded)."""
PRUNED = frozenset({"node_modules", "__pycache__", "site-packages", "artifacts"})
"""Folder names never looked into (large trees that hold no runs of their own)."""
NOT_ENTERED = frozenset({"mlruns"})
"""Folders listed but not walked into: their source lists them itself (MLflow's file store)."""


@dataclass(frozen=True)
class Folder:
    """One folder the walk listed."""

    rel: str
    """Its path relative to the root, ``/``-separated (``""`` for the root)."""
    path: Path
    dirs: tuple[str, ...]
    """Sub-folder names (those the walk looked into, or would have, below the depth limit)."""
    files: tuple[str, ...]


_shared = threading.local()


def walk_root(root: Path) -> list[Folder]:
    """The folders under ``root`` (the root first, then depth first, names in order).

    Inside :func:`shared_walk` the walk is made once and handed to every caller.
    """
    cache = getattr(_shared, "walks", None)
    if cache is not None:
        key = str(root)
        got = cache.get(key)
        if got is None:
            got = cache[key] = _walk(root)
        return got
    return _walk(root)


@contextlib.contextmanager
def shared_walk() -> Iterator[None]:
    """Within this block, :func:`walk_root` walks each root once (on this thread)."""
    outer = getattr(_shared, "walks", None)
    _shared.walks = {} if outer is None else outer
    try:
        yield
    finally:
        _shared.walks = outer


def _walk(root: Path) -> list[Folder]:
    out: list[Folder] = []
    stack: list[tuple[str, int]] = [("", 0)]
    root_s = str(root)
    in_wandb = os.path.basename(os.path.realpath(root_s)) == "wandb"  # (see _skipped)
    while stack and len(out) < MAX_DIRS:
        rel, depth = stack.pop()
        full = os.path.join(root_s, rel) if rel else root_s
        dirs: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(full) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            if not _skipped(e, depth, in_wandb):
                                dirs.append(e.name)
                        elif e.is_file():
                            files.append(e.name)
                    except OSError:
                        continue
        except OSError:
            continue
        dirs.sort()
        files.sort()
        out.append(Folder(rel, Path(full), tuple(dirs), tuple(files)))
        if depth < MAX_DEPTH:
            for d in reversed(dirs):
                if d in NOT_ENTERED:
                    continue
                stack.append((f"{rel}/{d}" if rel else d, depth + 1))
    return out


def _skipped(e: os.DirEntry[str], depth: int, in_wandb: bool) -> bool:
    name = e.name
    if name.startswith(".") or name in PRUNED:
        return True
    # trackui's own run directories (directly under the root) are read as they
    # are. wandb names its run folders the same way: only where the root is a
    # wandb folder is a run directory told by its meta.json (a stat per run of
    # a large root at every rescan cost more than the rest of the walk).
    return (
        depth == 0
        and layout.parse_run_dir_name(name) is not None
        and (not in_wandb or os.path.exists(os.path.join(e.path, layout.META)))
    )
