"""Hugging Face Transformers: log a ``Trainer`` to trackui.

Importing this module registers ``"trackui"`` as a ``report_to`` name, so the
one-line change from wandb is::

    import trackui.integrations.transformers  # noqa: F401
    args = TrainingArguments(..., report_to="trackui", run_name="base-high-lr")

``Trainer(..., callbacks=[TrackuiCallback()])`` works too. The callback logs
into the run the script started with ``trackui.init(...)`` when there is one
(and leaves it open), and otherwise starts a run of its own, named from
``TrainingArguments.run_name``, in the project ``$TRACKUI_PROJECT`` (default
``huggingface``), and finishes it when training ends.

``log_model`` (or ``$TRACKUI_LOG_MODEL``, as ``WANDB_LOG_MODEL`` for wandb)
copies model files into the run's ``files/``: ``"checkpoint"`` each
checkpoint the Trainer saves, ``"end"`` the final model.
"""

from __future__ import annotations

import dataclasses
import glob
import math
import os
import tempfile
from enum import Enum
from pathlib import Path
from typing import Any

from trackui.integrations import default_project, plain, reopen, require, scalars

_transformers = require("transformers", "transformers", "trackui.integrations.transformers")
from transformers import TrainerCallback  # noqa: E402

__all__ = ["TrackuiCallback", "training_config"]

NAME = "trackui"
"""The ``report_to`` name this module registers."""

STEP_METRIC = "train/global_step"

# What HF logs once, at the end of training: summary values, not curves.
_LOG_MODEL = ("false", "end", "checkpoint")

_SUMMARY_KEYS = (
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "train_loss",
    "total_flos",
)

# Training arguments that always go into the config: the ones people sort,
# filter and diff runs by. Others are added only when set away from their
# default (see ``training_config``).
CORE_ARGS = (
    "learning_rate",
    "per_device_train_batch_size",
    "per_device_eval_batch_size",
    "gradient_accumulation_steps",
    "num_train_epochs",
    "max_steps",
    "lr_scheduler_type",
    "warmup_steps",
    "warmup_ratio",
    "weight_decay",
    "optim",
    "adam_beta1",
    "adam_beta2",
    "adam_epsilon",
    "max_grad_norm",
    "seed",
    "fp16",
    "bf16",
    "logging_steps",
    "eval_strategy",
    "eval_steps",
)

# Where files go and how they are reported: not hyperparameters, and a diff
# of two runs should not list them.
_NOT_CONFIG = {
    "output_dir",
    "logging_dir",
    "run_name",
    "report_to",
    "project",
    "disable_tqdm",
    "accelerator_config",
    "dataloader_pin_memory",
    "debug",
}


def _comparable(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, list):
        return [_comparable(x) for x in v]
    return v


def training_config(args: Any, model: Any = None) -> dict[str, Any]:
    """The config a Trainer run records: training arguments and model config.

    Args:
        args: The ``TrainingArguments`` (or a subclass).
        model: The model being trained; its ``config`` (a ``PretrainedConfig``
            or a dict) goes under ``model``, with its parameter count.

    Returns:
        The ``CORE_ARGS`` present on ``args``, every other argument whose value
        differs from its declared default, the effective
        batch size as ``total_train_batch_size``, and ``model`` (nested).
    """
    values = args.to_dict()  # tokens are already masked by transformers
    # Defaults from the dataclass fields, not from a second TrainingArguments:
    # building one resets accelerate's process state under a running Trainer.
    defaults: dict[str, Any] = {}
    for f in dataclasses.fields(args):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = _comparable(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            try:
                defaults[f.name] = _comparable(f.default_factory())
            except Exception:  # a factory that needs more than nothing
                pass
    cfg: dict[str, Any] = {}
    for key in CORE_ARGS:
        if key in values:
            cfg[key] = _comparable(values[key])
    for key, value in values.items():
        if key in cfg or key in _NOT_CONFIG or key.endswith("_token") or key.startswith("hub_"):
            continue
        value = _comparable(value)
        default = defaults.get(key, value)
        if default is None and value in (False, [], {}, ""):
            continue  # an "unset" default that __post_init__ filled in
        if value != default:
            cfg[key] = value
    try:
        cfg["total_train_batch_size"] = (
            int(args.per_device_train_batch_size)
            * int(args.gradient_accumulation_steps)
            * int(args.world_size)
        )
    except (AttributeError, TypeError, ValueError):
        pass
    if model is not None:
        model_cfg: dict[str, Any] = {}
        mc = getattr(model, "config", None)
        if mc is not None:
            raw = mc if isinstance(mc, dict) else mc.to_dict()
            model_cfg = {
                k: plain(v)
                for k, v in raw.items()
                if not k.startswith("_") and k != "transformers_version"
            }
        model_cfg["class"] = type(model).__name__
        try:
            model_cfg["num_parameters"] = int(model.num_parameters())
        except (AttributeError, TypeError):
            pass
        cfg["model"] = model_cfg
    return cfg


def rewrite_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """HF's flat log names as trackui sections: ``eval_loss`` -> ``eval/loss``, ``loss`` -> ``train/loss``."""
    out: dict[str, Any] = {}
    for k, v in logs.items():
        if k.startswith("eval_"):
            out["eval/" + k[5:]] = v
        elif k.startswith("test_"):
            out["test/" + k[5:]] = v
        else:
            out["train/" + k] = v
    return out


class TrackuiCallback(TrainerCallback):  # type: ignore[misc]
    """A ``TrainerCallback`` that logs a Hugging Face ``Trainer`` to trackui.

    Args:
        project: Project for a run this callback starts (default:
            ``$TRACKUI_PROJECT``, else ``huggingface``).
        dir: Root for a run this callback starts (default: ``$TRACKUI_DIR``,
            else ``./trackui-runs``).
        log_model: ``"checkpoint"``: copy each checkpoint the Trainer saves
            into the run (``files/checkpoint-<step>/``); ``"end"``: save the
            final model (and its tokenizer or processor) into ``files/model/``;
            ``"false"`` (the default, or ``$TRACKUI_LOG_MODEL``): neither.
        **init_kwargs: Anything else for ``trackui.init`` (``tags``,
            ``group``, ``notes``...) when this callback starts the run.

    Only the main process (``state.is_world_process_zero``) logs.

    Raises:
        ValueError: an unknown ``log_model``.
    """

    def __init__(
        self,
        project: str | None = None,
        dir: str | None = None,
        log_model: str | bool | None = None,
        **init_kwargs: Any,
    ) -> None:
        if log_model is None:
            log_model = os.environ.get("TRACKUI_LOG_MODEL", "false")
        if isinstance(log_model, bool):
            log_model = "end" if log_model else "false"
        if not isinstance(log_model, str) or log_model.lower() not in _LOG_MODEL:
            raise ValueError(
                f"TrackuiCallback: log_model must be 'end', 'checkpoint' or 'false', not {log_model!r}"
            )
        self.log_model = log_model.lower()
        self._project = project
        self._dir = dir
        self._init_kwargs = init_kwargs
        self._run: Any = None
        self._owns_run = False
        self._initialized = False

    @property
    def run(self) -> Any:
        """The trackui run this callback logs to (None before training starts)."""
        return self._run

    # -- setup -------------------------------------------------------------

    def setup(self, args: Any, state: Any, model: Any = None) -> None:
        """Find or start the run, record the config and declare the step metric."""
        import trackui

        self._initialized = True
        if not state.is_world_process_zero:
            return
        run = trackui.run
        if run is None:
            init_kwargs = dict(self._init_kwargs)
            name = args.run_name if args.run_name and args.run_name != args.output_dir else None
            if state.trial_name is not None:  # hyperparameter search: one run per trial
                name = state.trial_name
                init_kwargs.setdefault("group", args.run_name or None)
            run = trackui.init(
                project=self._project or default_project(_project_from(args)),
                name=name,
                dir=self._dir,
                **init_kwargs,
            )
            self._owns_run = True
        else:
            self._owns_run = False
        self._run = run
        run.config.update(training_config(args, model))
        run.define_metric(STEP_METRIC)
        for section in ("train/*", "eval/*", "test/*"):
            run.define_metric(section, step_metric=STEP_METRIC)

    def _live_run(self) -> Any:
        """The run to log to; reopened if this callback finished it and more values come."""
        run = self._run
        if run is not None and run._finished and self._owns_run:
            run = self._run = reopen(run)
        return run

    # -- hooks -------------------------------------------------------------

    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
    ) -> None:
        if state.is_hyper_param_search and self._initialized:
            # A new trial: close the previous trial's run, start the next one.
            if self._owns_run and self._run is not None:
                self._run.finish()
            self._run = None
            self._initialized = False
        if not self._initialized:
            self.setup(args, state, model)

    def on_log(
        self,
        args: Any,
        state: Any,
        control: Any,
        model: Any = None,
        logs: Any = None,
        **kwargs: Any,
    ) -> None:
        if not self._initialized:
            self.setup(args, state, model)
        if not state.is_world_process_zero or self._run is None:
            return
        run = self._live_run()
        values = scalars(logs)
        summary = {k: values.pop(k) for k in _SUMMARY_KEYS if k in values}
        for k, v in summary.items():
            run.summary[k] = v
        if not values:
            return
        data = rewrite_logs(values)
        step = int(state.global_step)
        data[STEP_METRIC] = step
        # The history's step is the optimizer step, so the curves line up with
        # HF's own logs; a user's run that is already past it gets the next step.
        run.log(data, step=step if step >= run.step else None)

    def on_predict(
        self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any
    ) -> None:
        if not self._initialized:
            self.setup(args, state)
        if not state.is_world_process_zero or self._run is None:
            return
        run = self._live_run()
        values = scalars(metrics)
        if values:
            data = rewrite_logs(values)
            data[STEP_METRIC] = int(state.global_step)
            run.log(data, step=int(state.global_step) if state.global_step >= run.step else None)

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.log_model != "checkpoint" or not state.is_world_process_zero or self._run is None:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            # policy="now": the Trainer deletes old checkpoints (save_total_limit);
            # the copy in the run stays.
            self._live_run().save(
                glob.escape(str(folder)) + "/**", base_path=str(folder.parent), policy="now"
            )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self._run is None:
            return
        if self.log_model == "end":
            self._save_final_model(kwargs.get("model"), kwargs.get("processing_class"))
        best = state.best_metric
        if best is not None and isinstance(best, (int, float)) and math.isfinite(best):
            self._run.summary["best_metric"] = best
        if self._owns_run:
            self._run.finish()

    def _save_final_model(self, model: Any, processing_class: Any) -> None:
        if model is None or not hasattr(model, "save_pretrained"):
            return
        with tempfile.TemporaryDirectory(prefix="trackui-model-") as tmp:
            target = Path(tmp) / "model"
            model.save_pretrained(target)
            if processing_class is not None and hasattr(processing_class, "save_pretrained"):
                processing_class.save_pretrained(target)
            self._run.save(glob.escape(str(target)) + "/**", base_path=tmp, policy="now")


def _project_from(args: Any) -> str:
    # TrainingArguments has a `project` field (for trackio) defaulting to "huggingface".
    project = getattr(args, "project", None)
    return project if isinstance(project, str) and project else "huggingface"


def _register() -> None:
    """Make ``report_to="trackui"`` resolve to ``TrackuiCallback``."""
    from transformers.integrations import integration_utils

    integration_utils.INTEGRATION_TO_CALLBACK[NAME] = TrackuiCallback


_register()
