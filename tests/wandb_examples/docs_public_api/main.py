# The calls of W&B's public API guide (docs.wandb.ai/guides/track/public-api-guide), assembled
# into one script over runs logged first.
import wandb

for lr in (0.1, 0.01):
    for name in ("foo", "bar"):
        run = wandb.init(project="project", config={"lr": lr, "experiment_name": name})
        for i in range(10):
            wandb.log({"loss": lr / (i + 1), "accuracy": i / 10 + lr})
        run.finish()

api = wandb.Api()
runs = api.runs("entity/project")
summary_list, config_list, name_list = [], [], []
for run in runs:
    summary_list.append(run.summary._json_dict)
    config_list.append({k: v for k, v in run.config.items() if not k.startswith("_")})
    name_list.append(run.name)
assert len(name_list) == 4

runs = api.runs(
    "entity/project",
    {"$or": [{"config.experiment_name": "foo"}, {"config.experiment_name": "bar"}]},
)
assert len(runs) == 4
runs = api.runs(path="entity/project", filters={"display_name": {"$regex": "^.*"}})
runs = api.runs("entity/project", order="+summary_metrics.accuracy")
assert runs[0].summary["accuracy"] <= runs[-1].summary["accuracy"]

run = api.run(f"entity/project/{runs[0].id}")
if run.state == "finished":
    history = run.scan_history()
    losses = [row["loss"] for row in history]
    assert len(losses) == 10
    for row in run.history(pandas=False):
        print(row["_timestamp"], row["accuracy"])
print("public api ok")
