"""Every kind of value ``log()`` and the config accept, against what reads back from disk.

Each value is logged through the public API into a real run directory and read
back with the store's reader; what should come back is computed here from the
value itself (Python's own ``float()``, ``str()``, NumPy's ``float()``), not
from the conversion under test.
"""

from __future__ import annotations

import enum
import json
import math
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trackui
from trackui import values as values_mod
from trackui.store import layout
from trackui.store.reader import read_records


class Level(enum.IntEnum):
    HIGH = 7


class MyFloat(float):
    pass


class MyInt(int):
    pass


class MyStr(str):
    pass


def expected_number(v: Any) -> float:
    """What a number reads back as: its float, ±inf beyond the doubles, bools 0/1."""
    if isinstance(v, (bool, np.bool_)):
        return 1.0 if v else 0.0
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


NUMBERS: dict[str, Any] = {
    "int": 3,
    "neg_int": -12,
    "zero": 0,
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "past_int64": 2**63,
    "below_int64": -(2**63) - 1,
    "huge_int": 10**400,
    "huge_neg_int": -(10**400),
    "float": 0.1,
    "neg_zero": -0.0,
    "tiny": 5e-324,
    "big": 1.7976931348623157e308,
    "nan": math.nan,
    "inf": math.inf,
    "neg_inf": -math.inf,
    "true": True,
    "false": False,
    "np_float32": np.float32(0.1),
    "np_float64": np.float64(-2.5),
    "np_float16": np.float16(1.5),
    "np_int8": np.int8(-7),
    "np_uint64": np.uint64(2**64 - 1),
    "np_int64": np.int64(-(2**63)),
    "np_bool": np.bool_(True),
    "np_nan": np.float32("nan"),
    "np_inf": np.float64("-inf"),
    "np_0d": np.array(4.25),
    "np_0d_int": np.array(9, dtype=np.int16),
    "np_0d_bool": np.array(False),
    "int_enum": Level.HIGH,
    "float_sub": MyFloat(2.75),
    "float_sub_nan": MyFloat("nan"),
    "int_sub": MyInt(11),
    "int_sub_huge": MyInt(2**70),
}

TEXTS: dict[str, Any] = {"text": "warmup", "empty": "", "str_sub": MyStr("sub"), "uni": "été"}


def log_and_read(root: Path, *records: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    run = trackui.init(dir=root)
    for r in records:
        run.log(r)
    run.finish()
    got, _, warnings = read_records(run.run_dir)
    assert warnings == []
    summary = json.loads((run.run_dir / layout.SUMMARY).read_text())
    return got, summary


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (
        a == b and math.copysign(1, a) == math.copysign(1, b)
    )


@pytest.mark.parametrize("nested", [False, True])
def test_every_number_and_text_reads_back(root: Path, nested: bool) -> None:
    logged: dict[str, Any] = {**NUMBERS, **TEXTS}
    if nested:
        logged = {"outer": OrderedDict(inner=logged), 5: 1.5}
    (rec,), summary = log_and_read(root, logged)
    prefix = "outer/inner/" if nested else ""
    for name, v in NUMBERS.items():
        got = rec.metrics[prefix + name]
        assert same(got, expected_number(v)), (name, got)
    for name, v in TEXTS.items():
        assert rec.text[prefix + name] == str(v)
        assert prefix + name not in rec.metrics
    if nested:
        assert rec.metrics["5"] == 1.5
    # the summary holds the last values, non-finite spelled as the format does
    for name, v in NUMBERS.items():
        want = expected_number(v)
        got = summary[prefix + name]
        if math.isfinite(want):
            assert float(got) == want and not isinstance(got, bool), name
        else:
            assert got == ("nan" if want != want else ("inf" if want > 0 else "-inf")), name


def test_flat_fast_path_and_general_path_agree() -> None:
    flat = {**NUMBERS, **TEXTS}
    fast = values_mod.convert(flat)
    slow = values_mod.convert(flat, prefix="p/")
    assert {f"p/{k}": v for k, v in fast[0].items()}.keys() == slow[0].keys()
    for k, v in fast[0].items():
        w = slow[0][f"p/{k}"]
        assert type(v) is type(w) and (v == w or (v != v and w != w)), k
    assert {f"p/{k}": v for k, v in fast[1].items()} == slow[1]
    # exact types as stored: bools as ints, int64 ints as ints, beyond as floats
    m = fast[0]
    assert type(m["true"]) is int and m["true"] == 1
    assert type(m["int64_max"]) is int and type(m["past_int64"]) is float
    assert (m["huge_int"], m["huge_neg_int"], m["nan"]) == ("inf", "-inf", "nan")
    assert values_mod.to_float(m["nan"]) != values_mod.to_float(m["nan"])
    assert [values_mod.to_float(m[k]) for k in ("inf", "neg_inf", "int")] == [
        math.inf,
        -math.inf,
        3.0,
    ]


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ([1, 2], "a list"),
        ((1,), "a tuple"),
        (None, "a NoneType"),
        ({1, 2}, "a set"),
        (np.array([1.0, 2.0]), "a numpy.ndarray of shape (2,)"),
        (np.zeros((2, 3)), "a numpy.ndarray of shape (2, 3)"),
        (b"x", "a bytes"),
        (1 + 2j, "a complex"),
    ],
)
def test_values_that_cannot_be_logged_name_their_key(root: Path, value: Any, what: str) -> None:
    with pytest.raises(TypeError) as e:
        values_mod.convert({"ok": 1.0, "bad": {"key": value}})
    assert str(e.value) == (
        f"trackui.log: 'bad/key' is {what}; log ints, floats, bools, strings, "
        "0-d arrays or tensors, or dicts of them"
    )


def test_a_0d_array_of_text_is_refused() -> None:
    with pytest.raises(TypeError) as e:
        values_mod.convert({"s": np.array("abc")})
    assert str(e.value) == (
        "trackui.log: 's' holds a str (ndarray); log ints, floats, bools or strings"
    )


def test_a_dict_nested_too_deep_is_refused() -> None:
    d: dict[str, Any] = {"v": 1.0}
    for _ in range(values_mod.MAX_DEPTH + 1):
        d = {"k": d}
    with pytest.raises(ValueError, match="nests more than 100 levels deep"):
        values_mod.convert(d)
    ok: dict[str, Any] = {"v": 1.0}
    for _ in range(values_mod.MAX_DEPTH):
        ok = {"k": ok}
    (m, _) = values_mod.convert(ok)
    assert m == {"/".join(["k"] * values_mod.MAX_DEPTH + ["v"]): 1.0}


def test_not_a_dict_is_refused() -> None:
    with pytest.raises(TypeError) as e:
        values_mod.convert([("a", 1)])  # type: ignore[arg-type]
    assert str(e.value) == "trackui.log takes a dict, not list"


@pytest.mark.parametrize(
    ("step", "want"),
    [(0, 0), (7, 7), (np.int64(5), 5), (True, 1), (3.0, 3), ("12", 12), (2**63 - 1, 2**63 - 1)],
)
def test_steps_accepted(step: Any, want: int) -> None:
    got = values_mod.as_step(step)
    assert got == want and type(got) is int


@pytest.mark.parametrize("step", ["x", None, math.inf, math.nan, [1]])
def test_steps_refused(step: Any) -> None:
    with pytest.raises(ValueError) as e:
        values_mod.as_step(step)
    assert str(e.value) == f"trackui.log: step must be an integer, not {step!r}"


def test_steps_beyond_64_bits_are_refused() -> None:
    with pytest.raises(ValueError) as e:
        values_mod.as_step(2**63)
    assert str(e.value) == f"trackui.log: step {2**63} is beyond 64 bits; nothing is written"


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


CONFIG: dict[str, Any] = {
    "none": None,
    "bool": True,
    "int": 3,
    "big": 2**200,
    "huge": 10**4000,
    "neg_huge": -(10**4000),
    "float": 0.25,
    "nan": math.nan,
    "inf": math.inf,
    "text": "adam",
    "surrogate": "a\udcff",
    "path": Path("/data/x"),
    "enum": Level.HIGH,
    "list": [1, "two", 3.5, [math.inf]],
    "tuple": (1, 2),
    "nested": {"lr": 1e-3, 4: "four"},
    "np0": np.float64(1.5),
    "np1": np.arange(3),
    "np2": np.zeros((2, 2)),
    "unprintable": Unprintable(),
}


def expected_config(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v) if len(bin(abs(v))) - 2 <= values_mod.MAX_INT_BITS else (
            "inf" if v > 0 else "-inf"
        )  # fmt: skip
    if isinstance(v, float):
        return v if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in v)
    if isinstance(v, dict):
        return {str(k): expected_config(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [expected_config(x) for x in v]
    if isinstance(v, np.ndarray) and v.ndim <= 1:
        return [expected_config(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return expected_config(v.item())
    if isinstance(v, Unprintable):
        return f"<{__name__}.Unprintable>"
    return str(v)


def test_config_values_read_back(root: Path) -> None:
    run = trackui.init(dir=root, config=CONFIG)
    run.finish()
    got = json.loads((run.run_dir / layout.CONFIG).read_text())
    for k, v in CONFIG.items():
        assert got[k] == expected_config(v), k
    assert got["surrogate"] == "a\ufffd"
    assert got["huge"] == "inf" and got["big"] == 2**200


def test_ints_within_64_bits_stay_exact_ints(root: Path) -> None:
    ints = {"a": -(2**40) - 1, "b": -(2**63), "c": 2**53 + 1, "d": -127, "e": -126}
    m, _ = values_mod.convert(ints)
    assert m == ints and all(type(v) is int for v in m.values())
    nested, _ = values_mod.convert({"g": ints})
    assert nested == {f"g/{k}": v for k, v in ints.items()}
    assert all(type(v) is int for v in nested.values())
    _, summary = log_and_read(root, ints)
    for k, v in ints.items():
        assert summary[k] == v and type(summary[k]) is int


@pytest.mark.parametrize(("bits", "kept"), [(9_999, True), (10_000, True), (10_001, False)])
def test_config_ints_are_exact_up_to_the_bound(bits: int, kept: bool) -> None:
    for sign in (1, -1):
        v = sign * (2 ** (bits - 1))  # exactly ``bits`` bits
        assert v.bit_length() == bits
        want = v if kept else ("inf" if sign > 0 else "-inf")
        assert values_mod.jsonable({"k": v}) == {"k": want}


class BrokenScalar:
    ndim = 0

    def item(self) -> Any:
        raise RuntimeError("device lost")


def test_a_scalar_that_cannot_be_read_names_its_key() -> None:
    with pytest.raises(TypeError) as e:
        values_mod.convert({"t": {"x": BrokenScalar()}})
    assert str(e.value) == "trackui.log: cannot read the value of 't/x': device lost"


@pytest.mark.parametrize("length", [1, 79, 80, 81, 200])
def test_too_deep_names_its_key_cut_at_80(length: int) -> None:
    key = "k" * length
    d: Any = 1.0
    for _ in range(values_mod.MAX_DEPTH + 1):
        d = {"": d}  # empty names: the key shown is the outer one alone
    shown = key if length <= 80 else key[:77] + "..."
    with pytest.raises(ValueError) as e:
        values_mod.convert({key: d})
    assert str(e.value) == (
        f"trackui: {shown!r} nests more than 100 levels deep (or holds itself); "
        "it is refused and nothing was written"
    )


def test_rich_values_go_to_rich_and_others_are_still_refused() -> None:
    from trackui.media import Histogram

    rich: dict[str, Any] = {}
    m, x = values_mod.convert(
        {"h": np.arange(5.0), "v": 1.0, "n": {"g": np.ones((2, 2))}}, rich=rich
    )
    assert (m, x) == ({"v": 1.0}, {})
    assert set(rich) == {"h", "n/g"} and isinstance(rich["h"], Histogram)
    with pytest.raises(TypeError, match="'o' is a object"):
        values_mod.convert({"o": object()}, rich={})
