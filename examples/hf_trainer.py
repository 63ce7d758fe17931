"""Hugging Face Trainer logging to trackui, as in the wandb tutorial.

Two changes from the wandb version: ``import trackui as wandb`` and the
import that registers ``report_to="trackui"``. The model is a tiny GPT-2 built
from a config and the data is random tokens, so nothing is downloaded.

    python examples/hf_trainer.py && trackui
"""

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

import trackui as wandb
import trackui.integrations.transformers  # noqa: F401  (makes report_to="trackui" work)

wandb.login()
# Optional: without it the Trainer starts a run named after `run_name`.
wandb.init(project="gpt-3", run_name="gpt-3-base-high-lr", config={"dataset": "random-tokens"})


class RandomTokens(torch.utils.data.Dataset):
    def __init__(self, n, seq=32, vocab=128, seed=0):
        self.ids = torch.randint(0, vocab, (n, seq), generator=torch.Generator().manual_seed(seed))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


model = GPT2LMHeadModel(GPT2Config(vocab_size=128, n_positions=64, n_embd=32, n_layer=2, n_head=2))
args = TrainingArguments(
    output_dir="hf-out",
    report_to="trackui",
    learning_rate=1e-3,
    per_device_train_batch_size=8,
    max_steps=20,
    logging_steps=5,
    eval_strategy="steps",
    eval_steps=10,
    save_strategy="no",
    use_cpu=not torch.cuda.is_available(),
)
trainer = Trainer(
    model=model, args=args, train_dataset=RandomTokens(160), eval_dataset=RandomTokens(32, seed=1)
)
trainer.train()
wandb.finish()
