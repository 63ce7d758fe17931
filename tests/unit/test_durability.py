"""Crash safety: SIGKILL, torn tails, full disks, removed directories, process exit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import trackui
from trackui.store import layout, reader
from trackui.store.writer import RunWriter

WRITER = textwrap.dedent(
    """
    import os, sys, time
    import trackui
    run = trackui.init(dir=sys.argv[1], name="victim")
    print(run.run_dir, flush=True)
    i = 0
    while True:
        run.log({"loss": 1.0 / (i + 1), "acc": i * 1e-3, "text": "x" * (i % 7)}, commit=(i % 3 != 1))
        # Acknowledge only after log() returned.
        os.write(1, f"{i}\\n".encode())
        i += 1
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, env=env)


@pytest.mark.parametrize("seed", range(12))
def test_sigkill_loses_no_acknowledged_log(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    proc = _spawn(WRITER, str(root))
    assert proc.stdout is not None
    run_dir = Path(proc.stdout.readline().decode().strip())
    time.sleep(rng.uniform(0.05, 0.6))
    proc.send_signal(signal.SIGKILL)
    acked = [int(line) for line in proc.stdout.read().decode().split()]
    proc.wait()
    assert acked, "the writer never logged"
    records, offset, warnings = reader.read_records(run_dir)
    assert warnings == []
    logged = [r for r in records]
    # Every acknowledged call is there, in order, with its values.
    assert len(logged) >= len(acked)
    for i in acked:
        assert logged[i].metrics["loss"] == pytest.approx(1.0 / (i + 1))
    info = reader.read_run(run_dir)
    assert info is not None and info.state == "crashed"
    assert offset <= (run_dir / layout.HISTORY).stat().st_size


def test_exception_marks_failed_and_normal_exit_finished(root: Path) -> None:
    failing = "import sys, trackui; trackui.init(dir=sys.argv[1], name='f'); trackui.log({'a': 1}); raise SystemError('boom')"
    clean = "import sys, trackui; trackui.init(dir=sys.argv[1], name='ok'); trackui.log({'a': 1})"
    for script in (failing, clean):
        proc = _spawn(script, str(root))
        proc.communicate()
    states = {
        r.meta["name"]: (r.state, r.meta["exit_code"])
        for r in map(reader.read_run, reader.list_run_dirs(root))
    }
    assert states == {"f": ("failed", 1), "ok": ("finished", 0)}


def _history_with(lines: list[bytes], path: Path) -> Path:
    run_dir = path
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / layout.HISTORY).write_bytes(b"".join(lines))
    return run_dir


def test_torn_tail_of_every_length(tmp_path: Path) -> None:
    full = [b'{"s":%d,"t":1.0,"m":{"loss":%d.5}}\n' % (i, i) for i in range(3)]
    last = full[-1]
    for cut in range(1, len(last)):
        run_dir = _history_with([*full[:-1], last[:cut]], tmp_path / f"r{cut}")
        records, offset, warnings = reader.read_records(run_dir)
        assert [r.step for r in records] == [0, 1], cut
        assert warnings == []
        assert offset == len(full[0]) + len(full[1])
        # The writer finishes the line later: the reader picks it up from its offset.
        with open(run_dir / layout.HISTORY, "ab") as f:
            f.write(last[cut:])
        more, offset2, warnings = reader.read_records(run_dir, offset)
        assert [r.step for r in more] == [2] and warnings == []
        assert offset2 == sum(map(len, full))


def test_torn_record_never_glues_to_the_next(tmp_path: Path) -> None:
    run_dir = _history_with(
        [b'{"s":0,"t":1,"m":{"a":1}}\n', b'{"s":1,"t":1,"m":{"a'], tmp_path / "r"
    )
    writer = RunWriter(run_dir, background=False)
    writer.append(b'{"s":2,"t":1,"m":{"a":3}}\n')
    writer.close()
    records, _, warnings = reader.read_records(run_dir)
    assert [r.step for r in records] == [0, 2]
    assert len(warnings) == 1 and "damaged record at byte 26" in warnings[0]


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff\xfe not utf8\n",
        b"[1, 2]\n",
        b'{"s": -1, "m": {}}\n',
        b'{"s": 1}\n',
        b'{"s": 1, "m": {"a": "text"}}\n',
        b'{"s": "1", "m": {}}\n',
        b"\x00\x00\x00\n",
    ],
)
def test_damaged_lines_are_skipped_with_a_warning(tmp_path: Path, garbage: bytes) -> None:
    run_dir = _history_with(
        [b'{"s":0,"t":1,"m":{"a":1}}\n', garbage, b'{"s":1,"t":1,"m":{"a":2}}\n'], tmp_path / "r"
    )
    records, _, warnings = reader.read_records(run_dir)
    assert [r.step for r in records] == [0, 1]
    assert len(warnings) == 1 and "damaged record" in warnings[0]


def test_damaged_small_files_are_warnings(root: Path) -> None:
    run = trackui.init(dir=root, config={"a": 1})
    run.finish()
    (run.run_dir / layout.CONFIG).write_bytes(b'{"a": 1')
    (run.run_dir / layout.SUMMARY).write_bytes(b"\xff")
    info = reader.read_run(run.run_dir)
    assert info is not None and info.config == {} and info.summary == {}
    assert len(info.warnings) == 2 and all("damaged" in w for w in info.warnings)
    (run.run_dir / layout.META).write_text("not json")
    assert reader.read_run(run.run_dir) is None


def test_small_files_are_read_whole(tmp_path: Path) -> None:
    # Larger than one read, empty, and a file whose size says nothing (/proc).
    big = tmp_path / "big.json"
    big.write_bytes(b'{"k": "' + b"x" * 300_000 + b'"}')
    assert reader.read_small(big) == big.read_bytes()
    assert reader.read_json_object(str(big), []) == {"k": "x" * 300_000}
    (tmp_path / "empty").write_bytes(b"")
    assert reader.read_small(tmp_path / "empty") == b""
    status = Path("/proc/self/status")
    if status.exists():
        assert reader.read_small(status).startswith(b"Name:")
        assert len(reader.read_small(status)) > 100


def test_unreadable_small_files_are_warnings(root: Path) -> None:
    run = trackui.init(dir=root, config={"a": 1})
    run.finish()
    (run.run_dir / layout.CONFIG).unlink()
    (run.run_dir / layout.CONFIG).mkdir()
    info = reader.read_run(run.run_dir)
    assert info is not None and info.config == {}
    assert info.warnings == ("config.json: unreadable (Is a directory)",)


@pytest.fixture
def tiny_disk(tmp_path: Path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mnt)],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot mount a small tmpfs here ({e})")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_never_raises_and_resumes_cleanly(
    tiny_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = trackui.init(dir=tiny_disk / "runs")
    filler = tiny_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    for i in range(200):
        run.log({"loss": float(i), "pad": "p" * 50})  # must not raise
    err = capsys.readouterr().err
    assert 1 <= err.count("trackui: warning") <= 5
    filler.unlink()  # room again
    for i in range(200, 210):
        run.log({"loss": float(i)})
    run.finish()
    records, _, warnings = reader.read_records(run.run_dir)
    steps = [r.step for r in records]
    assert steps[-10:] == list(range(200, 210))
    assert len(warnings) <= 1  # at most the one torn record, skipped
    assert reader.read_run(run.run_dir).state == "finished"


def test_removed_directory_is_recreated(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    run = trackui.init(dir=root, config={"lr": 1})
    run.log({"a": 1})
    shutil.rmtree(run.run_dir)
    run.log({"a": 2})  # lands in the unlinked file: the directory is gone
    run._writer.tick()  # the background thread notices and recreates it
    run.log({"a": 3})
    run.finish()
    assert "was removed; recreating" in capsys.readouterr().err
    info = reader.read_run(run.run_dir)
    assert info is not None and info.config == {"lr": 1} and info.state == "finished"
    assert [r.metrics["a"] for r in reader.read_records(run.run_dir)[0]] == [3]


def test_crashed_on_other_host_uses_heartbeat(root: Path) -> None:
    from trackui.store.liveness import derive_state

    run = trackui.init(dir=root)
    run.finish()
    meta = {**reader.read_run(run.run_dir).meta, "state": "running", "host": "elsewhere"}
    now = time.time()
    os.utime(run.run_dir / layout.HEARTBEAT, (now - 10, now - 10))
    assert derive_state(meta, run.run_dir, now=now) == "running"
    os.utime(run.run_dir / layout.HEARTBEAT, (now - layout.STALE_HEARTBEAT_S - 1,) * 2)
    assert derive_state(meta, run.run_dir, now=now) == "crashed"


def test_live_writer_is_running_and_a_reused_pid_is_not(root: Path) -> None:
    from trackui.store.liveness import derive_state, process_start_time

    run = trackui.init(dir=root)
    meta = reader.read_run(run.run_dir).meta
    # Looked at long after it started, the live writer is still running.
    assert derive_state({**meta, "start_time": meta["start_time"] + 0}, run.run_dir) == "running"
    started = process_start_time(os.getpid())
    assert started is not None and started <= meta["start_time"]
    # A run recorded as started long before this process: its pid was reused.
    old = {**meta, "start_time": started - 3600}
    assert derive_state(old, run.run_dir) == "crashed"
    # A resumed run counts from when it was reopened.
    assert derive_state({**old, "resumed_time": meta["start_time"]}, run.run_dir) == "running"
    run.finish()


def test_resumed_run_of_a_live_process_is_running(root: Path) -> None:
    run = trackui.init(dir=root, id="r1")
    run.finish()
    meta_path = run.run_dir / layout.META
    import json

    meta = json.loads(meta_path.read_text())
    meta["start_time"] -= 3600 * 24  # created a day ago by another process
    meta_path.write_text(json.dumps(meta))
    again = trackui.init(dir=root, id="r1", resume="allow")
    assert reader.read_run(again.run_dir).state == "running"
    again.finish()
