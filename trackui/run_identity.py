"""A run's identity: its id, name, project, group, tags, notes and state flags.

``RunIdentity`` is a base of ``trackui.run_object.Run``; its properties read
and write the run's ``meta.json`` (``docs/format.md``), and setters write it
again at once. Kept apart so ``run_object.py`` holds the logging and the
lifecycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trackui.store import layout
from trackui.store.writer import RunWriter
from trackui.values import clean_text


class RunIdentity:
    """The identity properties of a ``Run`` (its meta and the flags of its state)."""

    _meta: dict[str, Any]
    _step: int
    _disabled: bool
    _finished: bool
    run_dir: Path | None
    _writer: RunWriter | None

    @property
    def id(self) -> str:
        return str(self._meta["id"])

    @property
    def name(self) -> str:
        return str(self._meta.get("name") or self.id)

    @name.setter
    def name(self, value: str) -> None:
        self._meta["name"] = clean_text(str(value))
        self._write_meta()

    @property
    def project(self) -> str | None:
        return self._meta.get("project")

    @property
    def group(self) -> str | None:
        return self._meta.get("group")

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self._meta.get("tags") or ())

    @tags.setter
    def tags(self, value: Sequence[str]) -> None:
        self._meta["tags"] = [clean_text(str(t)) for t in value]
        self._write_meta()

    @property
    def notes(self) -> str | None:
        return self._meta.get("notes")

    @notes.setter
    def notes(self, value: str) -> None:
        self._meta["notes"] = clean_text(str(value))
        self._write_meta()

    @property
    def root(self) -> Path | None:
        """The directory that holds this run's directory."""
        return self.run_dir.parent if self.run_dir is not None else None

    @property
    def step(self) -> int:
        """The step the next ``log()`` without ``step=`` goes to."""
        return self._step

    @property
    def disabled(self) -> bool:
        return self._disabled

    @property
    def finished(self) -> bool:
        """Whether ``finish()`` has run."""
        return self._finished

    @property
    def owner_pid(self) -> int | None:
        """The process that started (or resumed) this run."""
        return self._meta.get("pid")

    def __repr__(self) -> str:
        return f"<trackui.Run {self.id} {self.name!r} dir={str(self.run_dir)!r}>"

    def _write_meta(self) -> None:
        """Write ``meta.json`` again (nothing for a disabled run)."""
        if self._writer is not None:
            self._writer.write_small(layout.META, self._meta)
