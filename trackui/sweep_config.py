"""Sweep configurations in wandb's format: checking them, their grid, random draws, names.

A configuration is a dict (or YAML read into one)::

    {"method": "grid" | "random" | "bayes",
     "metric": {"name": "val/loss", "goal": "minimize"},
     "parameters": {"lr": {"min": 1e-4, "max": 1e-1, "distribution": "log_uniform_values"},
                    "optimizer": {"values": ["sgd", "adam"]},
                    "epochs": {"value": 5},
                    "model": {"parameters": {"width": {"values": [64, 128]}}}},
     "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3}}

A parameter without ``distribution`` is ``constant`` (``value``),
``categorical`` (``values``), ``int_uniform`` (integer ``min``/``max``) or
``uniform`` (other ``min``/``max``), as in wandb. Nested ``parameters`` give
nested config values.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from typing import Any

DISTRIBUTIONS = (
    "constant",
    "categorical",
    "int_uniform",
    "uniform",
    "q_uniform",
    "log_uniform",
    "log_uniform_values",
    "q_log_uniform",
    "q_log_uniform_values",
    "inv_log_uniform",
    "inv_log_uniform_values",
    "normal",
    "q_normal",
    "log_normal",
    "q_log_normal",
    "beta",
)
METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")


class SweepConfigError(ValueError):
    """A sweep configuration that cannot be run, with what is wrong in it."""


def distribution(spec: dict[str, Any]) -> str:
    """A parameter's distribution, given or inferred as wandb infers it."""
    if "distribution" in spec:
        return str(spec["distribution"])
    if "value" in spec:
        return "constant"
    if "values" in spec:
        return "categorical"
    if "min" in spec and "max" in spec:
        ints = all(
            isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in ("min", "max")
        )
        return "int_uniform" if ints else "uniform"
    if "mu" in spec or "sigma" in spec:
        return "normal"
    raise SweepConfigError(f"cannot tell the distribution of {spec!r}")


def flat_parameters(params: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """``{"a.b": spec}`` for every leaf parameter (nested ``parameters`` joined by ``.``)."""
    out: dict[str, dict[str, Any]] = {}
    for name, spec in params.items():
        if not isinstance(spec, dict):
            raise SweepConfigError(f"parameter {prefix + name!r}: expected a dict, got {spec!r}")
        if "parameters" in spec and "distribution" not in spec:
            out.update(flat_parameters(spec["parameters"], f"{prefix}{name}."))
        else:
            out[prefix + name] = spec
    return out


def check(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration, checked; raises SweepConfigError naming what is wrong."""
    if not isinstance(config, dict):
        raise SweepConfigError(f"a sweep configuration is a dict, not {type(config).__name__}")
    method = config.get("method")
    if method not in METHODS:
        raise SweepConfigError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    params = config.get("parameters")
    if not isinstance(params, dict) or not params:
        raise SweepConfigError("a sweep needs a non-empty 'parameters' dict")
    for name, spec in flat_parameters(params).items():
        dist = distribution(spec)
        if dist not in DISTRIBUTIONS:
            raise SweepConfigError(f"parameter {name!r}: unknown distribution {dist!r}")
        if dist == "categorical" and not (isinstance(spec.get("values"), list) and spec["values"]):
            raise SweepConfigError(f"parameter {name!r}: 'values' must be a non-empty list")
        if method == "grid" and dist not in ("constant", "categorical", "int_uniform"):
            raise SweepConfigError(
                f"parameter {name!r}: a grid takes 'value', 'values' or int_uniform, not {dist}"
            )
    metric = config.get("metric")
    if metric is not None:
        if not isinstance(metric, dict) or not metric.get("name"):
            raise SweepConfigError("'metric' must be a dict with a 'name'")
        if metric.get("goal", "minimize") not in GOALS:
            raise SweepConfigError(f"metric goal must be minimize or maximize: {metric!r}")
    elif method == "bayes":
        raise SweepConfigError("a bayes sweep needs a 'metric' to optimise")
    et = config.get("early_terminate")
    if et is not None and (not isinstance(et, dict) or et.get("type") != "hyperband"):
        raise SweepConfigError(f"early_terminate: only type 'hyperband' is supported: {et!r}")
    return config


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}``: the config a run gets."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def _axis(spec: dict[str, Any]) -> list[Any]:
    dist = distribution(spec)
    if dist == "constant":
        return [spec["value"]]
    if dist == "int_uniform":
        return list(range(int(spec["min"]), int(spec["max"]) + 1))
    return list(spec["values"])


def grid(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the parameters' values, the first parameter varying slowest.

    Values are flat (``{"a.b": v}``); ``nest`` gives the config.
    """
    flat = flat_parameters(params)
    names = list(flat)
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(_axis(flat[n]) for n in names))
    ]


def _q(x: float, spec: dict[str, Any]) -> float:
    q = spec.get("q", 1)
    v = round(x / q) * q
    return int(v) if isinstance(q, int) else v


def draw(spec: dict[str, Any], rng: random.Random) -> Any:
    """One value of a parameter, drawn from its distribution."""
    dist = distribution(spec)
    lo, hi = spec.get("min"), spec.get("max")
    mu, sigma = spec.get("mu", 0.0), spec.get("sigma", 1.0)
    if dist == "constant":
        return spec["value"]
    if dist == "categorical":
        values, weights = spec["values"], spec.get("probabilities")
        return rng.choices(values, weights=weights)[0] if weights else rng.choice(values)
    if dist == "int_uniform":
        return rng.randint(int(lo), int(hi))
    if dist == "uniform":
        return rng.uniform(lo, hi)
    if dist == "q_uniform":
        return _q(rng.uniform(lo, hi), spec)
    if dist == "log_uniform":  # min and max are natural logs
        return math.exp(rng.uniform(lo, hi))
    if dist == "log_uniform_values":
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if dist == "q_log_uniform":
        return _q(math.exp(rng.uniform(lo, hi)), spec)
    if dist == "q_log_uniform_values":
        return _q(math.exp(rng.uniform(math.log(lo), math.log(hi))), spec)
    if dist == "inv_log_uniform":
        return 1.0 / math.exp(rng.uniform(lo, hi))
    if dist == "inv_log_uniform_values":
        return 1.0 / math.exp(rng.uniform(math.log(1.0 / hi), math.log(1.0 / lo)))
    if dist == "normal":
        return rng.gauss(mu, sigma)
    if dist == "q_normal":
        return _q(rng.gauss(mu, sigma), spec)
    if dist == "log_normal":
        return math.exp(rng.gauss(mu, sigma))
    if dist == "q_log_normal":
        return _q(math.exp(rng.gauss(mu, sigma)), spec)
    if dist == "beta":
        return rng.betavariate(spec.get("a", 1.0), spec.get("b", 1.0))
    raise SweepConfigError(f"unknown distribution {dist!r}")


def random_point(params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One random draw of every parameter (flat names)."""
    return {name: draw(spec, rng) for name, spec in flat_parameters(params).items()}


def label(point: dict[str, Any]) -> str:
    """A run name from its parameters: ``lr=0.01,optimizer=adam``."""
    return ",".join(f"{k}={_short(v)}" for k, v in point.items())


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def hyperband_steps(et: dict[str, Any]) -> list[int]:
    """The iterations at which hyperband compares runs (wandb's brackets)."""
    eta = float(et.get("eta", 3))
    s = int(et.get("s", 0) or 0)
    if et.get("max_iter") is not None:
        top = float(et["max_iter"])
        s = s or 2
        steps = [round(top / eta**k) for k in range(s, 0, -1)]
    else:
        low = int(et.get("min_iter", 3))
        s = s or 3
        steps = [round(low * eta**k) for k in range(s)]
    return sorted({max(1, x) for x in steps})


def points(config: dict[str, Any], rng: random.Random) -> Iterator[dict[str, Any]]:
    """Random draws for ever (a random sweep)."""
    while True:
        yield random_point(config["parameters"], rng)
