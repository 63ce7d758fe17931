"""LatestOnly: one request running, the newest waiting one goes next, older answers are stale."""

from __future__ import annotations

from trackui.tui.latest import LatestOnly


def test_one_runs_the_newest_waits_and_goes_when_it_ends() -> None:
    started: list[str] = []
    latest: LatestOnly[str] = LatestOnly(started.append)
    assert not latest.busy and latest.wanted is None
    latest.ask("a")
    assert started == ["a"] and latest.running and not latest.waiting
    latest.ask("b")
    latest.ask("c")  # replaces "b", which never runs
    assert started == ["a"] and latest.busy and latest.waiting
    assert latest.is_stale("a") and latest.is_stale("b") and not latest.is_stale("c")
    assert latest.finished() is True  # "c" started
    assert started == ["a", "c"] and latest.running and not latest.waiting
    assert latest.finished() is False  # idle now
    assert not latest.busy and started == ["a", "c"]
    assert not latest.is_stale("c") and latest.wanted == "c"


def test_asking_while_idle_starts_at_once() -> None:
    started: list[int] = []
    latest: LatestOnly[int] = LatestOnly(started.append)
    assert not latest.is_stale(1)  # nothing asked yet: no answer is stale
    for i in range(3):
        latest.ask(i)
        assert latest.finished() is False
    assert started == [0, 1, 2] and not latest.busy
