"""RootWatcher with real watchdog (inotify) and in polling mode, on real file writes."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from trackui.store.watch import RootWatcher


class Recorder:
    """Collects on_change calls; lets a test wait for a condition."""

    def __init__(self) -> None:
        self.calls: list[set[Path]] = []
        self.errors: list[BaseException] = []
        self.cv = threading.Condition()

    def on_change(self, dirs: set[Path]) -> None:
        with self.cv:
            self.calls.append(set(dirs))
            self.cv.notify_all()

    def on_error(self, e: BaseException) -> None:
        self.errors.append(e)

    def seen(self) -> set[Path]:
        with self.cv:
            return set().union(*self.calls) if self.calls else set()

    def wait_for(self, path: Path, timeout: float = 5.0) -> float:
        start = time.monotonic()
        with self.cv:
            while path not in (set().union(*self.calls) if self.calls else set()):
                left = timeout - (time.monotonic() - start)
                if left <= 0:
                    raise AssertionError(
                        f"no change reported for {path.name} in {timeout} s: {self.calls}"
                    )
                self.cv.wait(left)
        return time.monotonic() - start

    def clear(self) -> None:
        with self.cv:
            self.calls.clear()


def make_run(root: Path, rid: str) -> Path:
    d = root / f"run-20231114_221320-{rid}"
    d.mkdir()
    (d / "meta.json").write_text("{}")
    return d


@pytest.fixture(params=["inotify", "polling"])
def watched(request: pytest.FixtureRequest, root: Path):
    rec = Recorder()
    w = RootWatcher(
        root, rec.on_change, rec.on_error, poll=request.param == "polling", rescan_s=0.3
    )
    w.start()
    yield w, rec
    w.stop()


def test_new_run_and_appends_are_reported(watched, root: Path) -> None:
    w, rec = watched
    d = make_run(root, "aaa")
    assert rec.wait_for(d) < 2.0
    rec.clear()
    with open(d / "history.jsonl", "ab") as f:
        f.write(b'{"s":0,"t":1,"m":{"a":1}}\n')
    assert rec.wait_for(d) < 2.0
    assert not rec.errors
    assert w.mode == ("polling" if w._poll else "inotify")


def test_vanished_run_is_reported(watched, root: Path) -> None:
    _w, rec = watched
    d = make_run(root, "gone")
    rec.wait_for(d)
    rec.clear()
    shutil.rmtree(d)
    rec.wait_for(d)


def test_non_run_paths_are_ignored(root: Path) -> None:
    rec = Recorder()
    w = RootWatcher(root, rec.on_change, rescan_s=60)
    w.start()
    try:
        (root / ".trackui").mkdir()
        (root / ".trackui" / "index.duckdb").write_bytes(b"x" * 100)
        (root / "notes.txt").write_text("hello")
        d = make_run(root, "real")
        rec.wait_for(d)
        assert rec.seen() == {d}
    finally:
        w.stop()


def test_bursts_are_coalesced(root: Path) -> None:
    d = make_run(root, "burst")
    rec = Recorder()
    w = RootWatcher(root, rec.on_change, rescan_s=60, debounce_s=0.2)
    w.start()
    try:
        with open(d / "history.jsonl", "ab") as f:
            for s in range(500):
                f.write(b'{"s":%d,"t":1,"m":{"a":1}}\n' % s)
                f.flush()
        rec.wait_for(d)
        time.sleep(0.5)
        # 500 writes (each an inotify event) arrive as a handful of calls.
        assert 1 <= len(rec.calls) <= 5
    finally:
        w.stop()


def test_root_renamed_and_recreated(root: Path, tmp_path: Path) -> None:
    rec = Recorder()
    w = RootWatcher(root, rec.on_change, rescan_s=0.2)
    w.start()
    try:
        make_run(root, "old")
        os.rename(root, tmp_path / "moved")
        root.mkdir()
        time.sleep(0.5)  # the rescan notices the new directory and re-arms inotify
        rec.clear()
        d = make_run(root, "new")
        rec.wait_for(d)
        rec.clear()
        with open(d / "history.jsonl", "ab") as f:
            f.write(b"{}\n")
        rec.wait_for(d)
    finally:
        w.stop()


def test_root_that_does_not_exist_yet(tmp_path: Path) -> None:
    root = tmp_path / "later"
    rec = Recorder()
    w = RootWatcher(root, rec.on_change, rescan_s=0.2)
    w.start()
    try:
        root.mkdir()
        d = make_run(root, "first")
        rec.wait_for(d)
    finally:
        w.stop()


def test_errors_in_callback_go_to_on_error_and_watching_goes_on(root: Path) -> None:
    errors: list[BaseException] = []
    calls: list[set[Path]] = []

    def boom(dirs: set[Path]) -> None:
        calls.append(dirs)
        raise RuntimeError("callback failed")

    w = RootWatcher(root, boom, errors.append, rescan_s=0.2)
    w.start()
    try:
        make_run(root, "e1")
        deadline = time.time() + 5
        while not errors and time.time() < deadline:
            time.sleep(0.02)
        make_run(root, "e2")
        while len(calls) < 2 and time.time() < deadline:
            time.sleep(0.02)
    finally:
        w.stop()
    assert errors and str(errors[0]) == "callback failed"
    assert len(calls) >= 2


def test_stop_joins_and_no_calls_after(root: Path) -> None:
    rec = Recorder()
    w = RootWatcher(root, rec.on_change, rescan_s=0.1)
    w.start()
    w.stop()
    assert w._thread is None
    n = len(rec.calls)
    make_run(root, "after")
    time.sleep(0.4)
    assert len(rec.calls) == n
    assert not any(t.name == "trackui-watch" for t in threading.enumerate())


def _exhaust_inotify() -> list[int]:
    """Open inotify instances until the kernel refuses (the per-user limit)."""
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fds: list[int] = []
    for _ in range(100_000):
        fd = libc.inotify_init1(os.O_CLOEXEC)
        if fd < 0:
            break
        fds.append(fd)
    return fds


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="Linux inotify only")
def test_inotify_failure_falls_back_to_polling(root: Path) -> None:
    rec = Recorder()
    w = RootWatcher(root, rec.on_change, rescan_s=2.0)
    # Really run out of inotify instances, only for as long as start() takes.
    fds = _exhaust_inotify()
    try:
        w.start()
    finally:
        for fd in fds:
            os.close(fd)
    try:
        assert w.mode == "polling"
        d = make_run(root, "poll")
        assert rec.wait_for(d) < 1.5  # the polling interval is at most 0.5 s
    finally:
        w.stop()


WRITER = """
import sys, time, trackui
run = trackui.init(project="w", name="watched", dir=sys.argv[1])
print(run.id, flush=True)
for s in range(40):
    run.log({"v": float(s)})
    time.sleep(0.02)
run.finish()
"""


@pytest.mark.parametrize("poll", [False, True])
def test_watcher_drives_the_index_while_a_writer_logs(root: Path, poll: bool) -> None:
    import subprocess
    import sys

    from trackui.store.index import Index

    ix = Index(root, cache=False)
    ix.refresh()
    wake = threading.Event()
    w = RootWatcher(root, lambda dirs: wake.set(), poll=poll, rescan_s=2.0)
    w.start()
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        lags: list[float] = []
        seen = 0
        deadline = time.time() + 60
        while seen < 40 and time.time() < deadline:
            if not wake.wait(3.0):
                continue
            wake.clear()
            ix.refresh()
            try:
                _s, t, v = ix.points(run_id, "v")
            except LookupError:
                continue
            now = time.time()
            lags += [now - ti for ti in t[seen:]]
            assert v.tolist() == [float(i) for i in range(len(v))]  # in order, none twice
            seen = len(v)
        proc.wait(timeout=30)
    finally:
        w.stop()
        ix.close()
    assert seen == 40
    assert sorted(lags)[int(0.95 * (len(lags) - 1))] < 1.5  # generous: a shared CI machine


def test_appends_to_a_live_run_come_from_its_stat_and_a_quiet_run_from_the_rescan(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackui.store import watch

    monkeypatch.setattr(watch, "LIVE_S", 1.0)
    d = make_run(root, "quiet")
    rec = Recorder()
    # A rescan far away: only the live poll can see appends quickly.
    w = RootWatcher(root, rec.on_change, rescan_s=60)
    w.start()
    # Held open like a writer's file (closing it after writing is an event).
    f = open(d / "history.jsonl", "ab")  # noqa: SIM115
    try:
        f.write(b'{"s":0,"t":1,"m":{"a":1}}\n')
        f.flush()
        assert rec.wait_for(d) < 1.0
        time.sleep(1.5)  # no longer live
        assert w._live == {}
        rec.clear()
        f.write(b'{"s":1,"t":2,"m":{"a":1}}\n')
        f.flush()
        time.sleep(0.6)
        assert rec.calls == []  # no inotify event for an append, by design
    finally:
        f.close()
        w.stop()
    # The rescan (runs changed lately are stat'ed every interval) finds it.
    time.sleep(1.0)
    w = RootWatcher(root, rec.on_change, rescan_s=0.3)
    w.start()
    try:
        assert w._live == {}
        with open(d / "history.jsonl", "ab") as f:
            f.write(b'{"s":2,"t":3,"m":{"a":1}}\n')
        assert rec.wait_for(d, timeout=3.0) < 3.0
    finally:
        w.stop()
