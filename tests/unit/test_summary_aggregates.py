"""The summary's aggregates (min, max, mean, first, last, best) against NumPy.

Random logs of several metrics, declared by exact name and by glob, with one
aggregate or several, are fed to ``Aggregates`` as ``log()`` feeds it; the
summary it writes is compared with NumPy over the values each metric got.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from trackui.metrics_spec import (
    SUMMARY_KINDS,
    Aggregates,
    declaration,
    parse_goal,
    parse_summary,
)

NAMES = ("loss", "val/acc", "val/loss", "lr", "epoch")


def reference(kind: str, values: list[float], goal: str | None, last: Any) -> Any:
    a = np.array(values, dtype=np.float64)
    if kind == "best":
        kind = "max" if goal == "maximize" else "min"
    return {
        "min": lambda: float(np.min(a)),
        "max": lambda: float(np.max(a)),
        # By a quarter of each value: the sum of values near the largest
        # double overflows, the mean does not.
        "mean": lambda: float(np.mean(a / 4.0)) * 4.0,
        "first": lambda: float(a[0]),
        "last": lambda: last,
    }[kind]()


def declared_kinds(decls: list[tuple[str, tuple[str, ...], str | None]], name: str) -> list[str]:
    """The union of every declaration that names ``name`` (exactly or by glob), in order."""
    import fnmatch

    exact = [k for p, ks, _ in decls if p == name for k in ks]
    globbed = [k for p, ks, _ in decls if p != name and fnmatch.fnmatchcase(name, p) for k in ks]
    out: list[str] = []
    for k in (exact or []) + (globbed if not exact else []):
        if k not in out:
            out.append(k)
    return out


def goal_of(decls: list[tuple[str, tuple[str, ...], str | None]], name: str) -> str | None:
    import fnmatch

    goals: dict[str, str] = {}  # a pattern's latest goal
    for p, _, g in decls:
        if g is not None:
            goals[p] = g
    if name in goals:
        return goals[name]
    return next((g for p, g in goals.items() if fnmatch.fnmatchcase(name, p)), None)


@pytest.mark.parametrize("seed", range(40))
def test_aggregates_agree_with_numpy(seed: int) -> None:
    rnd = random.Random(seed)
    decls: list[tuple[str, tuple[str, ...], str | None]] = []
    for _ in range(rnd.randint(1, 4)):
        pattern = rnd.choice([*NAMES, "val/*", "l*"])
        kinds = tuple(
            rnd.sample(["min", "max", "mean", "first", "last", "best"], rnd.randint(1, 3))
        )
        goal = rnd.choice([None, "minimize", "maximize"])
        decls.append((pattern, kinds, goal))
    exact_names = {p for p, _, _ in decls if "*" not in p}
    # A name declared exactly is not also matched by a glob here (the product
    # resolves a glob once per name: its own rule, tested in test_wandb_metrics).
    decls = [d for d in decls if "*" not in d[0] or not any(
        __import__("fnmatch").fnmatchcase(n, d[0]) for n in exact_names)]  # fmt: skip
    agg = Aggregates()
    for pattern, kinds, goal in decls:
        agg.define(pattern, kinds, goal)
    seen: dict[str, list[float]] = {}
    last: dict[str, Any] = {}
    scale = rnd.choice([1.0, 1e-300, 1e300, 1e308])
    for _ in range(rnd.randint(1, 30)):
        m: dict[str, Any] = {}
        for name in rnd.sample(NAMES, rnd.randint(1, len(NAMES))):
            v: Any = rnd.choice([rnd.uniform(-1, 1) * scale, rnd.randint(-5, 5), True, "text"])
            m[name] = v
            if not isinstance(v, str):
                seen.setdefault(name, []).append(float(v))
            last[name] = v
        agg.observe(m)
    out = dict(last)
    agg.apply(out)
    for name in NAMES:
        kinds = declared_kinds(decls, name)
        if name not in seen or not kinds:
            if name in last:
                assert out[name] == last[name]
            continue
        goal = goal_of(decls, name)
        want = {k: reference(k, seen[name], goal, last[name]) for k in kinds}
        if len(kinds) == 1:
            got = {kinds[0]: out[name]}
        else:
            got = {k: out[f"{name}.{k}"] for k in kinds}
            assert out[name] == last[name]
        size = max(abs(v) for v in seen[name])
        for k in kinds:
            if k == "mean":
                assert got[k] == pytest.approx(want[k], rel=1e-9, abs=1e-12 * size), (name, k)
            else:
                assert got[k] == want[k], (name, k, decls)


def test_mean_of_values_near_the_largest_double_does_not_overflow() -> None:
    agg = Aggregates()
    agg.define("x", ("mean",), None)
    values = [1.7e308, 1.6e308, 1.5e308]
    for v in values:
        agg.observe({"x": v})
    out = {"x": values[-1]}
    agg.apply(out)
    assert out["x"] == pytest.approx(1.6e308, rel=1e-12)


def test_none_leaves_the_metric_out_and_others_stay() -> None:
    agg = Aggregates()
    agg.define("a", ("none",), None)
    agg.observe({"a": 1.0, "b": 2.0})
    out = {"a": 1.0, "b": 2.0}
    agg.apply(out)
    assert out == {"b": 2.0}
    assert agg.active


def test_forget_drops_what_was_observed() -> None:
    agg = Aggregates()
    agg.define("a", ("min",), None)
    agg.observe({"a": 1.0})
    agg.forget("a")
    agg.observe({"a": 5.0})
    out = {"a": 5.0}
    agg.apply(out)
    assert out == {"a": 5.0}


def test_nothing_declared_is_inactive() -> None:
    agg = Aggregates()
    agg.define("a", (), "maximize")
    assert not agg.active
    agg.observe({"a": 1.0})
    out = {"a": 1.0}
    agg.apply(out)
    assert out == {"a": 1.0}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (None, ()),
        ("min", ("min",)),
        (" MIN , max ,", ("min", "max")),
        ("best,none", ("best", "none")),
        ("", ()),
    ],
)
def test_parse_summary(text: str | None, want: tuple[str, ...]) -> None:
    assert parse_summary(text) == want


@pytest.mark.parametrize("text", ["avg", "min,avg", "min max"])
def test_parse_summary_refuses(text: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_summary(text)
    assert str(e.value) == (
        f"define_metric: summary must be one of {', '.join(SUMMARY_KINDS)} "
        f"(or several, comma-separated), not {text!r}"
    )


@pytest.mark.parametrize(
    ("goal", "want"),
    [(None, None), ("min", "minimize"), ("MAX", "maximize"), ("Minimize", "minimize")],
)
def test_parse_goal(goal: str | None, want: str | None) -> None:
    assert parse_goal(goal) == want


def test_parse_goal_refuses() -> None:
    with pytest.raises(ValueError) as e:
        parse_goal("up")
    assert str(e.value) == "define_metric: goal must be minimize or maximize, not 'up'"


def test_declaration_adds_up() -> None:
    first = declaration(
        None, step_metric=None, kinds=("min",), goal=None, hidden=None, step_sync=None
    )
    assert first == {"summary": "min"}
    second = declaration(
        first, step_metric="epoch", kinds=("max", "min"), goal="maximize", hidden=True,
        step_sync=False,
    )  # fmt: skip
    assert second == {
        "summary": "min,max",
        "step_metric": "epoch",
        "goal": "maximize",
        "hidden": True,
        "step_sync": False,
    }
    assert first == {"summary": "min"}
    assert declaration(second, step_metric=None, kinds=(), goal=None, hidden=None,
                       step_sync=None) == second  # fmt: skip


@pytest.mark.parametrize("order", ["glob-exact", "exact-glob", "glob-log-exact"])
def test_an_exact_declaration_applies_before_a_glob(order: str) -> None:
    # docs/format.md: an exact name's entry applies before a glob's, whichever
    # came first, and whether the name was logged under the glob already.
    glob = ("val/*", ("max",), None)
    exact = [("val/acc", ("min",), None), ("val/X", ("first",), None)]
    first = {"val/acc": 2.0, "val/X": 2.0, "val/loss": 2.0}
    last = {"val/acc": 1.0, "val/X": 1.0, "val/loss": 3.0}
    agg = Aggregates()
    if order == "exact-glob":
        for d in [*exact, glob]:
            agg.define(*d)
        agg.observe(first)
    else:
        agg.define(*glob)
        if order == "glob-log-exact":
            agg.observe(first)
        for d in exact:
            agg.define(*d)
        if order == "glob-exact":
            agg.observe(first)
    agg.observe(last)
    out = dict(last)
    agg.apply(out)
    assert out == {"val/acc": 1.0, "val/X": 2.0, "val/loss": 3.0}


def test_a_glob_declared_again_changes_only_itself() -> None:
    decls = [("l*", ("max",), None), ("val/*", ("min",), None), ("val/*", ("mean",), None)]
    agg = Aggregates()
    for d in decls:
        agg.define(*d)
    for v in (1.0, 3.0):
        agg.observe({"lr": v, "val/a": v})
    out = {"lr": 3.0, "val/a": 3.0}
    agg.apply(out)
    assert out == {"lr": 3.0, "val/a.min": 1.0, "val/a.mean": 2.0, "val/a": 3.0}


def test_an_exact_goal_applies_before_a_globs() -> None:
    agg = Aggregates()
    agg.define("val/*", (), "maximize")
    agg.define("val/loss", ("best",), "minimize")
    agg.define("val/acc", ("best",), None)
    for v in (2.0, 1.0, 3.0):
        agg.observe({"val/loss": v, "val/acc": v})
    out = {"val/loss": 3.0, "val/acc": 3.0}
    agg.apply(out)
    assert out == {"val/loss": 1.0, "val/acc": 3.0}


def test_none_on_one_metric_leaves_the_others_aggregated() -> None:
    agg = Aggregates()
    agg.define("a", ("none",), None)
    agg.define("b", ("min",), None)
    agg.observe({"a": 1.0, "b": 2.0})
    agg.observe({"a": 1.0, "b": 5.0})
    out = {"a": 1.0, "b": 5.0}
    agg.apply(out)
    assert out == {"b": 2.0}


def test_declarations_that_add_up_keep_each_aggregate_once() -> None:
    entry = declaration(
        {"summary": "min,max"}, step_metric=None, kinds=("max", "first"), goal=None,
        hidden=None, step_sync=None,
    )  # fmt: skip
    assert entry == {"summary": "min,max,first"}
