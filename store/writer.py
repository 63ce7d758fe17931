"""Write one run directory: append history records, replace small files atomically.

This is the only code that writes runs. It imports the standard library and
orjson only, because training scripts import it. Its promises (see
``docs/format.md``):

* ``append()`` hands each record to the OS with one ``write(2)`` before it
  returns, so a killed process loses nothing it acknowledged.
* I/O errors never raise out of it: the first one is said once on stderr
  (what could not be written, where, and that training goes on), later ones
  stay quiet until a write succeeds again (at most ``MAX_WARNINGS`` in all),
  the record is dropped, and writing resumes cleanly (a ``\\n`` first,
  so no record is glued onto a torn one) when the disk takes data again.
* A background thread fsyncs the history, touches the heartbeat, and writes
  a pending summary at bounded intervals.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from trackui.store import layout

_write = os.write  # bound once: append() runs for every log() call

_COPY_CHUNK = 1 << 20

MAX_WARNINGS = 5
"""How many I/O warnings a writer prints before it goes quiet."""


def json_bytes(obj: Any, *, indent: bool = True) -> bytes:
    """``obj`` as JSON (indented, or compact with ``indent=False``).

    Integers beyond 64 bits, which orjson refuses, are written exactly by the
    standard library's encoder instead (the reader reads them back exactly);
    text that is not valid Unicode is written with ``?``.
    """
    opt = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(obj, option=opt, default=str)
    except TypeError:
        text = json.dumps(obj, indent=2 if indent else None, ensure_ascii=False, default=str)
        return text.encode("utf-8", "replace")


def write_atomic(
    path: Path,
    data: bytes | None = None,
    *,
    copy_from: Path | None = None,
    link_to: str | None = None,
    sync: bool = True,
) -> None:
    """Replace ``path`` atomically: a reader sees the old file or the whole new one.

    Give exactly one of ``data`` (bytes), ``copy_from`` (a file copied in
    1 MiB chunks, never read whole into memory) or ``link_to`` (the target of
    a symbolic link). The content goes to a hidden temporary name in the same
    directory (``.<name>.<pid>-<thread>.tmp``), is fsynced (files only), and
    is renamed over ``path``; on any failure the temporary file is removed.
    ``sync=False`` skips the fsync, for caches that may be lost in a crash.

    Raises OSError; callers that must not raise catch it.
    """
    if (data is not None) + (copy_from is not None) + (link_to is not None) != 1:
        raise TypeError("write_atomic: give exactly one of data, copy_from, link_to")
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        if link_to is not None:
            if tmp.is_symlink():
                tmp.unlink()
            os.symlink(link_to, tmp)
        else:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                if data is not None:
                    view = memoryview(data)
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
                else:
                    with open(copy_from, "rb") as src, open(fd, "wb", closefd=False) as dst:  # type: ignore[arg-type]
                        shutil.copyfileobj(src, dst, _COPY_CHUNK)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` with ``write_atomic``. Raises OSError."""
    write_atomic(path, json_bytes(obj) + b"\n")


def _ends_with_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    if size == 0:
        return True
    return os.pread(fd, 1, size - 1) == b"\n"


class RunWriter:
    """The files of one run directory, opened for writing.

    Args:
        run_dir: the run directory; created if missing.
        warn: where warnings go (one line each); stderr by default.
        summary_source: called by the background thread to get the summary to
            write when it is marked dirty.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        warn: Callable[[str], None] | None = None,
        summary_source: Callable[[], dict[str, Any]] | None = None,
        background: bool = True,
    ) -> None:
        self.run_dir = run_dir
        self._warn_fn = warn or (lambda line: print(line, file=sys.stderr))
        self._summary_source = summary_source
        self._warnings = 0
        self._failing = False
        """Whether the last write failed (further failures are not said again)."""
        self._quiet_failures = 0
        self._torn = False
        self._dirty_sync = False
        self._dirty_summary = False
        self._lock = threading.Lock()
        self._closed = False
        self._small: dict[str, Any] = {}
        """Last content of each small file, rewritten if the directory vanishes."""
        self._fd = -1
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / layout.FILES_DIR).mkdir(exist_ok=True)
            self._fd = self._open_history()
        except OSError as e:
            self._io_failed("files", e)
        self.touch_heartbeat()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._background, name="trackui-writer", daemon=True
            )
            self._thread.start()

    # -- history ---------------------------------------------------------

    def _open_history(self) -> int:
        fd = os.open(self.run_dir / layout.HISTORY, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        # A previous writer of this run may have died mid-record: never glue
        # our first record onto its torn tail.
        try:
            self._torn = not _ends_with_newline(fd)
        except OSError:
            self._torn = True
        return fd

    def append(self, line: bytes) -> bool:
        """Append one record line (ending in ``\\n``); True if the OS took all of it.

        Also marks the summary as changed: every record may change it.
        """
        self._dirty_summary = True
        if self._torn:
            line = b"\n" + line
        try:
            n = _write(self._fd, line)
        except OSError as e:
            self._torn = True  # we cannot know whether some bytes landed
            self._io_failed("history records", e)
            return False
        if n != len(line):
            # A short write (full disk): the tail is torn; drop the rest.
            self._torn = True
            self._io_failed("history records", OSError(28, "disk full: a record was cut short"))
            return False
        self._torn = False
        self._failing = False
        self._dirty_sync = True
        return True

    def sync(self) -> None:
        """fsync the history if anything was appended since the last sync."""
        if not self._dirty_sync or self._fd < 0:
            return
        self._dirty_sync = False
        try:
            os.fsync(self._fd)
        except OSError as e:
            self._warn(f"could not sync the history ({e.strerror or e})")

    # -- small files -----------------------------------------------------

    def write_small(self, name: str, obj: Any) -> bool:
        """Replace one small file (meta, config, summary) atomically; False on I/O error."""
        self._small[name] = obj
        try:
            with self._lock:
                write_json_atomic(self.run_dir / name, obj)
        except OSError as e:
            self._io_failed(name, e)
            return False
        self._failing = False
        return True

    def mark_summary_dirty(self) -> None:
        """Ask the background thread to write the summary at its next tick."""
        self._dirty_summary = True

    def touch_heartbeat(self) -> None:
        path = self.run_dir / layout.HEARTBEAT
        try:
            with open(path, "a"):
                pass
            os.utime(path)
        except OSError:
            pass

    # -- files -----------------------------------------------------------

    def copy_in(self, src: Path, rel: Path) -> Path | None:
        """Copy ``src`` to ``files/<rel>``; refuse any destination outside ``files/``."""
        files = (self.run_dir / layout.FILES_DIR).resolve()
        dest = files / rel
        if rel.is_absolute() or ".." in rel.parts:
            self._warn(f"save: refusing {str(rel)!r}: it would land outside the run's files")
            return None
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            # Resolve after mkdir so that a symlinked folder or file that
            # points out of the run is caught too.
            real = Path(os.path.realpath(dest))
            if real != files and files not in real.parents:
                self._warn(f"save: refusing {str(rel)!r}: it would land outside the run's files")
                return None
            if src.resolve() == real:
                return dest
            write_atomic(real, copy_from=src)
        except OSError as e:
            self._io_failed(f"copy of {str(src)!r}", e)
            return None
        return dest

    # -- lifecycle -------------------------------------------------------

    def _background(self) -> None:
        interval = min(layout.HEARTBEAT_S, layout.SUMMARY_INTERVAL_S, layout.FSYNC_INTERVAL_S)
        while not self._stop.wait(interval):
            self.tick()

    def tick(self) -> None:
        """One round of the background duties (also callable directly, e.g. from tests)."""
        self._check_removed()
        self.touch_heartbeat()
        self.sync()
        if self._dirty_summary and self._summary_source is not None:
            self._dirty_summary = False
            self.write_small(layout.SUMMARY, self._summary_source())

    def _check_removed(self) -> None:
        """Recreate the run directory if someone removed it under us."""
        try:
            if os.fstat(self._fd).st_nlink > 0:
                return
        except OSError:
            return
        self._warn(f"the run directory {str(self.run_dir)!r} was removed; recreating it")
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / layout.FILES_DIR).mkdir(exist_ok=True)
            old, self._fd = self._fd, self._open_history()
            with contextlib.suppress(OSError):
                os.close(old)
        except OSError as e:
            self._warn(f"could not recreate the run directory ({e.strerror or e})")
            return
        for name, obj in self._small.items():
            self.write_small(name, obj)

    def close(self) -> None:
        """Stop the background thread, sync, and close the history."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._dirty_sync = True
        self.sync()
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _io_failed(self, what: str, e: OSError) -> None:
        """Say once that ``what`` could not be written, until a write succeeds again."""
        if self._failing:
            self._quiet_failures += 1
            return
        self._failing = True
        self._warn(
            f"cannot write this run's {what} to {str(self.run_dir)!r} ({e.strerror or e}); "
            "training goes on without them (said once, until writing works again)"
        )

    def _warn(self, msg: str) -> None:
        self._warnings += 1
        if self._warnings <= MAX_WARNINGS:
            suffix = " (further warnings suppressed)" if self._warnings == MAX_WARNINGS else ""
            with contextlib.suppress(Exception):
                self._warn_fn(f"trackui: warning: {msg}{suffix}")

    @property
    def warning_count(self) -> int:
        return self._warnings
