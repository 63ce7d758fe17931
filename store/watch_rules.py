"""Watch rules of the user's own: the filter language over a run's records, and where they are kept.

A rule is written in the run filter language (``store.filter``, ``docs/filters.md``)
and read against one history record at a time (``store.watches`` says when):

* a key is the record's metric of that name, else the run's last logged value
  of it, else its config key (``config.`` and ``summary.`` pick one, as in a
  filter); ``step`` is the record's step (unless the run logs a metric of that name);
* fields (``state:``, ``tag:``, ``group:``...) and free words are the run's, as in a filter.

A rule must compare at least one metric (``loss > 10``): it is looked at only
on records that hold one of its metrics, so a record costs nothing for rules
that name none of its metrics. ``check_rule`` gives the filter parser's
one-line errors (with a column) and that one.

The rules of a root are kept in ``<root>/.trackui/watches.json`` with the
bell setting (``load_settings`` / ``save_settings``); a read-only root keeps
them for the session only.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trackui.store.filter import (
    _FIELDS,
    FilterError,
    _number,
    _Tok,
    _tokenize,
    compile_filter,
)
from trackui.store.layout import CACHE_DIR
from trackui.store.text import quoted
from trackui.store.writer import write_atomic

WATCHES_FILE = "watches.json"
"""The rules and the bell setting of a root, in its cache folder."""
STEP_KEY = "step"

__all__ = ["FilterError", "Rule", "WatchSettings", "check_rule", "load_settings", "parse_rule"]


class RunContext:
    """What a rule reads besides the record: the run's fields, last values and config."""

    def __init__(self, meta: Mapping[str, Any], config: Mapping[str, Any], last: dict[str, float]):
        self.meta = meta
        self.config = config
        """Flat config keys (``store.models.flatten``)."""
        self.last = last
        """The run's last logged value of each metric (the record's values included)."""

    def field(self, name: str) -> Any:
        key = {"group": "group", "tags": "tags", "tag": "tags"}.get(name, name)
        return self.meta.get(key)


_Pred = Callable[[int, Mapping[str, float], RunContext], bool]

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _text_of(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _num_of(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return None


class _Compiler:
    """The filter grammar again, building a Python predicate instead of SQL
    (the text is checked by ``compile_filter`` first: no error is raised here
    that the filter parser would not raise)."""

    def __init__(self, src: str) -> None:
        self.toks = _tokenize(src)
        self.i = 0
        self.metrics: list[str] = []

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def kw(self, tok: _Tok | None, word: str) -> bool:
        return tok is not None and tok.kind == "word" and tok.text.lower() == word

    def or_expr(self) -> _Pred:
        parts = [self.and_expr()]
        while self.kw(self.peek(), "or"):
            self.i += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else lambda s, m, c: any(p(s, m, c) for p in parts)

    def and_expr(self) -> _Pred:
        parts = [self.unary()]
        while True:
            tok = self.peek()
            if tok is None or tok.kind == "rp" or self.kw(tok, "or"):
                break
            if self.kw(tok, "and"):
                self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else lambda s, m, c: all(p(s, m, c) for p in parts)

    def unary(self) -> _Pred:
        if self.kw(self.peek(), "not"):
            self.i += 1
            inner = self.unary()
            return lambda s, m, c: not inner(s, m, c)
        return self.atom()

    def atom(self) -> _Pred:
        tok = self.toks[self.i]
        self.i += 1
        if tok.kind == "lp":
            inner = self.or_expr()
            self.i += 1  # ')'
            return inner
        nxt = self.peek()
        if tok.kind == "word" and nxt is not None and nxt.kind == "op":
            op, val = nxt, self.toks[self.i + 1]
            self.i += 2
            return self.compare(tok.text, op.text, val)
        word = tok.text.lower()
        return lambda s, m, c: (
            word in str(c.meta.get("name") or "").lower()
            or str(c.meta.get("id") or "").startswith(tok.text)
        )

    def compare(self, name: str, op: str, val: _Tok) -> _Pred:
        o = "=" if op in ("==", ":") else op
        text = val.text
        if name.lower() in _FIELDS:
            return self.field(name.lower(), op, text)
        section = None
        if name.startswith("config.") and len(name) > 7:
            section, name = "config", name[7:]
        elif name.startswith("summary.") and len(name) > 8:
            section, name = "summary", name[8:]
        if section != "config" and name != STEP_KEY:
            self.metrics.append(name)
        num = _number(text) if val.kind == "word" else None
        cmp = _CMP[o]
        lowered = text.lower()

        def value(step: int, rec: Mapping[str, float], ctx: RunContext) -> Any:
            if section != "config":
                if name in rec:
                    return rec[name]
                if name in ctx.last:
                    return ctx.last[name]
                if name == STEP_KEY and section is None:
                    return step
            if section != "summary":
                return ctx.config.get(name)
            return None

        def pred(step: int, rec: Mapping[str, float], ctx: RunContext) -> bool:
            v = value(step, rec, ctx)
            if v is None:
                return False  # a key the run lacks never matches, != included
            if num is not None:
                x = _num_of(v)
                return x is not None and not math.isnan(x) and cmp(x, num)
            if o in ("=", "!="):
                return cmp(_text_of(v).lower(), lowered)
            return cmp(_text_of(v), text)

        return pred

    def field(self, name: str, op: str, text: str) -> _Pred:
        neg = op == "!="
        want = text.lower()

        def pred(step: int, rec: Mapping[str, float], ctx: RunContext) -> bool:
            v = ctx.field(name)
            if name in ("tag", "tags"):
                hit = want in [str(t).lower() for t in (v or [])]
            elif name == "name":
                s = str(v or "").lower()
                hit = want in s if op == ":" else s == want
            elif name == "id":
                s = str(v or "")
                hit = s.startswith(text) if op == ":" else s == text
            else:
                hit = str(v or "").lower() == want
            return hit != neg

        return pred


@dataclass(frozen=True)
class Rule:
    """A user's watch rule: its text, the metrics it names, and its test of one record."""

    text: str
    metrics: frozenset[str]
    test: _Pred = field(compare=False, repr=False)

    def holds(self, step: int, record: Mapping[str, float], ctx: RunContext) -> bool:
        """Whether the rule holds on a record (``ctx.last`` already holds its values)."""
        try:
            return bool(self.test(step, record, ctx))
        except (TypeError, ValueError):
            return False


def parse_rule(text: str) -> Rule:
    """A rule from its text.

    Raises:
        FilterError: The text is not a filter, or compares no metric (one line).
    """
    text = text.strip()
    if not text:
        raise FilterError("watch: empty rule (e.g. loss > 10)")
    compile_filter(text)  # the filter parser's own errors, with their columns
    c = _Compiler(text)
    test = c.or_expr()
    if not c.metrics:
        raise FilterError(f"watch: {quoted(text, 40)} compares no metric (e.g. loss > 10)")
    return Rule(text, frozenset(c.metrics), test)


def check_rule(text: str) -> str | None:
    """None for a good rule, else the one-line error."""
    try:
        parse_rule(text)
    except FilterError as e:
        return str(e)
    return None


@dataclass
class WatchSettings:
    """What a root keeps about its watches: the user's rules and the terminal bell."""

    rules: list[str] = field(default_factory=list)
    bell: bool = True
    """Ring the terminal bell on each new firing (on by default: see docs/watches.md)."""


def settings_path(root: Path) -> Path:
    return Path(root) / CACHE_DIR / WATCHES_FILE


def load_settings(root: Path) -> WatchSettings:
    """The root's watch settings (defaults when missing or damaged; bad rules dropped)."""
    try:
        data = json.loads(settings_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return WatchSettings()
    if not isinstance(data, dict):
        return WatchSettings()
    rules = data.get("rules")
    good = [r for r in rules if isinstance(r, str) and check_rule(r) is None] if isinstance(
        rules, list
    ) else []  # fmt: skip
    bell = data.get("bell")
    return WatchSettings(list(dict.fromkeys(good)), bell if isinstance(bell, bool) else True)


def save_settings(root: Path, settings: WatchSettings) -> bool:
    """Write them atomically; False (nothing raised) where the root is read-only."""
    path = settings_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"rules": settings.rules, "bell": settings.bell}
        write_atomic(path, json.dumps(body, indent=1).encode(), sync=False)
    except OSError:
        return False
    return True
