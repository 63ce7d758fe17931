"""The filter language: evaluated on real runs through DuckDB, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackui.store.filter import FilterError, compile_filter
from trackui.store.index import Index


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Index:
    import json

    root = tmp_path_factory.mktemp("filter") / "runs"
    runs = [
        # id, name, state, project, group, tags, config, summary
        ("r1", "baseline mlp", "finished", "mnist", "sweep-1", ["baseline", "MLP"],
         {"lr": 0.001, "opt": {"name": "adam"}, "bs": 64, "amp": True}, {"val_accuracy": 0.975, "loss": 0.1}),
        ("r2", "wide mlp", "failed", "mnist", "sweep-1", ["mlp"],
         {"lr": 0.01, "opt": {"name": "sgd"}, "bs": 128, "amp": False}, {"val_accuracy": 0.96, "loss": "nan"}),
        ("r3", "cnn", "finished", "mnist", "sweep-2", ["cnn"],
         {"lr": 0.0003, "opt": {"name": "adam"}, "bs": 64}, {"val_accuracy": 0.991}),
        ("r4", "cifar resnet", "finished", "cifar", None, [],
         {"lr": 0.1, "note": "my run"}, {"loss": 1.5, "lr": 5}),
    ]  # fmt: skip
    for i, (rid, name, state, project, group, tags, config, summary) in enumerate(runs):
        d = root / f"run-20231114_22132{i}-{rid}"
        d.mkdir(parents=True)
        (d / "config.json").write_text(json.dumps(config))
        (d / "summary.json").write_text(json.dumps(summary))
        (d / "history.jsonl").write_text("")
        meta = {"format": 1, "id": rid, "name": name, "state": state, "project": project,
                "group": group, "tags": tags, "start_time": 1.0 + i, "host": "h", "pid": 1}  # fmt: skip
        (d / "meta.json").write_text(json.dumps(meta))
    index = Index(root, cache=False)
    index.refresh()
    yield index
    index.close()


CASES = [
    ("", {"r1", "r2", "r3", "r4"}),
    ("mlp", {"r1", "r2"}),
    ("MLP", {"r1", "r2"}),
    ("r4", {"r4"}),  # id prefix
    ('"cifar res"', {"r4"}),
    ("state:finished", {"r1", "r3", "r4"}),
    ("state:FAILED", {"r2"}),
    ("state!=finished", {"r2"}),
    ("tag:baseline", {"r1"}),
    ("tag:mlp", {"r1", "r2"}),  # case-insensitive
    ("project:mnist", {"r1", "r2", "r3"}),
    ("group:sweep-1", {"r1", "r2"}),
    ("name:cnn", {"r3"}),
    ("name=cnn", {"r3"}),
    ("id:r", {"r1", "r2", "r3", "r4"}),
    ("lr>=0.001", {"r1", "r2", "r4"}),  # r4 has config lr 0.1 and summary lr 5
    ("lr<0.001", {"r3"}),
    ("config.lr>1", set()),
    ("summary.lr>1", {"r4"}),
    ("val_accuracy>0.97", {"r1", "r3"}),
    ("val_accuracy > 0.97", {"r1", "r3"}),
    ("opt/name=adam", {"r1", "r3"}),
    ("opt/name:ADAM", {"r1", "r3"}),
    ("opt/name!=adam", {"r2"}),  # a run without the key never matches
    ("bs==64", {"r1", "r3"}),
    ("amp=true", {"r1"}),
    ("amp=1", {"r1"}),
    ('note="my run"', {"r4"}),
    ("loss=nan", {"r2"}),
    ("state:failed or state:finished tag:cnn", {"r2", "r3"}),
    ("not tag:mlp", {"r3", "r4"}),
    ("mlp and not state:failed", {"r1"}),
    ("(lr<0.005 or bs=128) project:mnist", {"r1", "r2", "r3"}),
    ("not (project:mnist)", {"r4"}),
    ("nothing-like-this", set()),
]


@pytest.mark.parametrize(("text", "want"), CASES)
def test_filter_selects(ix: Index, text: str, want: set[str]) -> None:
    assert {r.id for r in ix.runs(text)} == want


BAD = [
    ("lr=>0.1", "filter: unknown operator '=>' at 3"),
    ("lr>", "filter: missing value after '>' at 3"),
    ("lr> or x", "filter: missing value after '>' at 3"),
    ("(state:running", "filter: missing ')' for '(' at 1"),
    ("state:running)", "filter: unmatched ')' at 14"),
    ("()", "filter: empty parentheses at 1"),
    ('name:"open', "filter: unclosed quote at 6"),
    (
        "state:sleeping",
        "filter: unknown state 'sleeping' at 7 (one of running, finished, failed, crashed)",
    ),
    ("state>1", "filter: operator '>' does not apply to 'state' at 6"),
    ("a or", "filter: nothing after 'or' at 3"),
    ("not", "filter: nothing after 'not' at 1"),
    ("x and", "filter: nothing after 'and' at 3"),
    (">= 3", "filter: '>=' needs a key before it at 1"),
    ("or x", "filter: misplaced 'or' at 1"),
    ("lr~1", "filter: unknown operator '~' at 3"),
    ("a\x1b[31m=<b", "filter: unknown operator '=<' at 7"),
    # Each message where its position or its part of the text is its own.
    ("(", "filter: missing ')' for '(' at 1"),
    (")", "filter: unmatched ')' at 1"),
    ("x (", "filter: missing ')' for '(' at 3"),
    ("(a) )", "filter: unmatched ')' at 5"),
    ('name:"a b")', "filter: unmatched ')' at 11"),
    ("(a or)", "filter: nothing after 'or' at 4"),
    ("(a and)", "filter: nothing after 'and' at 4"),
    ("a and or b", "filter: nothing after 'and' at 3"),
    ("(not)", "filter: nothing after 'not' at 2"),
    ("not or b", "filter: nothing after 'not' at 1"),
    ("not and b", "filter: nothing after 'not' at 1"),
    ("lr< <", "filter: missing value after '<' at 3"),
    ("lr<)", "filter: missing value after '<' at 3"),
    (
        'x state:"sleeping"',
        "filter: unknown state 'sleeping' at 9 (one of running, finished, failed, crashed)",
    ),
    ("lr" + "<" * 45 + "1", "filter: unknown operator '" + "<" * 37 + "...' at 3"),
    (
        "state:" + "z" * 45,
        "filter: unknown state '"
        + "z" * 37
        + "...' at 7 (one of running, finished, failed, crashed)",
    ),
    ('"a\\', "filter: unclosed quote at 1"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_malformed_filters_are_one_line_errors(ix: Index, text: str, message: str) -> None:
    with pytest.raises(FilterError) as e:
        ix.runs(text)
    assert str(e.value) == message
    assert "\n" not in str(e.value) and "\x1b" not in str(e.value)


def test_values_are_parameters_never_sql() -> None:
    sql, params = compile_filter('name:"x\'); DROP TABLE runs; --" lr>=0.5')
    assert "DROP" not in sql
    assert "x'); drop table runs; --" in params
    assert 0.5 in params


def test_injection_attempt_matches_nothing_and_breaks_nothing(ix: Index) -> None:
    assert ix.runs('name:"\'; DELETE FROM runs; --"') == []
    assert len(ix.runs()) == 4


def test_filter_error_is_a_value_error() -> None:
    assert issubclass(FilterError, ValueError)
    with pytest.raises(ValueError):
        compile_filter("(")


def test_compile_is_pure(tmp_path: Path) -> None:
    assert compile_filter("") == ("TRUE", [])
    assert compile_filter("   ") == ("TRUE", [])


def test_a_condition_duckdb_cannot_evaluate_is_a_one_line_filter_error() -> None:
    import duckdb

    from trackui.store.filter import matching_ids

    con = duckdb.connect()
    con.execute("CREATE TABLE runs (id VARCHAR, x INTEGER)")
    bad = "no_such_column_" + "y" * 150 + " = 1"
    with pytest.raises(duckdb.Error) as direct:
        con.execute(f"SELECT id FROM runs r WHERE {bad}").fetchall()
    with pytest.raises(FilterError) as e:
        matching_ids(con, bad, [])
    words = " ".join(str(direct.value).split())
    assert len(words) > 120  # (long enough to be cut)
    assert str(e.value) == f"filter: cannot evaluate ({words[:120]})"
