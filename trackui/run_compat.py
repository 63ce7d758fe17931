"""wandb's ``Run`` members beyond logging: where the run is, what it is, its code.

``Run`` (``trackui.run_object``) takes these from ``RunCompat``. They read the
run's ``meta.json`` fields and its directory; none talks to a server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trackui.store import layout
from trackui.wandb_names import RUN, run_stand_in

CODE_DIR = "code"
"""Under ``files/``: the source files ``log_code()`` and ``save_code=True`` keep."""

MAX_CODE_FILES = 1000
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "wandb", "trackui-runs"}


class RunCompat:
    """Mixed into ``Run``: wandb's properties and calls that need no logging logic."""

    _meta: dict[str, Any]
    run_dir: Path | None
    _disabled: bool
    _scratch: str | None = None
    _resumed: bool = False
    _starting_step: int = 0
    settings: Any = None
    """The run's ``trackui.settings.Settings`` (``run.settings.x_disable_stats`` and so on)."""

    @property
    def dir(self) -> str:
        """The folder whose files are kept with the run: its ``files/`` (as wandb's
        ``run.dir``). A disabled run gets a temporary folder."""
        if self.run_dir is not None:
            return str(self.run_dir / layout.FILES_DIR)
        if self._scratch is None:
            import tempfile  # (only a disabled run needs it)

            self._scratch = tempfile.mkdtemp(prefix="trackui-disabled-")
        return self._scratch

    @property
    def url(self) -> None:
        """None: a local run has no web page (open it with ``trackui <root>``)."""
        return None

    project_url = url
    sweep_url = url

    @property
    def entity(self) -> str | None:
        """``init(entity=...)`` if given, else the user who ran it."""
        return self._meta.get("entity") or self._meta.get("user")

    @property
    def path(self) -> str:
        """``entity/project/id``, as wandb spells a run's path."""
        return f"{self.entity or 'local'}/{self._meta.get('project') or 'uncategorized'}/{self._meta['id']}"

    @property
    def start_time(self) -> float:
        """When the run started, in Unix seconds."""
        return float(self._meta.get("start_time") or 0.0)

    @property
    def resumed(self) -> bool:
        """Whether this ``init()`` reopened an existing run."""
        return self._resumed

    @property
    def offline(self) -> bool:
        """Whether ``mode`` was ``offline`` (or ``dryrun``); every run is local either way."""
        return getattr(self.settings, "mode", None) == "offline"

    @property
    def job_type(self) -> str | None:
        return self._meta.get("job_type")

    @property
    def sweep_id(self) -> str | None:
        return self._meta.get("sweep_id")

    @property
    def starting_step(self) -> int:
        """The step this process started at (after the last step of a resumed run)."""
        return self._starting_step

    @property
    def sync_dir(self) -> str | None:
        """The run's own directory (``meta.json``, ``history.jsonl``, ``files/``)."""
        return str(self.run_dir) if self.run_dir is not None else None

    @property
    def config_static(self) -> Any:
        """The config as read-only attributes, at this moment."""
        from types import SimpleNamespace

        return SimpleNamespace(**self.config.as_dict())

    def mark_preempting(self) -> None:
        """Accepted: wandb tells its server; a local run has no one to tell."""

    def unwatch(self, models: Any = None) -> None:
        """Accepted; the hooks of ``watch()`` stay until the model is discarded."""

    def pin_config_keys(self, keys: Any = None) -> None:
        """Accepted and ignored: which config keys W&B's web page shows first."""

    def display(self, height: int = 420, hidden: bool = False) -> bool:
        """Accepted: wandb shows its web page in a notebook; there is none. Returns False."""
        return False

    def to_html(self, height: int = 420, hidden: bool = False) -> str:
        """An empty string: there is no web page to embed."""
        return ""

    def write_logs(self, *args: Any, **kwargs: Any) -> None:
        """Accepted and ignored (wandb's internal console hook; ``output.log`` has it)."""

    def log_code(
        self,
        root: str | os.PathLike[str] | None = ".",
        name: str | None = None,
        include_fn: Callable[..., bool] | None = None,
        exclude_fn: Callable[..., bool] | None = None,
    ) -> list[str]:
        """Copy the source files under ``root`` (``*.py`` unless ``include_fn`` says
        otherwise) into ``files/code/``, keeping their paths.

        Hidden folders, virtual environments, ``__pycache__`` and run roots are
        skipped, as are more than 1000 files. Returns the copies' paths (wandb
        returns an Artifact; there is none here).
        """
        writer = getattr(self, "_writer", None)
        if self._disabled or writer is None:
            return []
        base = Path(root if root is not None else ".").resolve()
        out: list[str] = []
        for path in _source_files(base, include_fn, exclude_fn):
            dest = writer.copy_in(path, Path(CODE_DIR) / path.relative_to(base))
            if dest is not None:
                out.append(str(dest))
            if len(out) >= MAX_CODE_FILES:
                break
        return out

    # -- artifacts and alerts (trackui.artifact_log, trackui.alerts) ---------

    def log_artifact(self, artifact_or_path: Any, *args: Any, **kw: Any) -> Any:
        """Store an artifact as this run's output (see ``trackui.artifact_log``)."""
        from trackui import artifact_log

        return artifact_log.log_artifact(self, artifact_or_path, *args, **kw)

    def use_artifact(self, artifact_or_name: Any, *args: Any, **kw: Any) -> Any:
        """A stored artifact version as this run's input (see ``trackui.artifact_log``)."""
        from trackui import artifact_log

        return artifact_log.use_artifact(self, artifact_or_name, *args, **kw)

    def link_artifact(self, artifact: Any, target_path: str, aliases: Any = None) -> Any:
        from trackui import artifact_log

        return artifact_log.link_artifact(self, artifact, target_path, aliases)

    def log_model(self, path: Any, name: str | None = None, aliases: Any = None) -> Any:
        from trackui import artifact_log

        return artifact_log.log_model(self, path, name, aliases)

    def use_model(self, name: str) -> str:
        from trackui import artifact_log

        return artifact_log.use_model(self, name)

    def link_model(self, path: Any, registered_model_name: str, *args: Any, **kw: Any) -> Any:
        from trackui import artifact_log

        return artifact_log.link_model(self, path, registered_model_name, *args, **kw)

    def alert(self, title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
        """Record an alert in the run, throttled by title (see ``trackui.alerts``)."""
        from trackui.alerts import alert

        alert(self, title, text, level, wait_duration)

    def _save_main_script(self) -> None:
        """``init(save_code=True)``: keep the script that started the run."""
        writer = getattr(self, "_writer", None)
        script = sys.argv[0] if sys.argv else ""
        if writer is None or not script.endswith(".py") or not os.path.isfile(script):
            return
        writer.copy_in(Path(script), Path(CODE_DIR) / Path(script).name)


def _source_files(
    base: Path,
    include_fn: Callable[..., bool] | None,
    exclude_fn: Callable[..., bool] | None,
) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in _SKIP_DIRS
            and not (here / d / "pyvenv.cfg").exists()
            and not (here / d / layout.LATEST_LINK).exists()
        )
        for fname in sorted(filenames):
            path = here / fname
            keep = _call(include_fn, path, base) if include_fn else fname.endswith(".py")
            if keep and not (exclude_fn and _call(exclude_fn, path, base)):
                out.append(path)
                if len(out) >= MAX_CODE_FILES:
                    return out
    return out


def _call(fn: Callable[..., bool], path: Path, root: Path) -> bool:
    """wandb calls ``fn(path, root)``; older code passes only the path."""
    try:
        return bool(fn(str(path), str(root)))
    except TypeError:
        return bool(fn(str(path)))


for _name in RUN:
    setattr(RunCompat, _name, run_stand_in(_name))
