"""Byte-compile trackui's modules before a bench times processes that import them.

An installed package has its bytecode compiled (pip does it), and a
development checkout writes it on the first import. Where neither happened,
as for a module edited since, or where ``PYTHONDONTWRITEBYTECODE`` is set,
every timed process would compile that module from source again: tens of
milliseconds of its start that no user's second start pays.
"""

from __future__ import annotations

import compileall
import importlib.util

PACKAGES = ("trackui", "trackui.store", "trackui.tui", "trackui.trainer")
"""trackui's packages (each may live in its own directory of the checkout)."""


def compile_sources() -> None:
    """Write current bytecode for every module of trackui (quietly; errors are not ours to fix here)."""
    seen: set[str] = set()
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            if loc not in seen:
                seen.add(loc)
                compileall.compile_dir(loc, quiet=2)
