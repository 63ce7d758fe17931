"""Artifacts and alerts on disk: their names, and the readers a viewer or the CLI uses.

Standard library and orjson only (the logging side imports the names). The
format is in ``docs/format.md`` ("Artifacts" and "Alerts"):

* ``<root>/artifacts/<name>/v<N>/manifest.json`` and ``.../v<N>/files/``: one
  version, its files stored once; ``<root>/artifacts/<name>/aliases.json``
  maps each alias (``latest`` and the user's) to a version number.
* ``<run_dir>/artifacts.jsonl``: what the run logged, used and linked, one
  JSON object a line, append-only.
* ``<run_dir>/alerts.jsonl``: the run's alerts, one JSON object a line,
  append-only.

A version directory without its ``manifest.json`` is being written (or was
abandoned): readers skip it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trackui.store.reader import loads_json

ARTIFACTS_DIR = "artifacts"
"""Under the root: one folder per artifact name."""
MANIFEST = "manifest.json"
ALIASES = "aliases.json"
VERSION_FILES = "files"
RUN_ARTIFACTS = "artifacts.jsonl"
"""In a run directory: what the run logged, used and linked."""
RUN_ALERTS = "alerts.jsonl"
"""In a run directory: the run's alerts."""

ALERT_LEVELS = ("INFO", "WARN", "ERROR")

_NAME_RE = re.compile(r"^[0-9A-Za-z_.-]{1,128}$")
_VERSION_RE = re.compile(r"^v(\d{1,9})$")
MAX_LINES = 10_000
"""The most lines a reader returns from an append-only file (the last ones)."""


def valid_name(name: str) -> bool:
    """Whether ``name`` may name an artifact (it becomes a directory name)."""
    return bool(_NAME_RE.match(name)) and name not in (".", "..")


def artifact_dir(root: Path, name: str) -> Path:
    return Path(root) / ARTIFACTS_DIR / name


def version_dir(root: Path, name: str, version: int) -> Path:
    return artifact_dir(root, name) / f"v{version}"


@dataclass(frozen=True)
class Alert:
    """One line of ``alerts.jsonl``."""

    time: float
    title: str
    text: str
    level: str


@dataclass(frozen=True)
class ArtifactUse:
    """One line of ``artifacts.jsonl``: a run logged, used or linked an artifact version."""

    time: float
    op: str
    """``logged``, ``used`` or ``linked``."""
    name: str
    version: int | None
    """None for an artifact used by a name that was never logged here."""
    type: str
    aliases: tuple[str, ...]
    target: str | None = None
    """For ``linked``: the registry path it was linked to."""


def _json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of an append-only file; damaged lines and a torn last line skipped."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    out = []
    for line in data.split(b"\n")[:-1][-MAX_LINES:]:
        try:
            obj = loads_json(line)
        except Exception:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def read_alerts(run_dir: Path) -> list[Alert]:
    """A run's alerts, oldest first (a missing file: none)."""
    out = []
    for o in _json_lines(Path(run_dir) / RUN_ALERTS):
        level = str(o.get("level", "INFO"))
        t = o.get("t")
        out.append(
            Alert(
                time=float(t) if isinstance(t, (int, float)) else 0.0,
                title=str(o.get("title", "")),
                text=str(o.get("text", "")),
                level=level if level in ALERT_LEVELS else "INFO",
            )
        )
    return out


def read_run_artifacts(run_dir: Path) -> list[ArtifactUse]:
    """What a run logged, used and linked, oldest first (a missing file: nothing)."""
    out = []
    for o in _json_lines(Path(run_dir) / RUN_ARTIFACTS):
        v = o.get("version")
        t = o.get("t")
        aliases = o.get("aliases")
        out.append(
            ArtifactUse(
                time=float(t) if isinstance(t, (int, float)) else 0.0,
                op=str(o.get("op", "")),
                name=str(o.get("name", "")),
                version=v if isinstance(v, int) else None,
                type=str(o.get("type", "")),
                aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
                target=str(o["target"]) if o.get("target") is not None else None,
            )
        )
    return out


def read_json(path: Path) -> dict[str, Any] | None:
    """A small JSON object file, or None when missing or damaged."""
    try:
        with open(path, "rb") as f:
            obj = loads_json(f.read())
    except Exception:
        return None
    return obj if isinstance(obj, dict) else None


def read_aliases(root: Path, name: str) -> dict[str, int]:
    """An artifact's aliases: alias to version number (a missing file: none)."""
    obj = read_json(artifact_dir(root, name) / ALIASES) or {}
    return {str(k): v for k, v in obj.items() if isinstance(v, int)}


def list_versions(root: Path, name: str) -> list[int]:
    """The complete versions of an artifact (those with a manifest), in order."""
    try:
        entries = os.listdir(artifact_dir(root, name))
    except OSError:
        return []
    out = []
    for e in entries:
        m = _VERSION_RE.match(e)
        if m and (artifact_dir(root, name) / e / MANIFEST).is_file():
            out.append(int(m.group(1)))
    return sorted(out)


def list_artifacts(root: Path) -> list[str]:
    """The names of the artifacts under a root, sorted."""
    try:
        names = os.listdir(Path(root) / ARTIFACTS_DIR)
    except OSError:
        return []
    return sorted(n for n in names if valid_name(n) and list_versions(root, n))


def read_manifest(root: Path, name: str, version: int) -> dict[str, Any] | None:
    """One version's manifest, or None when it is missing, incomplete or damaged."""
    return read_json(version_dir(root, name, version) / MANIFEST)


def resolve_version(root: Path, name: str, alias: str) -> int | None:
    """The version that ``alias`` names: ``v3``, ``3``, ``latest`` or a user alias."""
    m = _VERSION_RE.match(alias)
    if m or alias.isdigit():
        n = int(m.group(1)) if m else int(alias)
        return n if n in list_versions(root, name) else None
    aliases = read_aliases(root, name)
    if alias in aliases:
        return aliases[alias]
    if alias == "latest":
        versions = list_versions(root, name)
        return versions[-1] if versions else None
    return None


def parse_ref(ref: str) -> tuple[str, str]:
    """``"name:alias"`` (optionally ``entity/project/`` before it) as ``(name, alias)``."""
    ref = ref.rsplit("/", 1)[-1]
    name, sep, alias = ref.partition(":")
    return name, (alias if sep and alias else "latest")
