"""The filter language against a reference evaluator written from docs/filters.md.

A table of queries (every operator on every kind of key and field, missing
keys, ``not``/``or``/parentheses) is run through the index's SQL and through
a plain Python evaluator over the same runs; the two must select the same runs.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest

from trackui.store.filter import FilterError
from trackui.store.index import Index

RUNS: list[dict[str, Any]] = [
    {"id": "a1", "name": "baseline MLP", "state": "finished", "project": "mnist",
     "group": "sweep-1", "tags": ["baseline", "MLP"], "host": "gpu01", "job_type": "train",
     "config": {"lr": 0.001, "opt": {"name": "adam"}, "bs": 64, "amp": True, "note": "b"},
     "summary": {"loss": 0.1, "acc": 0.97}},
    {"id": "a2", "name": "wide mlp", "state": "failed", "project": "mnist",
     "group": "sweep-1", "tags": ["mlp"], "host": "gpu02", "job_type": "eval",
     "config": {"lr": 0.01, "opt": {"name": "SGD"}, "bs": 128, "amp": False, "note": "B"},
     "summary": {"loss": "nan", "acc": 0.96}},
    {"id": "b3", "name": "cnn", "state": "finished", "project": "MNIST",
     "group": "sweep-2", "tags": ["cnn"], "host": "gpu01", "job_type": None,
     "config": {"lr": 0.0003, "opt": {"name": "adam"}, "bs": 64, "note": "a c"},
     "summary": {"acc": 0.991, "loss": "-inf"}},
    {"id": "b4", "name": "cifar resnet", "state": "failed", "project": "cifar",
     "group": None, "tags": [], "host": None, "job_type": "train",
     "config": {"lr": 0.1, "note": "my run", "depth": -3},
     "summary": {"loss": 1.5, "lr": 5}},
    {"id": "c5", "name": "empty", "state": "finished", "project": None,
     "group": None, "tags": ["Baseline"], "host": "gpu02", "job_type": None,
     "config": {}, "summary": {}, "source": "wandb"},
    {"id": "d6", "name": 'say "hi" \\ to Xavier', "state": "finished", "project": "tb",
     "group": None, "tags": [], "host": None, "job_type": None, "source": "tensorboard",
     "config": {"x": 1}, "summary": {"y": 2, "config.": 1, "summary.": 3}},
]  # fmt: skip
FIELDS = (
    "state", "tag", "tags", "project", "group", "name", "id", "host", "job_type", "source",
)  # fmt: skip


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("filterref") / "runs"
    for i, r in enumerate(RUNS):
        d = root / f"run-20231114_22132{i}-{r['id']}"
        d.mkdir(parents=True)
        (d / "config.json").write_text(json.dumps(r["config"]))
        (d / "summary.json").write_text(json.dumps(r["summary"]))
        (d / "history.jsonl").write_text("")
        meta = {"format": 1, "start_time": 1.0 + i, "pid": 1,
                **{k: r[k] for k in ("id", "name", "state", "project", "group", "tags",
                                      "host", "job_type")}}  # fmt: skip
        if r.get("source"):
            meta["source"] = r["source"]
        (d / "meta.json").write_text(json.dumps(meta))
    index = Index(root, cache=False)
    index.refresh()
    yield index
    index.close()


# ------------------------------------------------------------------ reference


def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def tokens(src: str) -> list[tuple[str, str]]:
    """(kind, text): word, str, op, '(' or ')'."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(src):
        c = src[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c, c))
            i += 1
        elif c in "\"'":
            # A quoted string: a backslash takes the next character as it is.
            j, text = i + 1, ""
            while True:
                if j >= len(src):
                    raise ValueError("unclosed quote")
                if src[j] == c:
                    break
                if src[j] == "\\" and j + 1 < len(src):
                    j += 1
                text += src[j]
                j += 1
            out.append(("str", text))
            i = j + 1
        elif c in "<>=!:":
            j = i
            while j < len(src) and src[j] in "<>=!:":
                j += 1
            out.append(("op", src[i:j]))
            i = j
        else:
            j = i
            while j < len(src) and not src[j].isspace() and src[j] not in "()\"'<>=!:~":
                j += 1
            out.append(("word", src[i:j]))
            i = j
    return out


def as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return None if math.isnan(v) else float(v)
    if v in ("inf", "-inf"):  # the non-finite spellings of summary.json
        return float(v)
    return None


def as_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else repr(v)


def compare(a: Any, op: str, b: Any) -> bool:
    return {
        "=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
    }[op]  # fmt: skip


def key_matches(run: dict[str, Any], key: str, op: str, value: str, quoted: bool) -> bool:
    op = "=" if op in (":", "==") else op
    sections = ["config", "summary"]
    if key.startswith("config.") and len(key) > 7:
        sections, key = ["config"], key[7:]
    elif key.startswith("summary.") and len(key) > 8:
        sections, key = ["summary"], key[8:]
    try:
        num = None if quoted else float(value)
    except ValueError:
        num = None
    if num is not None and math.isnan(num):
        num = None
    for sec in sections:
        values = flat(run[sec]) if sec == "config" else run[sec]
        if key not in values:
            continue  # a missing key never matches, != included
        v = values[key]
        if num is not None:
            n = as_number(v)
            if n is not None and compare(n, op, num):
                return True
        elif op in ("=", "!="):
            if compare(as_text(v).lower(), op, value.lower()):
                return True
        elif compare(as_text(v), op, value):  # text order, every value as its text
            return True
    return False


def field_matches(run: dict[str, Any], name: str, op: str, value: str) -> bool:
    if op not in (":", "=", "==", "!="):
        raise ValueError("operator does not apply")
    if name == "state" and value.lower() not in ("running", "finished", "failed", "crashed"):
        raise ValueError("unknown state")
    v = value.lower()
    if name in ("tag", "tags"):
        hit = v in [t.lower() for t in run["tags"]]
    elif name == "name":
        hit = v in run["name"].lower() if op == ":" else run["name"].lower() == v
    elif name == "id":
        hit = run["id"].startswith(value) if op == ":" else run["id"] == value
    elif name == "source" and v == "trackui":  # trackui's own runs: no source recorded
        hit = run.get("source") is None
    elif name == "source":
        hit = (run.get("source") or "").lower() == v
    else:
        hit = (run[name] or "").lower() == v
    return not hit if op == "!=" else hit


def evaluate(src: str, run: dict[str, Any]) -> bool:
    """Recursive descent over the grammar of docs/filters.md."""
    toks = tokens(src)
    pos = 0

    def peek_kw(kw: str) -> bool:
        return pos < len(toks) and toks[pos][0] == "word" and toks[pos][1].lower() == kw

    def or_expr() -> bool:
        nonlocal pos
        got = and_expr()
        while peek_kw("or"):
            pos += 1
            got = and_expr() or got  # (both sides parsed)
        return got

    def and_expr() -> bool:
        nonlocal pos
        got = unary()
        while pos < len(toks) and toks[pos][0] != ")" and not peek_kw("or"):
            if peek_kw("and"):
                pos += 1
            got = unary() and got
        return got

    def unary() -> bool:
        nonlocal pos
        if peek_kw("not"):
            pos += 1
            return not unary()
        return atom()

    def atom() -> bool:
        nonlocal pos
        kind, text = toks[pos]
        pos += 1
        if kind == "(":
            got = or_expr()
            assert toks[pos][0] == ")"
            pos += 1
            return got
        if kind == "word" and pos < len(toks) and toks[pos][0] == "op":
            op = toks[pos][1]
            vkind, value = toks[pos + 1]
            pos += 2
            if text.lower() in FIELDS:
                return field_matches(run, text.lower(), op, value)
            return key_matches(run, text, op, value, vkind == "str")
        return text.lower() in run["name"].lower() or run["id"].startswith(text)

    got = or_expr()
    assert pos == len(toks)
    return got


def reference(src: str) -> set[str] | None:
    """The runs ``src`` selects; None where the filter is an error."""
    try:
        return {r["id"] for r in RUNS if evaluate(src, r)}
    except ValueError:
        return None


# ------------------------------------------------------------------ the table

OPS = [":", "=", "==", "!=", "<", "<=", ">", ">="]
KEY_VALUES = {
    "lr": ["0.001", "0.01", "1e-3", "5", "0", "inf", "-inf", "abc"],
    "bs": ["64", "128", "100"],
    "amp": ["1", "0", "true", "false", "TRUE"],
    "opt/name": ["adam", "ADAM", "sgd", "b", '"adam"'],
    "note": ["b", "B", '"a c"', '"my run"', "a", "c", "10"],
    "loss": ["0.1", "1.5", "nan", "inf", "-inf", "0"],
    "depth": ["-3", "-4", "0"],
    "config.lr": ["0.01", "1"],
    "summary.lr": ["5", "1"],
    "summary.acc": ["0.97", "0.99"],
    "config.acc": ["0.97"],
    "missing": ["1", "x"],
    "config.x": ["1"],
    "summary.y": ["2"],
    "config.": ["1"],
    "summary.": ["3"],
    "x": ["1"],
}
FIELD_VALUES = {
    "state": ["finished", "FAILED", "running"],
    "tag": ["mlp", "baseline", "nope"],
    "tags": ["cnn"],
    "project": ["mnist", "cifar"],
    "group": ["sweep-1"],
    "name": ["mlp", "cnn", '"cifar resnet"', "cifar"],
    "id": ["a", "a1", "b"],
    "host": ["gpu01"],
    "job_type": ["train", "eval"],
    "source": ["trackui", "TensorBoard", "wandb", "mlflow"],
}
COMPARISONS = [f"{k}{op}{v}" for k, vals in KEY_VALUES.items() for op in OPS for v in vals] + [
    f"{k}{op}{v}" for k, vals in FIELD_VALUES.items() for op in OPS for v in vals
]
COMBINED = [
    "mlp",
    "MLP",
    "a2",
    '"cifar res"',
    "baseline",
    "not tag:mlp",
    "lr<0.005 or bs=128",
    "(lr<0.005 or bs=128) project:mnist",
    "not (project:mnist) lr>=0.01",
    "mlp and not state:failed",
    "state:failed or state:finished tag:cnn",
    "not not tag:cnn",
    "not opt/name=adam",
    "a b or c",
    "(name:mlp or name:cnn) and (bs>=100 or amp=true)",
    "NOT lr<=0.001 OR summary.loss>1",
    "amp=true AND opt/name:adam",
    # Terms against parentheses and quotes, with no space between.
    "(lr<0.005)or(bs=128)",
    "(tag:mlp)tag:baseline",
    '(name:"wide mlp")state:failed',
    'name:"cnn"or name:empty',
    # Quotes of both kinds, and what a backslash keeps.
    "name:'wide mlp'",
    'name:"say \\"hi\\""',
    "name:'say \"hi\" \\\\ to'",
    'name:"\\\\"',
    '"\\"hi"',
    # Words holding capitals and the letters of operators' neighbours.
    "Xavier",
    "name:Xavier",
    "to Xavier",
    "source:trackui not state:failed",
    "source!=trackui",
    "not source:tensorboard",
]


@pytest.mark.parametrize("text", COMPARISONS + COMBINED)
def test_filter_agrees_with_the_reference(ix: Index, text: str) -> None:
    want = reference(text)
    if want is None:
        with pytest.raises(FilterError):
            ix.runs(text)
    else:
        assert {r.id for r in ix.runs(text)} == want


def test_the_table_covers_every_operator_and_selects_something() -> None:
    # A table whose queries all select nothing (or everything) proves little.
    selected = [reference(q) for q in COMPARISONS]
    for op in OPS:
        sets = [s for q, s in zip(COMPARISONS, selected, strict=True) if f"{op}" in q and s]
        assert sets, op
    assert sum(1 for s in selected if s and len(s) < len(RUNS)) > len(COMPARISONS) // 3
    # `<=` and `>=` include the bound itself.
    assert reference("lr<=0.001") == {"a1", "b3"} and reference("lr>=0.1") == {"b4"}
    assert reference("opt/name!=adam") == {"a2"}  # runs without the key never match


def test_combinations_of_terms(ix: Index) -> None:
    # Every pair of a few terms, joined each way, against the reference.
    terms = ["tag:mlp", "lr<=0.001", "note!=b", "summary.loss>=0.1", "name:c"]
    for a, b in itertools.permutations(terms, 2):
        for text in (f"{a} {b}", f"{a} or {b}", f"not {a} {b}", f"not ({a} or {b})"):
            assert {r.id for r in ix.runs(text)} == reference(text), text


def test_reference_reads_the_runs_written(ix: Index, tmp_path: Path) -> None:
    assert {r.id for r in ix.runs()} == {r["id"] for r in RUNS}
