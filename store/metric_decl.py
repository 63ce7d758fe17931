"""What a run's script declared about its metrics (``meta.json``'s ``metrics``), read for viewers.

``metrics`` maps a metric name, or a glob matched with ``fnmatch`` (case-sensitive), to
``{"goal", "summary", "step_metric", "hidden", ...}``; an exact name's entry applies before a
glob's. Summary keys ``<name>.<aggregate>`` (``loss.min``) read their metric's declaration.

A metric's goal (:func:`goal_of`) is what colours a delta better or worse and what
"best" means: declared, else implied by the name, else unknown.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Any

AGGREGATES = ("min", "max", "mean", "first", "last", "best")

MINIMIZE = "minimize"
MAXIMIZE = "maximize"

DOWN_WORDS = frozenset(
    [
        "loss",
        "losses",
        "error",
        "errors",
        "err",
        "perplexity",
        "ppl",
        "mse",
        "mae",
        "rmse",
        "wer",
        "cer",
        "nll",
        "time",
        "latency",
        "duration",
    ]
)
"""Words that name a metric to bring down (matched as whole words of the name's last part)."""
UP_WORDS = frozenset(
    [
        "acc",
        "accuracy",
        "f1",
        "precision",
        "recall",
        "auc",
        "auroc",
        "map",
        "bleu",
        "rouge",
        "rougel",
        "rougelsum",
        "iou",
        "miou",
        "dice",
        "reward",
        "rewards",
        "return",
        "returns",
        "r2",
        "throughput",
    ]
)
"""Words that name a metric to bring up."""

_WORD_RE = re.compile(r"[a-z0-9]+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")


def declaration(meta: dict[str, Any], name: str) -> dict[str, Any]:
    """The declared fields that apply to ``name``: its exact entry over the globs that match it."""
    decl = meta.get("metrics")
    if not isinstance(decl, dict):
        return {}
    out: dict[str, Any] = {}
    for pattern, entry in decl.items():
        if isinstance(entry, dict) and pattern != name and fnmatch.fnmatchcase(name, pattern):
            out.update(entry)
    exact = decl.get(name)
    if isinstance(exact, dict):
        out.update(exact)
    if not out and "." in name:
        base, agg = name.rsplit(".", 1)
        if agg in AGGREGATES:
            return declaration(meta, base)
    return out


def metric_goal(meta: dict[str, Any], name: str) -> str | None:
    """``"minimize"``, ``"maximize"`` or None: the declared goal, else one a lone ``summary``
    of ``min`` or ``max`` implies."""
    d = declaration(meta, name)
    goal = d.get("goal")
    if goal in (MINIMIZE, "min"):
        return MINIMIZE
    if goal in (MAXIMIZE, "max"):
        return MAXIMIZE
    summary = d.get("summary")
    kinds = {k.strip() for k in summary.split(",")} if isinstance(summary, str) else set()
    if "min" in kinds and "max" not in kinds:
        return MINIMIZE
    if "max" in kinds and "min" not in kinds:
        return MAXIMIZE
    return None


def goal_among(metas: Iterable[dict[str, Any]], name: str) -> str | None:
    """The goal the first run that declares one gives ``name`` (None when none does)."""
    for meta in metas:
        goal = metric_goal(meta, name)
        if goal is not None:
            return goal
    return None


def name_goal(name: str) -> str | None:
    """The goal a metric's name implies: ``val/loss`` down, ``val_accuracy`` up, ``lr`` None.

    Only the last part of a ``/`` path counts, split into words (``_``, ``-``,
    ``.``, camelCase); the last word that names a goal decides (``train_loss``,
    ``top1_acc``, ``rouge1``: trailing digits are dropped when the word itself
    is unknown). Whole words only: ``lossy_ratio`` and ``accumulate`` imply nothing.
    """
    last = _CAMEL_RE.sub("_", name.rsplit("/", 1)[-1]).lower()
    found: str | None = None
    for word in _WORD_RE.findall(last):
        for w in (word, word.rstrip("0123456789")):
            if w in DOWN_WORDS:
                found = MINIMIZE
                break
            if w in UP_WORDS:
                found = MAXIMIZE
                break
    return found


def goal_of(metas: Iterable[dict[str, Any]], name: str) -> str | None:
    """The goal of metric ``name`` for runs with these ``meta.json``: the one place that decides.

    What a run declared with ``define_metric`` (a goal, or a summary of ``min``
    or ``max``; the first run that declares one), else what the name implies
    (:func:`name_goal`), else None: unknown, shown neutral and never given a "best".
    """
    return goal_among(metas, name) or name_goal(name)


def step_metric(meta: dict[str, Any], name: str) -> str | None:
    """The metric ``name`` was declared to chart against (None: the step)."""
    s = declaration(meta, name).get("step_metric")
    return s if isinstance(s, str) and s and s != name else None


def is_hidden(meta: dict[str, Any], name: str) -> bool:
    """Whether ``name`` was declared ``hidden`` (charted only when the user picks it)."""
    return bool(declaration(meta, name).get("hidden"))
