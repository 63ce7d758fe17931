"""List wandb's public names, to check trackui against them.

Run with a Python that has wandb installed (never trackui's own environment)::

    /work/bench-venv/bin/python scripts/wandb_public_names.py > tests/data/wandb_public_names.json

It writes ``wandb.__all__``, the few documented top-level names outside it
(``Settings``, ``login``, ...), and the public members of ``wandb.Run``, with
the wandb version they came from. ``tests/unit/test_wandb_names.py`` walks the
list against trackui; ``docs/api.md`` tabulates it.
"""

from __future__ import annotations

import json
import sys

import wandb

DOCUMENTED_OUTSIDE_ALL = (
    "Artifact",
    "Settings",
    "alert",
    "login",
    "mark_preempting",
    "require",
    "restore",
    "run",
    "setup",
    "teardown",
)


def main() -> None:
    module = sorted(n for n in wandb.__all__ if not n.startswith("_"))
    module += sorted(n for n in DOCUMENTED_OUTSIDE_ALL if hasattr(wandb, n) and n not in module)
    run = sorted(n for n in dir(wandb.Run) if not n.startswith("_"))
    json.dump(
        {"wandb_version": wandb.__version__, "module": module, "run": run},
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
