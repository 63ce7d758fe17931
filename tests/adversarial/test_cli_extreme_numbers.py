"""``ls``/``show``/``diff``/``export`` with non-finite, extreme and huge numbers.

Runs written by hand (docs/format.md): ``inf`` everywhere, values at the ends
of the float range, ints past 64 bits in the config and the summary. Nothing
raises, every export format holds every value, and rates and counts print
as numbers people read (``33121.5``, not ``3.312e+04``).
"""

from __future__ import annotations

import csv
import io
import json
import math

import pyarrow.parquet as pq
import pytest

from trackui.cli import dumps_json, main

BIG = 2**70
VALUES = ["inf", "-inf", 1e308, -1e308, "nan", 5e-324, 0.5]


@pytest.fixture
def extreme(root, write_run):
    for run_id, sign in (("xxxx0001", 1), ("yyyy0002", -1)):
        write_run(
            root,
            run_id,
            name=f"run{run_id[0]}",
            config={
                "big": BIG * sign,
                "inf": "inf" if sign > 0 else "-inf",
                "edge": 1e308 * sign,
                "nested": {"list": [BIG, "-inf", -1e308]},
                "samples_per_s": 33121.5 if sign > 0 else 133121.5,
                "examples": 1234567.0 * (2 if sign < 0 else 1),
            },
            summary={"best": "-inf" if sign > 0 else "inf", "huge": BIG, "tiny": -1e308 * sign},
            records=[
                (i, 1_700_000_000.0 + i, {"loss": v, "samples_per_s": 33121.5, "count": i * 1e6})
                for i, v in enumerate(VALUES)
            ],
            stamp=f"2023111{4 + (sign < 0)}_221320",
        )
    return root


def cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return rc, out, err


def test_ls_and_show(capsys, extreme) -> None:
    rc, out, err = cli(capsys, "ls", str(extreme))
    assert rc == 0, err
    assert "runx" in out and "runy" in out
    rc, out, err = cli(capsys, "ls", str(extreme), "--json")
    assert rc == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["runx"]["config"]["big"] == BIG and rows["runy"]["config"]["big"] == -BIG
    assert rows["runx"]["config"]["inf"] == "inf" and rows["runx"]["summary"]["huge"] == BIG
    rc, out, err = cli(capsys, "show", "runx", "--dir", str(extreme))
    assert rc == 0, err
    sections: dict[str, dict[str, str]] = {}
    for ln in out.splitlines():
        if ln and not ln.startswith(" "):
            title = ln
        elif ln.strip() and ln.strip() != "-":
            sections.setdefault(title, {})[ln.split()[0]] = ln.split()[-1]
    lines = {**sections["config"], **sections["summary"]}
    assert float(lines["big"]) == pytest.approx(BIG, rel=1e-5)
    assert lines["samples_per_s"] == "33121.5"
    assert lines["examples"] == "1234567"
    assert lines["edge"] == "1e+308" and lines["inf"] == "inf" and lines["best"] == "-inf"
    rc, out, err = cli(capsys, "show", "runy", "--dir", str(extreme), "--json")
    assert rc == 0, err
    obj = json.loads(out)
    assert obj["config"]["big"] == -BIG and obj["summary"]["tiny"] == 1e308


def test_diff(capsys, extreme) -> None:
    for extra in ([], ["--all"], ["--json"], ["--all", "--json"]):
        rc, out, err = cli(capsys, "diff", "runx", "runy", "--dir", str(extreme), *extra)
        assert rc == 1, err
    rc, out, err = cli(capsys, "diff", "runx", "runy", "--dir", str(extreme), "--all")
    row = next(ln for ln in out.splitlines() if ln.startswith("big ")).split()
    assert float(row[1]) == pytest.approx(BIG, rel=1e-5)
    assert float(row[2]) == pytest.approx(-BIG, rel=1e-5)
    for key in ("samples_per_s", "examples"):
        row = next(ln for ln in out.splitlines() if ln.startswith(key))
        assert "e+" not in row, row
    rc, out, err = cli(capsys, "diff", "runx", "runy", "--dir", str(extreme), "--json", "--all")
    rows = {(r["section"], r["key"]): r for r in json.loads(out)["rows"]}
    assert rows[("config", "big")]["values"] == [BIG, -BIG]
    assert rows[("config", "inf")]["values"] == ["inf", "-inf"]


def test_json_holds_ints_past_64_bits_exactly() -> None:
    assert json.loads(dumps_json({"b": -BIG, "c": "\x9b", "d": math.inf})) == {
        "b": -BIG,
        "c": "\x9b",
        "d": "inf",
    }
    assert "\\u009b" in dumps_json("\x9b")


def test_export_every_format(capsys, extreme, tmp_path) -> None:
    rc, out, err = cli(capsys, "export", "runx", "runy", "--dir", str(extreme))
    assert rc == 0, err
    got = [
        r["value"]
        for r in csv.DictReader(io.StringIO(out))
        if r["run_name"] == "runx" and r["metric"] == "loss"
    ]
    assert [float(v) for v in got[:4]] == [math.inf, -math.inf, 1e308, -1e308]
    assert got[4] == "nan" and float(got[5]) == 5e-324
    rc, out, err = cli(capsys, "export", "runx", "--dir", str(extreme), "--format", "jsonl")
    assert rc == 0, err
    rows = [json.loads(ln) for ln in out.splitlines()]
    losses = [r["value"] for r in rows if r["metric"] == "loss"]
    assert losses[:5] == ["inf", "-inf", 1e308, -1e308, "nan"]
    target = tmp_path / "out.parquet"
    rc, out, err = cli(capsys, "export", "runx", "runy", "--dir", str(extreme), "-o", str(target))
    assert rc == 0, err
    tbl = pq.read_table(target).to_pylist()
    loss = [r["value"] for r in tbl if r["run_name"] == "runx" and r["metric"] == "loss"]
    assert loss[:4] == [math.inf, -math.inf, 1e308, -1e308]
    assert math.isnan(loss[4])


def test_big_ints_stay_exact_through_the_cached_index(capsys, extreme) -> None:
    # The first ls builds the cached index; the second reads the runs from it.
    for _ in range(2):
        rc, out, err = cli(capsys, "ls", str(extreme), "--json")
        assert rc == 0, err
        rows = {r["name"]: r for r in json.loads(out)}
        assert rows["runx"]["config"]["big"] == BIG and rows["runy"]["config"]["big"] == -BIG
    assert (extreme / ".trackui").is_dir()
