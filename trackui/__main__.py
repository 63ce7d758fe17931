"""``python -m trackui``: the same as the ``trackui`` command."""

from trackui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
