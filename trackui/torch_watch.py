"""``run.watch(model)``: parameter and gradient norms and histograms per layer, for torch models.

As wandb does, the histograms are logged as ``parameters/<name>`` and
``gradients/<name>``; the norms beside them as ``.../<name>.norm``.

torch is looked up in ``sys.modules``, never imported: a model can only be a
``torch.nn.Module`` if the script already imported torch.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trackui.run_object import Run

_LOG_KINDS = ("gradients", "parameters", "all", None)


def watch_model(run: Run, model: Any, *, log: str | None, log_freq: int) -> None:
    """Hook ``model`` so that every ``log_freq`` forward passes its norms join the next ``log()``.

    Raises:
        TypeError: ``model`` is not a torch module.
        ValueError: a bad ``log`` or ``log_freq``.
    """
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(model, torch.nn.Module):
        raise TypeError(f"trackui.watch: expected a torch.nn.Module, not {type(model).__name__}")
    if log not in _LOG_KINDS:
        raise ValueError(
            f"trackui.watch: log must be gradients, parameters, all or None, not {log!r}"
        )
    if int(log_freq) < 1:
        raise ValueError("trackui.watch: log_freq must be at least 1")
    if log is None:
        return
    want_grads = log in ("gradients", "all")
    want_params = log in ("parameters", "all")
    state = {"calls": 0, "armed": False}
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]

    def on_forward(module: Any, args: Any) -> None:
        if not module.training:
            return
        state["calls"] += 1
        state["armed"] = state["calls"] % log_freq == 0
        if state["armed"] and want_params:
            from trackui.media.histogram import Histogram

            with torch.no_grad():
                run._add_pending(
                    {f"parameters/{n}.norm": float(p.detach().norm()) for n, p in named}
                )
                run._add_pending({f"parameters/{n}": Histogram(p) for n, p in named})

    model.register_forward_pre_hook(on_forward)
    if want_grads:
        for n, p in named:

            def on_grad(grad: Any, n: str = n) -> None:
                if state["armed"]:
                    from trackui.media.histogram import Histogram

                    run._add_pending(
                        {
                            f"gradients/{n}.norm": float(grad.detach().norm()),
                            f"gradients/{n}": Histogram(grad),
                        }
                    )

            p.register_hook(on_grad)
