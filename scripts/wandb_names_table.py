"""Print the table of wandb's public names for docs/api.md (run with trackui's own Python).

Reads tests/data/wandb_public_names.json (made by scripts/wandb_public_names.py)
and trackui.wandb_names; paste the output under "Every public name of wandb".
"""

import json
from pathlib import Path

from trackui import wandb_names

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "wandb_public_names.json"
d = json.loads(DATA.read_text())
IGN_MOD = {
    "login": "nothing to log in to; returns True",
    "require": "wandb's feature switches; nothing to switch",
    "mark_preempting": "wandb tells its server; nobody to tell",
    "unwatch": "hooks stay until the model is discarded",
}
SUP_MOD = {
    "Run": "",
    "config": "the current run's config",
    "define_metric": "see below",
    "finish": "",
    "init": "see `init` and the wandb section",
    "join": "wandb's old name for `finish`",
    "log": "`log()` alone commits the step",
    "run": "the current run, None before `init`",
    "save": "",
    "setup": "keeps `settings` for later `init()` calls",
    "summary": "",
    "watch": "torch models",
    "Settings": "mode, console, silent, x_disable_stats honoured; other fields ignored",
    "teardown": "finishes open runs",
    "Api": "read-only, over the local root (see the read API)",
    "Artifact": "stored under the root, once per content",
    "alert": "kept in the run's `alerts.jsonl`, throttled by title",
    "log_artifact": "",
    "use_artifact": "",
    "log_model": "",
    "use_model": "",
    "link_model": "recorded locally",
    "Image": "arrays, tensors, PIL images, figures, files; stored as PNG under `media/`",
    "Histogram": "bins and counts in the record",
    "Table": "stored as JSON under `media/`",
    "Audio": "kept as a file with its metadata",
    "Video": "kept as a file with its metadata",
    "Html": "kept as a file",
    "Object3D": "kept as a file",
    "Molecule": "kept as a file",
    "Plotly": "kept as its JSON",
    "sweep": "stored under `<root>/sweeps/`",
    "agent": "runs trials in-process or as the sweep's program",
}
IGN_RUN = {
    "display": "notebook display of W&B's page; returns False",
    "to_html": "W&B's page as HTML; returns an empty string",
    "mark_preempting": "nobody to tell",
    "pin_config_keys": "a W&B page layout setting",
    "unwatch": "hooks stay until the model is discarded",
    "write_logs": "wandb's console hook; `output.log` has the console",
}
RUN_NOTE = {
    "dir": "the run's `files/` (saved with the run)",
    "url": "None: no web page",
    "project_url": "None",
    "sweep_url": "None",
    "path": "`entity/project/id`",
    "entity": "`entity=` if given, else the user",
    "sync_dir": "the run's own directory",
    "settings": "the run's `Settings`",
    "log_code": "copies sources to `files/code/`",
    "starting_step": "first step of this process",
    "sweep_id": "None outside a sweep",
    "offline": "`mode` was offline/dryrun",
    "config_static": "a read-only snapshot",
    "link_artifact": "recorded locally",
}


def rows(names, refused, ignored, notes, prefix):
    out = []
    for n in names:
        if n in refused:
            out.append(f"| `{prefix}{n}` | refused | {refused[n]} |")
        elif n in ignored:
            out.append(f"| `{prefix}{n}` | accepted, ignored | {ignored[n]} |")
        else:
            out.append(f"| `{prefix}{n}` | supported | {notes.get(n, '')} |")
    return "\n".join(out)


print("| name | status | notes |\n|---|---|---|")
print(rows(d["module"], wandb_names.MODULE, IGN_MOD, SUP_MOD, "wandb."))
print(rows(d["run"], wandb_names.RUN, IGN_RUN, RUN_NOTE, "Run."))
