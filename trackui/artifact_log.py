"""Storing artifact versions under the root, and what each run logged and used.

``run.log_artifact`` / ``use_artifact`` / ``log_model`` / ``use_model`` /
``link_model`` / ``link_artifact`` land here. A version is stored once per
content: logging an artifact whose manifest digest equals a stored
version's returns that version (its aliases updated) and copies nothing.
Files are copied with ``write_atomic`` (streamed), a file whose digest a
previous version already holds is hard-linked to it where the file system
allows, and the manifest is written last, so a reader never sees a version
half-written. Format: ``docs/format.md``, "Artifacts".
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackui import console
from trackui.artifacts import Artifact, from_manifest
from trackui.store import artifact_store as store
from trackui.store import layout
from trackui.store.writer import json_bytes, write_atomic

if TYPE_CHECKING:
    from trackui.run_object import Run


def _root(run: Run) -> Path:
    return (run.root if run.root is not None else layout.resolve_root()).absolute()


def _record(run: Run, op: str, art: Artifact, target: str | None = None) -> None:
    """Append one line to the run's ``artifacts.jsonl`` (I/O trouble: a warning)."""
    if run.run_dir is None or run.disabled:
        return
    obj: dict[str, Any] = {
        "t": time.time(),
        "op": op,
        "name": art.name,
        "version": art._number if art.version else None,
        "type": art.type,
        "aliases": list(art.aliases),
    }
    if target is not None:
        obj["target"] = target
    append_line(
        run.run_dir / store.RUN_ARTIFACTS, json_bytes(obj, indent=False) + b"\n", "artifacts"
    )


def append_line(path: Path, line: bytes, what: str) -> bool:
    """Append one line with one ``write(2)``; an OSError is one warning, never raised."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return True
    except OSError as e:
        console.warn_once(f"append-{what}", f"trackui: could not record {what} in {path}: {e}")
        return False


def store_artifact(root: Path, art: Artifact, aliases: list[str], run_id: str | None) -> Artifact:
    """Store ``art`` as a new version, or find the stored version with its content.

    Sets ``latest`` and ``aliases`` on that version; returns it read back.
    """
    manifest = art.manifest
    digest = manifest.digest()
    adir = store.artifact_dir(root, art.name)
    adir.mkdir(parents=True, exist_ok=True)
    number = None
    for v in reversed(store.list_versions(root, art.name)):
        m = store.read_manifest(root, art.name, v)
        if m is not None and m.get("digest") == digest:
            number = v
            break
    if number is None:
        number = _write_version(root, art, digest, run_id)
    _set_aliases(root, art.name, number, aliases)
    m = store.read_manifest(root, art.name, number)
    assert m is not None
    return from_manifest(root, m)


def _claim_version(root: Path, name: str) -> tuple[int, Path]:
    """The next version number, its directory made (``mkdir`` is the lock between writers)."""
    taken = []
    with contextlib.suppress(OSError):
        for e in os.listdir(store.artifact_dir(root, name)):
            if e.startswith("v") and e[1:].isdigit():
                taken.append(int(e[1:]))
    n = max(taken, default=-1) + 1
    while True:
        d = store.version_dir(root, name, n)
        try:
            d.mkdir()
            return n, d
        except FileExistsError:
            n += 1


def _write_version(root: Path, art: Artifact, digest: str, run_id: str | None) -> int:
    known = _stored_by_digest(root, art.name)
    number, vdir = _claim_version(root, art.name)
    files = vdir / store.VERSION_FILES
    entries = {}
    for path, e in sorted(art.manifest.entries.items()):
        entries[path] = e.to_json()
        if e.local_path is None:
            continue
        dest = files / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        same = known.get(e.digest)
        if same is not None:
            try:
                os.link(same, dest)
                continue
            except OSError:
                pass
        write_atomic(dest, copy_from=Path(e.local_path))
    manifest = {
        "format": 1,
        "name": art.name,
        "type": art.type,
        "version": number,
        "digest": digest,
        "description": art.description,
        "metadata": art.metadata,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "run_id": run_id,
        "entries": entries,
    }
    write_atomic(vdir / store.MANIFEST, json_bytes(manifest) + b"\n")
    return number


def _stored_by_digest(root: Path, name: str) -> dict[str, Path]:
    """Files the newest stored version holds, by digest (for hard links)."""
    versions = store.list_versions(root, name)
    if not versions:
        return {}
    m = store.read_manifest(root, name, versions[-1]) or {}
    files = store.version_dir(root, name, versions[-1]) / store.VERSION_FILES
    out = {}
    for path, e in (m.get("entries") or {}).items():
        if not e.get("ref") and (files / path).is_file():
            out[str(e.get("digest"))] = files / path
    return out


def _set_aliases(root: Path, name: str, number: int, aliases: list[str]) -> None:
    current = store.read_aliases(root, name)
    newest = max(store.list_versions(root, name), default=number)
    for a in [*aliases, *(["latest"] if number >= newest else [])]:
        current[str(a)] = number
    write_atomic(store.artifact_dir(root, name) / store.ALIASES, json_bytes(current) + b"\n")


def _as_artifact(
    obj: Artifact | str | os.PathLike[str], name: str | None, type: str | None
) -> Artifact:
    if isinstance(obj, Artifact):
        return obj
    path = Path(obj)
    art = Artifact(name or path.name.replace(" ", "_"), type or "unspecified")
    if path.is_dir():
        art.add_dir(path)
    else:
        art.add_file(path)
    return art


def log_artifact(
    run: Run,
    artifact_or_path: Artifact | str | os.PathLike[str],
    name: str | None = None,
    type: str | None = None,
    aliases: list[str] | str | None = None,
    tags: list[str] | None = None,
) -> Artifact:
    """Store an artifact as the run's output (see the module docstring)."""
    art = _as_artifact(artifact_or_path, name, type)
    if run.disabled:
        return art
    want = [aliases] if isinstance(aliases, str) else list(aliases or [])
    stored = store_artifact(_root(run), art, want, run.id)
    _record(run, "logged", stored)
    _adopt(art, stored)
    return stored


def log_without_run(art: Artifact) -> Artifact:
    """Store an artifact under the default root, recorded in no run (``Artifact.save()``)."""
    stored = store_artifact(layout.resolve_root().absolute(), art, [], None)
    _adopt(art, stored)
    return stored


def _adopt(art: Artifact, stored: Artifact) -> None:
    """Make the caller's object the stored version too (as wandb's does after logging)."""
    if art is stored:
        return
    art.version, art.aliases, art.created_at = stored.version, stored.aliases, stored.created_at
    art.source_run, art._root, art._entries = stored.source_run, stored._root, stored._entries


def get_artifact(root: Path, ref: str, type: str | None = None) -> Artifact:
    """A stored version by ``"name:alias"`` / ``"name:v3"`` / ``"name"`` (latest)."""
    name, alias = store.parse_ref(ref)
    number = store.resolve_version(root, name, alias) if store.valid_name(name) else None
    m = store.read_manifest(root, name, number) if number is not None else None
    if m is None:
        raise ValueError(f"artifact {name}:{alias} not found under {root}")
    art = from_manifest(root, m)
    if type is not None and art.type != type:
        raise ValueError(f"artifact {name}:{alias} is of type {art.type!r}, not {type!r}")
    return art


def use_artifact(
    run: Run,
    artifact_or_name: Artifact | str,
    type: str | None = None,
    aliases: list[str] | None = None,
    use_as: str | None = None,
) -> Artifact:
    """A stored version as the run's input, recorded in the run (an unlogged
    ``Artifact`` is stored first)."""
    root = _root(run)
    if isinstance(artifact_or_name, Artifact):
        art = artifact_or_name
        if art.version is None:
            stored = store_artifact(root, art, list(aliases or []), run.id)
            _adopt(art, stored)
    else:
        art = get_artifact(root, artifact_or_name, type)
    _record(run, "used", art)
    return art


def log_model(
    run: Run,
    path: str | os.PathLike[str],
    name: str | None = None,
    aliases: list[str] | None = None,
) -> Artifact:
    """Log a model file or directory as an artifact of type ``model``."""
    name = name or f"run-{run.id}-{Path(path).name}".replace(" ", "_")
    return log_artifact(run, _as_artifact(path, name, "model"), aliases=aliases)


def use_model(run: Run, name: str) -> str:
    """The local path of a logged model (``"name:alias"``)."""
    art = use_artifact(run, name)
    if art.type != "model":
        raise ValueError(f"artifact {name} is of type {art.type!r}, not 'model'")
    return art.download()


def link_artifact(
    run: Run, artifact: Artifact, target_path: str, aliases: list[str] | None = None
) -> Artifact:
    """Record that a version is linked to ``target_path`` (a registry name: kept, not sent)."""
    if artifact.version is None:
        artifact = log_artifact(run, artifact, aliases=aliases)
    elif aliases and not run.disabled:
        _set_aliases(_root(run), artifact.name, artifact._number, list(aliases))
    _record(run, "linked", artifact, target=target_path)
    return artifact


def link_model(
    run: Run,
    path: str | os.PathLike[str],
    registered_model_name: str,
    name: str | None = None,
    aliases: list[str] | None = None,
) -> Artifact:
    """Log a model (as ``log_model``) and record its link to ``registered_model_name``."""
    art = log_model(run, path, name=name)
    return link_artifact(run, art, registered_model_name, aliases=aliases)
