"""A run's console output tail and its saved files, read from real run directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trackui.store.reader import list_files, output_tail


def test_output_tail_keeps_what_a_terminal_shows_last(tmp_path: Path) -> None:
    (tmp_path / "output.log").write_bytes(b"a\x1b[31mred\nbar 10%\rbar 50%\rbar 100%\r\n\xff\n")
    # Carriage returns resolved; control characters left to the caller; bad bytes replaced.
    assert output_tail(tmp_path) == ["a\x1b[31mred", "bar 100%", "\ufffd", ""]


def test_output_tail_of_a_run_without_output_is_empty(tmp_path: Path) -> None:
    assert output_tail(tmp_path) == []
    assert output_tail(tmp_path / "missing") == []


def test_output_tail_reads_the_end_only_and_drops_the_cut_line(tmp_path: Path) -> None:
    lines = [f"line {i:04d}" for i in range(2000)]
    (tmp_path / "output.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tail = output_tail(tmp_path, max_bytes=100)
    # 100 bytes hold 9 whole lines of 10 bytes and the start of a cut one.
    assert tail == [*lines[-9:], ""]
    assert output_tail(tmp_path, max_lines=3) == [*lines[-2:], ""]
    assert output_tail(tmp_path, max_bytes=10**9) == [*lines[-999:], ""]


def test_list_files_sorted_with_sizes_and_capped(tmp_path: Path) -> None:
    files = tmp_path / "files"
    (files / "plots").mkdir(parents=True)
    (files / "model.pt").write_bytes(b"x" * 2048)
    (files / "plots" / "curve.txt").write_text("1 2 3\n", encoding="utf-8")
    (files / "a.txt").write_text("", encoding="utf-8")
    assert list_files(tmp_path) == (
        ("a.txt", 0),
        ("model.pt", 2048),
        (os.path.join("plots", "curve.txt"), 6),
    )
    assert list_files(tmp_path, max_files=2) == (("a.txt", 0), ("model.pt", 2048))


def test_list_files_of_a_run_without_files_is_empty(tmp_path: Path) -> None:
    assert list_files(tmp_path) == ()


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_list_files_does_not_follow_symlinks_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s" * 100, encoding="utf-8")
    run = tmp_path / "run"
    (run / "files").mkdir(parents=True)
    (run / "files" / "link").symlink_to(outside, target_is_directory=True)
    (run / "files" / "file-link").symlink_to(outside / "secret.txt")
    # The linked directory is not walked into; the linked file has the link's own size.
    assert list_files(run) == (("file-link", (run / "files" / "file-link").lstat().st_size),)
