"""The trainer's first-run failures are visible: the run starts before the data is
read, so a failure is a ``failed`` run with its error in ``output.log``; and the
trainer's own lines reach its run's ``output.log``."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from trackui.store import layout, reader  # noqa: E402
from trackui.trainer import data as mnist_data  # noqa: E402
from trackui.trainer.train import main  # noqa: E402

FAST = ["--threads", "1", "--system-every", "0.05"]


def _only_run(root: Path) -> reader.RunInfo:
    (run_dir,) = reader.list_run_dirs(root)
    info = reader.read_run(run_dir)
    assert info is not None
    return info


@pytest.fixture(autouse=True)
def _no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the network."""
    monkeypatch.setenv("TRACKUI_NO_DOWNLOAD", "1")


@pytest.fixture
def console_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKUI_CONSOLE", "wrap")


def test_damaged_data_is_a_failed_run_with_the_error_in_its_output(
    tmp_path: Path, root: Path, console_capture: None, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for stem in mnist_data.FILES:
        (broken / stem).write_bytes(b"not an idx file")
    rc = main(["--data-dir", str(broken), "--dir", str(root), *FAST])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an IDX file" in err
    info = _only_run(root)
    assert info.state == "failed"
    log = (info.path / layout.OUTPUT).read_text()
    assert "trackui train: error:" in log and "not an IDX file" in log


def test_a_failed_download_is_a_failed_run_that_says_to_use_data_dir(
    tmp_path: Path,
    root: Path,
    console_capture: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A first run on a machine without a network: downloads on, every mirror unreachable.
    monkeypatch.delenv(mnist_data.NO_DOWNLOAD_ENV, raising=False)

    def unreachable(url: str) -> bytes:
        raise OSError(f"no route to host for {url}")

    monkeypatch.setattr(mnist_data, "_urllib_fetch", unreachable)
    rc = main(["--data-dir", str(tmp_path / "cache"), "--dir", str(root), *FAST])
    assert rc == 2
    err = capsys.readouterr().err.splitlines()
    error = [line for line in err if "error" in line]
    assert len(error) == 1
    # The fix first, short: where, then --data-dir, then why.
    line = error[0]
    assert line.index("--data-dir") < line.index("missing") < line.index("download failed")
    assert len(line) - len(str(tmp_path / "cache")) < 320, line
    info = _only_run(root)
    assert info.state == "failed"
    assert "--data-dir" in (info.path / layout.OUTPUT).read_text()


def test_the_trainers_own_lines_reach_its_output_log(
    root: Path, mnist_dir: Path, console_capture: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(mnist_dir), "--dir", str(root), "--dry-run", "--epochs", "2", *FAST]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "epoch 2/2" in printed
    info = _only_run(root)
    assert info.state == "finished"
    assert info.config["train_size"] == 60000 and info.config["test_size"] == 10000
    log = (info.path / layout.OUTPUT).read_text()
    assert "epoch 1/2" in log and "epoch 2/2" in log
    assert "trackui train: done:" in log
    assert ", 2 epochs" in log


def test_one_epoch_is_said_in_the_singular(
    root: Path, mnist_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(mnist_dir), "--dir", str(root), "--dry-run", "--epochs", "1", *FAST]
    assert main(argv) == 0
    assert ", 1 epoch\n" in capsys.readouterr().out


def test_the_default_thread_count_is_one(
    root: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setattr(torch, "get_num_threads", torch.get_num_threads)  # restored after
    before = torch.get_num_threads()
    try:
        argv = ["--data-dir", str(mnist_dir), "--dir", str(root), "--dry-run", "--epochs", "1"]
        assert main(argv) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
