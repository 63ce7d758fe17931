"""A run's config and summary: dict-like objects that persist their changes."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from trackui.metrics_spec import Aggregates, parse_summary
from trackui.values import clean_text, jsonable


def config_from(obj: Any) -> dict[str, Any]:
    """A plain dict from what ``init(config=...)`` or ``config.update`` accept.

    Dicts, ``argparse.Namespace`` and other objects with ``__dict__``, and
    dataclass instances.
    """
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    raise TypeError(f"config must be a dict, a Namespace or a dataclass, not {type(obj).__name__}")


class Config:
    """A run's config: attribute and item access; every change is written to disk.

    ``run.config.lr`` and ``run.config["lr"]`` are the same value. Nested
    dicts stay nested. ``update`` takes a dict, a Namespace or a dataclass.
    """

    def __init__(self, data: Mapping[str, Any], on_change: Callable[[], None]) -> None:
        jsonable(data)  # a cycle or a too-deep value is refused before anything is written
        object.__setattr__(self, "_data", dict(data))
        object.__setattr__(self, "_on_change", on_change)

    # item access
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        jsonable(value, str(key))
        self._data[str(key)] = value
        self._on_change()

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._on_change()

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # attribute access
    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __repr__(self) -> str:
        return f"Config({self._data!r})"

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def keys(self) -> Any:
        return self._data.keys()

    def items(self) -> Any:
        return self._data.items()

    def values(self) -> Any:
        return self._data.values()

    def update(self, d: Any = None, allow_val_change: bool | None = None, **kw: Any) -> None:
        """Merge keys from a dict, Namespace or dataclass (and keyword arguments)."""
        new = {**config_from(d), **kw}
        jsonable(new)
        self._data.update(new)
        self._on_change()

    def setdefaults(self, d: Mapping[str, Any]) -> None:
        """Set the keys of ``d`` that the config does not have yet."""
        jsonable(d)
        for k, v in d.items():
            self._data.setdefault(k, v)
        self._on_change()

    def as_dict(self) -> dict[str, Any]:
        """A copy of the config as a plain dict."""
        return dict(self._data)

    def to_json(self) -> dict[str, Any]:
        return jsonable(self._data)  # type: ignore[no-any-return]


class Summary:
    """A run's summary: the last value of each metric unless told otherwise.

    ``define_metric(name, summary="max")`` keeps the maximum instead (see
    ``trackui.metrics_spec``); a value set with ``summary[key] = value``
    overrides both. The summary is written to ``summary.json`` in the
    background while logging and at ``finish()``.
    """

    def __init__(self, on_change: Callable[[], None]) -> None:
        self._last: dict[str, Any] = {}
        self._user: dict[str, Any] = {}
        self._agg = Aggregates()
        self._on_change = on_change

    def define(self, pattern: str, kinds: str | tuple[str, ...], goal: str | None = None) -> None:
        """Aggregate ``pattern`` (a name or a glob) with ``kinds``: ``"min,max"`` or
        ``("min", "max")`` (see ``trackui.metrics_spec``)."""
        if isinstance(kinds, str):
            kinds = parse_summary(kinds)
        self._agg.define(pattern, kinds, goal)

    @property
    def aggregating(self) -> bool:
        """Whether some metric keeps an aggregate (else only last values are kept)."""
        return self._agg.active

    def observe(self, m: dict[str, Any]) -> None:
        """Record the values of one ``log()`` call (numeric, stored spellings).

        The caller marks the summary file dirty; this is on ``log()``'s hot path.
        """
        self._last.update(m)
        if self._agg.active:
            self._agg.observe(m)

    def as_dict(self) -> dict[str, Any]:
        """The summary as stored: computed values with the user's overrides on top."""
        out = dict(self._last)
        self._agg.apply(out)
        out.update(self._user)
        return out

    def restore(self, values: Mapping[str, Any]) -> None:
        """Start from the last values of a resumed run's stored summary."""
        self._last.update(values)

    def __getitem__(self, key: str) -> Any:
        return self.as_dict()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._user[str(key)] = value
        self._on_change()

    def __delitem__(self, key: str) -> None:
        self._user.pop(key, None)
        self._last.pop(key, None)
        self._agg.forget(key)
        self._on_change()

    def __contains__(self, key: object) -> bool:
        return key in self.as_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())

    def __repr__(self) -> str:
        return f"Summary({self.as_dict()!r})"

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    def keys(self) -> Any:
        return self.as_dict().keys()

    def items(self) -> Any:
        return self.as_dict().items()

    def update(self, d: Mapping[str, Any]) -> None:
        for k, v in d.items():
            self._user[str(k)] = v
        self._on_change()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.as_dict().items():
            if isinstance(v, float) and not math.isfinite(v):
                v = "nan" if v != v else ("inf" if v > 0 else "-inf")
            out[clean_text(k)] = jsonable(v, k)
        return out
