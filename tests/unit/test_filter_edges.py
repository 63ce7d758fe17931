"""Corners of the filter language the reference table does not reach.

Quoted values with backslash escapes against a reference quoting of every
name, ``source:`` against each run's ``meta.json``, and every error message
a user can meet, word for word (docs/filters.md, "Errors").
"""

from __future__ import annotations

import json

import pytest

from trackui.store.filter import FilterError, compile_filter, matching_ids
from trackui.store.index import Index

NAMES = ['say "hi"', "back\\slash", 'both \\" mixed', "end\\", 'q"', "plain", "it's", "XL net"]
SOURCES = [None, "tensorboard", "wandb", None, "mlflow", "TensorBoard", None, None]
CONFIGS = [{"x": 1, "config.": 1}, {}, {"y": 1}, {"summary.": 1}]
SUMMARIES = [{}, {"x": 1, "summary.": 1, "y": 1}, {}, {"config.": 1}]


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("filteredges") / "runs"
    for i, (name, source) in enumerate(zip(NAMES, SOURCES, strict=True)):
        d = root / f"run-20231114_22132{i}-r{i}"
        d.mkdir(parents=True)
        (d / "history.jsonl").write_text("")
        if i < len(CONFIGS):
            (d / "config.json").write_text(json.dumps(CONFIGS[i]))
            (d / "summary.json").write_text(json.dumps(SUMMARIES[i]))
        meta = {"format": 1, "id": f"r{i}", "name": name, "state": "finished",
                "start_time": 1.0 + i, "pid": 1}  # fmt: skip
        if source is not None:
            meta["source"] = source
        (d / "meta.json").write_text(json.dumps(meta))
    index = Index(root, cache=False)
    index.refresh()
    yield index
    index.close()


def ids(ix: Index, text: str) -> set[str]:
    return {r.id for r in ix.runs(text)}


def quote(text: str, mark: str) -> str:
    """A reference quoting: a backslash escapes the next character."""
    return mark + text.replace("\\", "\\\\").replace(mark, "\\" + mark) + mark


@pytest.mark.parametrize("mark", ['"', "'"])
@pytest.mark.parametrize("i", range(len(NAMES)))
def test_an_escaped_quoted_name_selects_exactly_its_run(ix: Index, i: int, mark: str) -> None:
    assert ids(ix, "name=" + quote(NAMES[i], mark)) == {f"r{i}"}
    want = {f"r{j}" for j, n in enumerate(NAMES) if NAMES[i].lower() in n.lower()}
    assert ids(ix, "name:" + quote(NAMES[i], mark)) == want


def test_a_backslash_before_the_end_is_kept_and_the_quote_left_open() -> None:
    with pytest.raises(FilterError) as e:
        compile_filter('name:"abc\\"')
    assert str(e.value) == "filter: unclosed quote at 6"
    assert compile_filter('"a\\\\"')[1] == ["a\\", "a\\"]


@pytest.mark.parametrize(
    "text", ["source:trackui", "source=TrackUI", "source!=trackui", "source:tensorboard",
             "source!=tensorboard", "source:wandb", "not source:trackui", "host:trackui",
             "name=trackui", "job_type!=trackui"],
)  # fmt: skip
def test_source_matches_each_runs_meta(ix: Index, text: str) -> None:
    neg = "!=" in text or text.startswith("not ")
    want = text.replace("not ", "").replace("!=", ":").split(":")[-1].split("=")[-1].lower()

    def of(source: str | None) -> str:
        return "trackui" if source is None else source.lower()

    if not text.startswith(("source", "not source")):  # no run has these fields: ""
        want = ""
    expect = {f"r{i}" for i, s in enumerate(SOURCES) if (of(s) == want) != neg}
    assert ids(ix, text) == expect


@pytest.mark.parametrize(
    "text", ["(plain)xplain", "(plain)plain", 'name:"plain"(plain)', 'name:"plain"xl',
             "name:XL", "XL", "xl", "(XL)", '"XL"'],
)  # fmt: skip
def test_a_term_right_after_a_parenthesis_or_quote_is_whole(ix: Index, text: str) -> None:
    """Free-text words are parts of the name (reference: split the query by hand)."""
    words = text.replace("(", " ").replace(")", " ").replace('"', " ").split()
    words = [w.split(":")[-1].lower() for w in words]
    expect = {f"r{i}" for i, n in enumerate(NAMES) if all(w in n.lower() for w in words)}
    assert ids(ix, text) == expect


@pytest.mark.parametrize(
    "key", ["x", "y", "config.x", "summary.x", "config.y", "summary.y", "config.", "summary.",
            "config.config.", "summary.summary.", "config.summary."],
)  # fmt: skip
def test_a_section_prefix_needs_a_key_after_it(ix: Index, key: str) -> None:
    """Reference: ``config.``/``summary.`` in front restricts a key to one section when a
    key follows it; alone, it is a key of that name (docs/filters.md, "Keys")."""
    sections = ("config", "summary")
    for name in sections:
        if key.startswith(name + ".") and len(key) > len(name) + 1:
            sections, key_in = (name,), key[len(name) + 1 :]
            break
    else:
        key_in = key
    expect = set()
    for i in range(len(CONFIGS)):
        kv = {"config": CONFIGS[i], "summary": SUMMARIES[i]}
        if any(kv[sec].get(key_in) == 1 for sec in sections):
            expect.add(f"r{i}")
    assert ids(ix, f"{key}=1") == expect


ERRORS = [
    (")", "filter: unmatched ')' at 1"),
    ('name:"ab\\', "filter: unclosed quote at 6"),
    ('state:"zzz"', "filter: unknown state 'zzz' at 7 (one of running, finished, failed, crashed)"),
    ("lr> and", "filter: missing value after '>' at 3"),
    ("lr>=not", "filter: missing value after '>=' at 3"),
    ("a )", "filter: unmatched ')' at 3"),
    ("(a) )", "filter: unmatched ')' at 5"),
    ("()", "filter: empty parentheses at 1"),
    ("(a", "filter: missing ')' for '(' at 1"),
    ("(", "filter: missing ')' for '(' at 1"),
    ("lr>", "filter: missing value after '>' at 3"),
    ("lr> or", "filter: missing value after '>' at 3"),
    ("x and or y", "filter: nothing after 'and' at 3"),
    ("not or", "filter: nothing after 'not' at 1"),
    ("not and x", "filter: nothing after 'not' at 1"),
    ("(not)", "filter: nothing after 'not' at 2"),
    ("(x and)", "filter: nothing after 'and' at 4"),
    ("(a or)", "filter: nothing after 'or' at 4"),
    ("and", "filter: misplaced 'and' at 1"),
    ("tag<x", "filter: operator '<' does not apply to 'tag' at 4"),
    ("=" * 3 + "x", "filter: unknown operator '===' at 1"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_every_reachable_error_names_its_column(ix: Index, text: str, message: str) -> None:
    with pytest.raises(FilterError) as e:
        ix.runs(text)
    assert str(e.value) == message


def test_a_long_operator_is_cut_in_the_message() -> None:
    with pytest.raises(FilterError) as e:
        compile_filter("a" + "<" * 60 + "b")
    assert str(e.value) == "filter: unknown operator '" + "<" * 37 + "...' at 2"


def test_a_condition_duckdb_cannot_evaluate_is_one_line_of_its_error(ix: Index) -> None:
    import duckdb

    sql = "r.no_such_column   =\n ?"
    cur = duckdb.connect()
    cur.execute("CREATE TABLE runs (id VARCHAR)")
    with pytest.raises(duckdb.Error) as raw:
        cur.execute(f"SELECT id FROM runs r WHERE {sql}", [1])
    words = " ".join(str(raw.value).split())
    assert len(words) > 120
    with pytest.raises(FilterError) as e:
        matching_ids(cur, sql, [1])
    assert str(e.value) == f"filter: cannot evaluate ({words[:120]})"


def test_a_long_unknown_state_is_cut_in_the_message() -> None:
    with pytest.raises(FilterError) as e:
        compile_filter("state:" + "z" * 50)
    assert str(e.value) == (
        "filter: unknown state '" + "z" * 37 + "...' at 7 "
        "(one of running, finished, failed, crashed)"
    )
