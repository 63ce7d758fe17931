"""The tick chooser: round ticks that fit, short labels, durations and clock times."""

from __future__ import annotations

import datetime as dt

import pytest

from trackui.tui.widgets.ticks import (
    clock_ticks,
    duration_label,
    duration_ticks,
    linear_ticks,
    log_ticks,
    nice_step,
    number_label,
)

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "lo,hi,room,integer,labels",
    [
        # Steps 0..1999: round thousands, not "20.0 514.8 1009.5".
        (0, 1999, 5, True, ["0", "500", "1k", "1.5k"]),
        (1, 119, 5, True, ["20", "40", "60", "80", "100"]),
        # Eight steps: whole numbers, never 1.8 or 3.5.
        (0, 7, 5, True, ["0", "2", "4", "6"]),
        (0, 3, 8, True, ["0", "1", "2", "3"]),
        # A loss: round values inside the data's range.
        (0.06, 3.47, 5, False, ["1", "2", "3"]),
        (0.06, 3.47, 8, False, ["0.5", "1", "1.5", "2", "2.5", "3"]),
        (0.8382, 0.869, 4, False, ["0.84", "0.85", "0.86"]),
        # Throughput: SI suffixes.
        (20, 51965.7, 5, False, ["10k", "20k", "30k", "40k", "50k"]),
        (0, 2e6, 5, False, ["0", "500k", "1M", "1.5M", "2M"]),
        (1e9, 4e9, 4, False, ["1G", "2G", "3G", "4G"]),
        # Tiny: exponents.
        (0, 3e-6, 4, False, ["0", "1e-6", "2e-6", "3e-6"]),
        (1.2e-5, 1.9e-5, 4, False, ["1.2e-5", "1.4e-5", "1.6e-5", "1.8e-5"]),
        # Huge: beyond the suffixes.
        (1e20, 5e20, 4, False, ["2e20", "4e20"]),
        # Negative.
        (-1.5, -0.2, 5, False, ["-1.5", "-1", "-0.5"]),
        (-250, 250, 5, False, ["-200", "-100", "0", "100", "200"]),
        # A single value: one tick.
        (5, 5, 5, False, ["5"]),
        (0.25, 0.25, 5, False, ["0.25"]),
    ],
)
def test_linear_ticks(lo, hi, room, integer, labels) -> None:
    t = linear_ticks(lo, hi, room, integer=integer)
    assert list(t.labels) == labels
    assert len(t.values) <= max(room, 1)
    assert all(lo - 1e-9 <= v <= hi + 1e-9 for v in t.values)


@pytest.mark.parametrize("span", [1e-9, 0.003, 7, 512, 1e5, 3e12])
@pytest.mark.parametrize("room", [1, 2, 3, 5, 9])
def test_steps_are_one_two_or_five_times_a_power_of_ten(span, room) -> None:
    step = nice_step(0.0, span, room)
    mantissa = step / 10 ** round(__import__("math").floor(__import__("math").log10(step)))
    assert round(mantissa, 6) in (1.0, 2.0, 5.0)
    assert len(linear_ticks(0.0, span, room).values) <= room


def test_integer_axes_never_step_by_a_fraction() -> None:
    for hi in range(1, 40):
        t = linear_ticks(0, hi, 9, integer=True)
        assert all(v == int(v) for v in t.values), (hi, t)


@pytest.mark.parametrize(
    "value,label",
    [(0, "0"), (1500, "1.5k"), (2e6, "2M"), (-3000, "-3k"), (3e-6, "3e-6"), (0.5, "0.5")],
)
def test_number_labels(value, label) -> None:
    assert number_label(value, abs(value) / 10 or 1) == label


def test_log_ticks_are_powers_of_ten() -> None:
    assert list(log_ticks(0.001, 100, 6).labels) == ["0.001", "0.01", "0.1", "1", "10", "100"]
    assert list(log_ticks(0.001, 100, 3).labels) == ["0.01", "1", "100"]
    assert list(log_ticks(1, 1e6, 4).labels) == ["1", "100", "10k", "1M"]
    assert list(log_ticks(1e-300, 1e300, 6).labels) == ["1e-200", "1", "1e200"]
    # No power of ten inside: round linear ticks.
    assert list(log_ticks(2, 8, 4).labels) == ["2", "4", "6", "8"]


@pytest.mark.parametrize(
    "lo,hi,room,labels",
    [
        (0, 100, 5, ["0s", "30s", "1m", "1m30s"]),
        (0, 3900, 5, ["0s", "15m", "30m", "45m", "1h"]),
        (0, 4 * 3600, 4, ["0s", "2h", "4h"]),
        (0, 3 * 86400, 4, ["0s", "1d", "2d", "3d"]),
        (0, 0.8, 5, ["0s", "0.2s", "0.4s", "0.6s", "0.8s"]),
        (12, 12, 3, ["12s"]),
    ],
)
def test_durations(lo, hi, room, labels) -> None:
    assert list(duration_ticks(lo, hi, room).labels) == labels


def test_duration_labels() -> None:
    assert [duration_label(s) for s in (0, 30, 300, 3900, 7200, 86400 + 43200)] == [
        "0s",
        "30s",
        "5m",
        "1h05m",
        "2h",
        "1d12h",
    ]


T0 = dt.datetime(2026, 12, 7, 14, 3, 20, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "span,room,labels",
    [
        (40, 5, ["14:03:20", "14:03:30", "14:03:40", "14:03:50", "14:04:00"]),
        (3600, 5, ["14:15", "14:30", "14:45", "15:00"]),
        (9 * 86400, 5, ["12-09", "12-11", "12-13", "12-15"]),
        (400 * 86400, 4, ["2027-02", "2027-07", "2027-11"]),
    ],
)
def test_wall_clock_ticks(span, room, labels) -> None:
    t = clock_ticks(T0, T0 + span, room, UTC)
    assert list(t.labels) == labels
    assert all(T0 <= v <= T0 + span for v in t.values)
