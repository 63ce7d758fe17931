"""The index's storage, set aside when it fails: the next open goes one step down."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pytest

from trackui.store import db


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # What is set aside here stays here: the rest of this process's tests
    # still get temporary files.
    monkeypatch.setattr(db, "_set_aside", {})
    return tmp_path


def test_storage_errors_are_told_from_bugs() -> None:
    con = duckdb.connect(":memory:")
    with pytest.raises(duckdb.Error) as syntax:
        con.execute("SELEC 1")
    assert not db.cache_unusable(syntax.value)
    assert not db.cache_unusable(ValueError("a bug"))
    assert db.cache_unusable(OSError(errno.ENOSPC, "No space left on device"))
    # A commit that failed for want of room, then the rollback in its handler.
    try:
        try:
            raise duckdb.TransactionException(
                "TransactionContext Error: Failed to commit: could not write file: No space left"
            )
        except duckdb.Error:
            raise duckdb.TransactionException(  # noqa: B904
                "TransactionContext Error: cannot rollback - no transaction is active"
            )
    except duckdb.Error as e:
        assert db.cache_unusable(e)
    with pytest.raises(duckdb.Error) as no_tx:
        con.execute("ROLLBACK")
    assert db.cache_unusable(no_tx.value)


def test_set_aside_sends_the_next_open_down_the_chain(home: Path) -> None:
    root = home / "runs"
    root.mkdir()
    first = db.open_db(root)
    assert first.kind == "root"
    second = db.reopen(first, root, OSError(errno.ENOSPC, "No space left on device"))
    assert second.kind == "user"
    assert any("given up" in n and "No space left" in n for n in second.notes)
    third = db.reopen(second, root, "full")
    assert third.kind == "temp"
    fourth = db.reopen(third, root, "full")
    assert fourth.kind == "memory"
    assert fourth.con.execute("SELECT value FROM info WHERE key = 'schema'").fetchone()
    # Only this process passes over them, and only those places: another root still
    # gets its own file.
    other = home / "other"
    other.mkdir()
    got = db.open_db(other)
    assert got.kind == "root"
    for o in (fourth, got):
        db.close_db(o)
