"""Which files ``run.save(glob, base_path)`` copies, and where each lands in ``files/``."""

from __future__ import annotations

import glob as _glob
import os
from pathlib import Path

from trackui import console


def files_to_save(
    glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None
) -> list[tuple[Path, Path]]:
    """``(source, path relative to files/)`` for each file matching a path or glob.

    The relative path is taken from ``base_path`` (by default the directory of
    the glob before its first wildcard); a file outside it keeps its name. A
    plain path that does not exist is a warning; a glob that matches nothing
    is not.
    """
    pattern = os.fspath(glob_str)
    base = Path(base_path) if base_path is not None else Path(_glob_root(pattern))
    matches = sorted(_glob.glob(pattern, recursive=True))
    if not matches and not _glob.has_magic(pattern):
        console.warn(f"trackui: save: no such file {pattern!r}")
    out = []
    for src in matches:
        p = Path(src)
        if not p.is_file():
            continue
        try:
            rel = Path(os.path.relpath(p.absolute(), base.absolute()))
        except ValueError:
            rel = Path(p.name)
        out.append((p, rel))
    return out


def _glob_root(pattern: str) -> str:
    """The directory part of a glob before its first wildcard."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts[:-1]:
        if _glob.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."
