"""The run filter language, compiled to parameterised SQL.

Examples (terms separated by spaces are ANDed)::

    baseline                      name contains "baseline" (or the id starts with it)
    state:running tag:mlp         field terms: state, tag, project, group, name, id, host, job_type
    source:tensorboard            runs another tracker wrote (source:trackui: trackui's own)
    lr>=0.001 val_accuracy>0.97   comparisons on config and summary keys
    config.optimizer/name=adam    only the config; summary.loss<0.1 only the summary
    state:failed or state:crashed
    not tag:debug  (lr<0.01 or batch_size=64)

Operators: ``:`` ``=`` ``==`` ``!=`` ``<`` ``<=`` ``>`` ``>=``. A value that reads
as a number compares numerically, anything else as text (case-insensitive for
``=``, ``:`` and ``!=``). Quote values with spaces: ``name:"my run"``. A key
that a run lacks never matches, ``!=`` included. The full description is in
``docs/filters.md``.

Every malformed filter raises :class:`FilterError` with a one-line message
that gives the 1-based column of the problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from trackui.store import layout
from trackui.store.text import quoted


class FilterError(ValueError):
    """A filter that cannot be parsed; the message is one line, e.g.
    ``filter: unknown operator '=>' at 3``."""


_OPS = {":", "=", "==", "!=", "<", "<=", ">", ">="}
_OP_CHARS = set("<>=!:~")
_FIELDS = {
    "state": "r.state",
    "tag": "tags",
    "tags": "tags",
    "project": "r.project",
    "group": "r.grp",
    "name": "r.name",
    "id": "r.id",
    "host": "r.host",
    "job_type": "r.job_type",
    "source": "json_extract_string(r.meta, '$.source')",
}
_KEYWORDS = {"and", "or", "not"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # word, str, op, lp, rp
    text: str
    pos: int  # 1-based column


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(_Tok("lp", c, i + 1))
            i += 1
        elif c == ")":
            toks.append(_Tok("rp", c, i + 1))
            i += 1
        elif c in "\"'":
            j, buf = i + 1, []
            while j < n and src[j] != c:
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(src[j])
                j += 1
            if j >= n:
                raise FilterError(f"filter: unclosed quote at {i + 1}")
            toks.append(_Tok("str", "".join(buf), i + 1))
            i = j + 1
        elif c in _OP_CHARS:
            j = i
            while j < n and src[j] in _OP_CHARS:
                j += 1
            op = src[i:j]
            if op not in _OPS:
                raise FilterError(f"filter: unknown operator {quoted(op, 40)} at {i + 1}")
            toks.append(_Tok("op", op, i + 1))
            i = j
        else:
            j = i
            while (
                j < n and not src[j].isspace() and src[j] not in "()\"'" and src[j] not in _OP_CHARS
            ):
                j += 1
            toks.append(_Tok("word", src[i:j], i + 1))
            i = j
    return toks


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return None if math.isnan(v) else v


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks = _tokenize(src)
        self.i = 0
        self.params: list[Any] = []
        self.end = len(src) + 1

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def is_kw(self, tok: _Tok | None, kw: str) -> bool:
        return tok is not None and tok.kind == "word" and tok.text.lower() == kw

    def parse(self) -> str:
        if not self.toks:
            return "TRUE"
        sql = self.or_expr()
        tok = self.peek()
        if tok is not None:
            if tok.kind == "rp":
                raise FilterError(f"filter: unmatched ')' at {tok.pos}")
            raise FilterError(f"filter: unexpected {quoted(tok.text, 40)} at {tok.pos}")
        return sql

    def or_expr(self) -> str:
        parts = [self.and_expr()]
        while self.is_kw(self.peek(), "or"):
            kw = self.take()
            if self.peek() is None or self.peek().kind == "rp":  # type: ignore[union-attr]
                raise FilterError(f"filter: nothing after 'or' at {kw.pos}")
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_expr(self) -> str:
        parts = [self.unary()]
        while True:
            tok = self.peek()
            if tok is None or tok.kind == "rp" or self.is_kw(tok, "or"):
                break
            if self.is_kw(tok, "and"):
                kw = self.take()
                nxt = self.peek()
                if nxt is None or nxt.kind == "rp" or self.is_kw(nxt, "or"):
                    raise FilterError(f"filter: nothing after 'and' at {kw.pos}")
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def unary(self) -> str:
        tok = self.peek()
        if tok is None:
            raise FilterError(f"filter: expected a term at {self.end}")
        if self.is_kw(tok, "not"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind == "rp" or self.is_kw(nxt, "or") or self.is_kw(nxt, "and"):
                raise FilterError(f"filter: nothing after 'not' at {tok.pos}")
            return f"(NOT {self.unary()})"
        return self.atom()

    def atom(self) -> str:
        tok = self.take()
        if tok.kind == "lp":
            nxt = self.peek()
            if nxt is None:
                raise FilterError(f"filter: missing ')' for '(' at {tok.pos}")
            if nxt.kind == "rp":
                raise FilterError(f"filter: empty parentheses at {tok.pos}")
            inner = self.or_expr()
            close = self.peek()
            if close is None or close.kind != "rp":
                raise FilterError(f"filter: missing ')' for '(' at {tok.pos}")
            self.take()
            return inner
        if tok.kind == "rp":
            raise FilterError(f"filter: unmatched ')' at {tok.pos}")
        if tok.kind == "op":
            raise FilterError(f"filter: {quoted(tok.text, 40)} needs a key before it at {tok.pos}")
        nxt = self.peek()
        if tok.kind == "word" and nxt is not None and nxt.kind == "op":
            op = self.take()
            val = self.peek()
            if (
                val is None
                or val.kind not in ("word", "str")
                or (val.kind == "word" and val.text.lower() in _KEYWORDS)
            ):
                raise FilterError(f"filter: missing value after {quoted(op.text, 40)} at {op.pos}")
            self.take()
            return self.compare(tok, op, val)
        if tok.kind == "word" and tok.text.lower() in _KEYWORDS:
            raise FilterError(f"filter: misplaced {quoted(tok.text, 40)} at {tok.pos}")
        # Free text: the name contains it, or the id starts with it.
        self.params += [tok.text.lower(), tok.text]
        return "(contains(lower(r.name), ?) OR starts_with(r.id, ?))"

    def compare(self, key: _Tok, op: _Tok, val: _Tok) -> str:
        name, o, text = key.text, op.text, val.text
        if o == "==":
            o = "="
        field = _FIELDS.get(name.lower())
        if field is not None:
            return self.field(name.lower(), field, o, text, op, val)
        if o == ":":
            o = "="
        section = None
        if name.startswith("config.") and len(name) > 7:
            section, name = "config", name[7:]
        elif name.startswith("summary.") and len(name) > 8:
            section, name = "summary", name[8:]
        num = _number(text) if val.kind == "word" else None
        if num is not None:
            cond = f"kv.num {o} ?"
            arg: Any = num
        elif o in ("=", "!="):
            cond = f"lower(kv.txt) {o} ?"
            arg = text.lower()
        else:
            cond = f"kv.txt {o} ?"
            arg = text
        tables = ["config_kv", "summary_kv"] if section is None else [f"{section}_kv"]
        parts = []
        for t in tables:
            parts.append(
                f"EXISTS (SELECT 1 FROM {t} kv WHERE kv.rid = r.rid AND kv.key = ? AND {cond})"
            )
            self.params += [name, arg]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def field(self, name: str, col: str, o: str, text: str, op: _Tok, val: _Tok) -> str:
        if o not in (":", "=", "!="):
            raise FilterError(
                f"filter: operator {quoted(o, 40)} does not apply to {quoted(name, 40)} at {op.pos}"
            )
        neg = o == "!="
        if name == "state":
            if text.lower() not in layout.STATES:
                raise FilterError(
                    f"filter: unknown state {quoted(text, 40)} at {val.pos} (one of {', '.join(layout.STATES)})"
                )
            self.params.append(text.lower())
            sql = "r.state = ?"
        elif col == "tags":
            self.params.append(text.lower())
            sql = "list_contains(list_transform(r.tags, lambda t: lower(t)), ?)"
        elif name == "name":
            self.params.append(text.lower())
            sql = "contains(lower(r.name), ?)" if o == ":" else "lower(r.name) = ?"
        elif name == "id":
            self.params.append(text)
            sql = "starts_with(r.id, ?)" if o == ":" else "r.id = ?"
        elif name == "source" and text.lower() == "trackui":
            sql = f"{col} IS NULL"
        else:
            self.params.append(text.lower())
            sql = f"lower(coalesce({col}, '')) = ?"
        return f"(NOT {sql})" if neg else sql


def compile_filter(text: str) -> tuple[str, list[Any]]:
    """Compile a filter to a SQL condition over ``runs r`` and its parameters.

    Args:
        text: The filter as typed; empty matches every run.

    Returns:
        ``(condition, params)``: the condition uses ``?`` placeholders only.

    Raises:
        FilterError: The filter is malformed (one-line message with a column).
    """
    p = _Parser(text)
    sql = p.parse()
    return sql, p.params


def matching_ids(cur: Any, sql: str, params: list[Any]) -> set[str]:
    """The ids of the runs a compiled filter selects, on a cursor of the index.

    Raises:
        FilterError: DuckDB cannot evaluate it (one line).
    """
    try:
        got = cur.execute(f"SELECT id FROM runs r WHERE {sql}", params)
        return {r[0] for r in got.fetchall()}
    except Exception as e:
        raise FilterError(f"filter: cannot evaluate ({' '.join(str(e).split())[:120]})") from e
