"""``method: bayes``: the next parameters from Optuna's TPE sampler, given the trials so far.

Optuna is the optional extra ``sweeps`` (``pip install 'trackui[sweeps]'``),
imported only when a bayes sweep runs. Parameters Optuna has a distribution
for (``categorical`` of plain values, ``int_uniform``, ``uniform``,
``log_uniform_values``, ``q_uniform``) are proposed by TPE; the others are
drawn at random from their distribution, and ``constant`` stays constant.
"""

from __future__ import annotations

import random
from typing import Any

from trackui import sweep_config

INSTALL = "pip install 'trackui[sweeps]'"


def require() -> None:
    """Raise a one-line error naming the extra when Optuna is missing."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise RuntimeError(f"trackui: a bayes sweep needs Optuna: {INSTALL}") from None


def _distribution(optuna: Any, spec: dict[str, Any]) -> Any:
    d = optuna.distributions
    dist = sweep_config.distribution(spec)
    if dist == "categorical":
        values = spec["values"]
        if all(v is None or isinstance(v, (bool, int, float, str)) for v in values):
            return d.CategoricalDistribution(values)
    elif dist == "int_uniform":
        return d.IntDistribution(int(spec["min"]), int(spec["max"]))
    elif dist == "uniform":
        return d.FloatDistribution(float(spec["min"]), float(spec["max"]))
    elif dist == "log_uniform_values":
        return d.FloatDistribution(float(spec["min"]), float(spec["max"]), log=True)
    elif dist == "q_uniform":
        lo, hi, q = float(spec["min"]), float(spec["max"]), float(spec.get("q", 1))
        if abs(((hi - lo) / q) - round((hi - lo) / q)) < 1e-9:
            return d.FloatDistribution(lo, hi, step=q)
    return None


def propose(
    params: dict[str, Any], trials: list[dict[str, Any]], maximize: bool, rng: random.Random
) -> dict[str, Any]:
    """The next flat parameters, TPE having seen every trial that has a metric."""
    require()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    flat = sweep_config.flat_parameters(params)
    dists = {n: x for n, s in flat.items() if (x := _distribution(optuna, s)) is not None}
    study = optuna.create_study(
        direction="maximize" if maximize else "minimize",
        sampler=optuna.samplers.TPESampler(seed=rng.randrange(1 << 31)),
    )
    for t in trials:
        if not isinstance(t.get("metric"), (int, float)):
            continue
        known = {n: t["params"][n] for n in dists if n in t["params"]}
        try:
            study.add_trial(
                optuna.trial.create_trial(
                    params=known,
                    distributions={n: dists[n] for n in known},
                    value=float(t["metric"]),
                )
            )
        except ValueError:
            continue  # a value outside the (edited) distribution
    asked = study.ask(dists)
    return {
        n: asked.params[n] if n in dists else sweep_config.draw(spec, rng)
        for n, spec in flat.items()
    }
