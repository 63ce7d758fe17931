"""The Hugging Face Trainer logging to trackui: a tiny GPT-2 on the CPU, no downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from fwhelpers import only_run, records, runs_under, series  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments  # noqa: E402

import trackui  # noqa: E402
import trackui.integrations.transformers as hf  # noqa: E402


class Tokens(torch.utils.data.Dataset):  # type: ignore[misc]
    """Random token sequences: the model learns their (uniform) distribution."""

    def __init__(self, n: int, seq: int = 16, vocab: int = 64, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, vocab, (n, seq), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def tiny_model() -> Any:
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=64, n_positions=32, n_embd=16, n_layer=2, n_head=2)
    return GPT2LMHeadModel(cfg)


def make_trainer(out: Path, callbacks: list[Any] | None = None, **kw: Any) -> Any:
    options: dict[str, Any] = {
        "max_steps": 6,
        "per_device_train_batch_size": 4,
        "per_device_eval_batch_size": 8,
        "learning_rate": 3e-3,
        "logging_steps": 2,
        "eval_strategy": "steps",
        "eval_steps": 3,
        "save_strategy": "no",
        "use_cpu": True,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }
    args = TrainingArguments(output_dir=str(out), **{**options, **kw})
    return Trainer(
        model=tiny_model(),
        args=args,
        train_dataset=Tokens(48),
        eval_dataset=Tokens(16, seed=1),
        callbacks=callbacks,
    )


def check_trainer_history(info: Any) -> None:
    loss = series(info, "train/loss")
    assert [s for s, _ in loss] == [2, 4, 6], loss
    assert all(0 < v < 10 for _, v in loss)
    steps = series(info, "train/global_step")
    assert {s for s, _ in steps} == {2, 3, 4, 6}
    assert all(s == v for s, v in steps), "history step is the optimizer step"
    evals = series(info, "eval/loss")
    assert [s for s, _ in evals] == [3, 6], evals
    assert series(info, "train/learning_rate"), "the learning rate is logged"
    for r in records(info):
        assert not any(k in r.metrics for k in ("train/train_runtime", "train/train_loss"))


def test_report_to_name_is_registered() -> None:
    from transformers.integrations import integration_utils

    assert integration_utils.INTEGRATION_TO_CALLBACK["trackui"] is hf.TrackuiCallback
    assert integration_utils.get_reporting_integration_callbacks("trackui") == [hf.TrackuiCallback]


def test_report_to_starts_and_finishes_its_own_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "runs"
    monkeypatch.setenv("TRACKUI_DIR", str(root))
    monkeypatch.setenv("TRACKUI_PROJECT", "tiny-gpt")
    trainer = make_trainer(tmp_path / "out", report_to="trackui", run_name="[bold]lr-3e-3")
    assert any(isinstance(cb, hf.TrackuiCallback) for cb in trainer.callback_handler.callbacks)
    trainer.train()

    assert trackui.run is None, "the callback's own run is finished and no longer current"
    info = only_run(root)
    assert info.state == "finished"
    assert info.name == "[bold]lr-3e-3"
    assert info.meta["project"] == "tiny-gpt"
    cfg = info.config
    assert cfg["learning_rate"] == pytest.approx(3e-3)
    assert cfg["per_device_train_batch_size"] == 4
    assert cfg["total_train_batch_size"] == 4
    assert cfg["num_train_epochs"] == 3.0
    assert cfg["max_steps"] == 6
    assert cfg["eval_strategy"] == "steps"
    assert "output_dir" not in cfg and "report_to" not in cfg
    assert cfg["model"]["n_layer"] == 2 and cfg["model"]["vocab_size"] == 64
    assert cfg["model"]["class"] == "GPT2LMHeadModel"
    assert cfg["model"]["num_parameters"] > 0
    assert info.meta["metrics"]["train/*"]["step_metric"] == "train/global_step"
    check_trainer_history(info)
    assert info.summary["train_runtime"] > 0
    assert 0 < info.summary["train_loss"] < 10
    assert info.summary["train/global_step"] == 6


def test_user_run_is_used_and_left_open(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    # The seed snippet of the usual wandb + Hugging Face tutorial, as written.
    wandb = trackui
    wandb.login()
    run = wandb.init(
        project="gpt-3", run_name="gpt-3-base-high-lr", dir=root, config={"note": "mine"}
    )
    trainer = make_trainer(tmp_path / "out", report_to="trackui")
    trainer.train()
    metrics = trainer.evaluate()
    assert metrics["eval_loss"] > 0

    assert trackui.run is run, "the user's run stays current"
    info = only_run(root)
    assert info.state == "running", "the callback does not finish a run it did not start"
    assert info.name == "gpt-3-base-high-lr" and info.meta["project"] == "gpt-3"
    assert info.config["note"] == "mine"
    assert info.config["learning_rate"] == pytest.approx(3e-3)
    assert info.config["model"]["n_head"] == 2
    check_trainer_history_with_final_eval(info)

    run.log({"after": 1.0})
    run.finish()
    info = only_run(root)
    assert info.state == "finished"
    # log(step=6) leaves step 6 open, as in wandb: the next log() without a step joins it.
    assert series(info, "after") == [(6, 1.0)]


def check_trainer_history_with_final_eval(info: Any) -> None:
    evals = series(info, "eval/loss")
    assert [s for s, _ in evals] == [3, 6, 6], "evaluate() after training logs at the last step"
    assert [s for s, _ in series(info, "train/loss")] == [2, 4, 6]


def test_evaluate_after_training_reopens_the_callbacks_run(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    cb = hf.TrackuiCallback(dir=str(root), tags=["tiny"])
    trainer = make_trainer(tmp_path / "out", callbacks=[cb], report_to="none")
    trainer.train()
    assert only_run(root).state == "finished"
    trainer.evaluate()
    cb.run.finish()
    runs = runs_under(root)
    assert len(runs) == 1, "the same run is resumed, not a new one"
    info = runs[0]
    assert info.state == "finished"
    assert info.meta["tags"] == ["tiny"]
    assert info.meta["project"] == "huggingface"
    # A resumed run continues after its last step; train/global_step still says 6.
    assert [s for s, _ in series(info, "eval/loss")] == [3, 6, 7]
    assert series(info, "train/global_step")[-1] == (7, 6.0)


def test_only_the_main_process_logs(tmp_path: Path) -> None:
    from transformers import TrainerControl, TrainerState

    root = tmp_path / "runs"
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to="none")
    state = TrainerState(is_world_process_zero=False, global_step=4)
    cb = hf.TrackuiCallback(dir=str(root))
    cb.on_train_begin(args, state, TrainerControl(), model=tiny_model())
    cb.on_log(args, state, TrainerControl(), logs={"loss": 1.0})
    cb.on_train_end(args, state, TrainerControl())
    assert cb.run is None and trackui.run is None
    assert not root.exists()


def test_hyperparameter_search_makes_one_run_per_trial(tmp_path: Path) -> None:
    from transformers import TrainerControl, TrainerState

    root = tmp_path / "runs"
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), use_cpu=True, report_to="none", run_name="sweep"
    )
    cb = hf.TrackuiCallback(dir=str(root))
    model = tiny_model()
    for trial, loss in (("trial-0", 2.0), ("trial-1", 1.5)):
        state = TrainerState(is_hyper_param_search=True, trial_name=trial, global_step=5)
        cb.on_train_begin(args, state, TrainerControl(), model=model)
        cb.on_log(args, state, TrainerControl(), logs={"loss": loss, "train_loss": loss})
        cb.on_train_end(args, state, TrainerControl())
    runs = runs_under(root)
    assert sorted(r.name for r in runs) == ["trial-0", "trial-1"]
    assert {r.meta["group"] for r in runs} == {"sweep"}
    assert all(r.state == "finished" for r in runs)
    assert sorted(r.summary["train_loss"] for r in runs) == [1.5, 2.0]
    assert sorted(series(r, "train/loss")[0] for r in runs) == [(5, 1.5), (5, 2.0)]


def test_log_model_checkpoint_copies_each_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "runs"
    monkeypatch.setenv("TRACKUI_DIR", str(root))
    monkeypatch.setenv("TRACKUI_LOG_MODEL", "checkpoint")  # as WANDB_LOG_MODEL, for report_to
    trainer = make_trainer(
        tmp_path / "out",
        report_to="trackui",
        max_steps=4,
        eval_strategy="no",
        save_strategy="steps",
        save_steps=2,
        save_total_limit=1,
    )
    trainer.train()
    info = only_run(root)
    files = info.path / "files"
    assert sorted(p.name for p in files.iterdir()) == ["checkpoint-2", "checkpoint-4"]
    assert not (tmp_path / "out" / "checkpoint-2").exists(), (
        "the Trainer pruned it; the run kept it"
    )
    for step in (2, 4):
        saved = files / f"checkpoint-{step}"
        assert (saved / "config.json").is_file()
        assert (saved / "model.safetensors").stat().st_size > 1000
        assert (saved / "trainer_state.json").is_file()


def test_log_model_end_saves_the_final_model(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    cb = hf.TrackuiCallback(dir=str(root), log_model="end")
    trainer = make_trainer(
        tmp_path / "out", callbacks=[cb], report_to="none", max_steps=2, eval_strategy="no"
    )
    trainer.train()
    info = only_run(root)
    model_dir = info.path / "files" / "model"
    assert (model_dir / "config.json").is_file()
    reloaded = GPT2LMHeadModel.from_pretrained(model_dir)
    trained = trainer.model.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in reloaded.state_dict().items())


def test_bad_log_model_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="log_model must be 'end', 'checkpoint' or 'false'"):
        hf.TrackuiCallback(log_model="always")
