"""``wandb.Table``: rows of numbers, strings, booleans, None and images, stored as JSON."""

from __future__ import annotations

from typing import Any


class Table:
    """A table of rows (``wandb.Table``).

    Args:
        columns: the column names (default ``["Input", "Output", "Expected"]``
            as in wandb, or ``col0...`` to fit ``data``).
        data: a list of rows, or a 2-D array.
        dataframe: a pandas DataFrame (its columns and rows).
    """

    kind = "table"

    def __init__(
        self,
        columns: list[str] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        **_: Any,
    ) -> None:
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.values.tolist()
        data = rows if data is None else data
        if hasattr(data, "tolist") and not isinstance(data, list):
            data = data.tolist()
        self.data: list[list[Any]] = [list(r) for r in (data or [])]
        if columns is None:
            width = len(self.data[0]) if self.data else 3
            columns = (
                ["Input", "Output", "Expected"] if width == 3 else [f"col{i}" for i in range(width)]
            )
        self.columns: list[str] = [str(c) for c in columns]
        for r in self.data:
            self._check(r)

    def _check(self, row: list[Any]) -> None:
        if len(row) != len(self.columns):
            raise ValueError(
                f"trackui.Table: a row of {len(row)} cells for {len(self.columns)} columns"
            )

    def add_data(self, *data: Any) -> None:
        """Append one row (one value per column)."""
        row = list(data)
        self._check(row)
        self.data.append(row)

    def add_column(self, name: str, data: Any, optional: bool = False) -> None:
        """Add a column: ``data`` holds one value per existing row."""
        if name in self.columns:
            raise ValueError(f"trackui.Table: column {name!r} exists")
        values = list(data.tolist() if hasattr(data, "tolist") else data)
        if self.data and len(values) != len(self.data):
            raise ValueError(
                f"trackui.Table: column {name!r} has {len(values)} values for {len(self.data)} rows"
            )
        self.columns.append(str(name))
        if not self.data:
            self.data = [[v] for v in values]
        else:
            for r, v in zip(self.data, values, strict=True):
                r.append(v)

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """The values of one column (``convert_to="numpy"``: as a NumPy array)."""
        i = self.columns.index(name)
        col = [r[i] for r in self.data]
        if convert_to == "numpy":
            import numpy as np

            return np.array(col)
        return col

    def add_row(self, *data: Any) -> None:
        """The older name of ``add_data``."""
        self.add_data(*data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<trackui.Table {len(self.data)} rows x {len(self.columns)} columns>"
