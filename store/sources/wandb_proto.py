"""wandb's ``Record`` class, from the protobuf definitions published in the wandb package.

Importing ``wandb.proto`` runs ``wandb/__init__.py``, which imports most of
the wandb SDK (about 0.7 s, more than reading a run of 2,000 steps). Where
wandb is not imported yet, the generated modules of the records
(``wandb/proto/v<protobuf major>/wandb_{base,telemetry,internal}_pb2.py``) are
run alone instead, with their descriptors in a private pool (never wandb's
own, which a later ``import wandb`` fills); anything unexpected there falls
back to the plain import.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

_MODULES = ("wandb_base_pb2", "wandb_telemetry_pb2", "wandb_internal_pb2")
"""The generated modules ``Record`` needs, each after those it imports."""
_CACHE: list[Any] = []


def record_class() -> Any:
    """wandb's ``Record`` message class (raises ImportError without the wandb package).

    Once wandb is imported in this process, its own class (from its modules).
    """
    if "wandb" not in sys.modules:
        if not _CACHE:
            try:
                got = _load_alone()
            except Exception:
                got = None
            _CACHE.append(got)
        if _CACHE[0] is not None:
            return _CACHE[0]
    from wandb.proto.wandb_internal_pb2 import Record

    return Record


def _load_alone() -> Any:
    """``Record`` from the generated modules run without the wandb package (None: not found)."""
    import google.protobuf
    from google.protobuf import descriptor_pool, empty_pb2, struct_pb2, timestamp_pb2

    spec = importlib.util.find_spec("wandb")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "proto"
    folder = folder / f"v{google.protobuf.__version__.split('.')[0]}"
    pool = descriptor_pool.DescriptorPool()
    for dep in (empty_pb2, struct_pb2, timestamp_pb2):
        pool.AddSerializedFile(dep.DESCRIPTOR.serialized_pb)
    loaded: dict[str, dict[str, Any]] = {}
    for name in _MODULES:
        source = (folder / f"{name}.py").read_text(encoding="utf-8")
        if source.count("_descriptor_pool.Default()") != 1:
            return None
        source = source.replace("_descriptor_pool.Default()", "_private_pool")
        for dep_name in loaded:
            source = source.replace(
                f"from wandb.proto import {dep_name} as ", f"from _private_{dep_name} import "
            )
        if re.search(r"^(from|import) wandb\b", source, re.MULTILINE):
            return None  # (an import not rewritten: the plain import is safer)
        namespace: dict[str, Any] = {"__name__": f"wandb.proto.{name}", "_private_pool": pool}
        for dep_name, dep_ns in loaded.items():
            namespace[f"_private_{dep_name}"] = dep_ns
        code = compile(_as_assignments(source, loaded), str(folder / f"{name}.py"), "exec")
        exec(code, namespace)
        loaded[name] = namespace
    return loaded["wandb_internal_pb2"]["Record"]


def _as_assignments(source: str, loaded: dict[str, dict[str, Any]]) -> str:
    """``from _private_X import Y`` lines (rewritten imports) as plain assignments."""
    lines = []
    for line in source.splitlines():
        if line.startswith("from _private_"):
            module, alias = line[len("from ") :].split(" import ")
            line = f"{alias.strip()} = _Namespace(_private_{module[len('_private_') :]})"
        lines.append(line)
    return "class _Namespace:\n    def __init__(self, d): self.__dict__.update(d)\n" + "\n".join(
        lines
    )
