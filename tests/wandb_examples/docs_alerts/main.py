# The calls of W&B's alerts guide (docs.wandb.ai/guides/runs/alert), assembled into one script.
from datetime import timedelta

import wandb
from wandb import AlertLevel

run = wandb.init()
acc = 0.5
threshold = 0.8
if acc < threshold:
    run.alert(
        title="Low accuracy",
        text=f"Accuracy {acc} is below the acceptable threshold {threshold}",
        level=AlertLevel.WARN,
        wait_duration=300,
    )
wandb.alert(title="Low accuracy", text="dropped: same title within 300 s")
wandb.alert(title="Training finished", text="done", wait_duration=timedelta(minutes=5))
run.finish()
print("alerts ok")
