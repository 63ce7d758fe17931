"""trackui tui: the terminal UI (``trackui [DIR]``).

Starting the viewer creates a few hundred thousand objects that live as long
as it does (Textual's and plotext's modules, the index's state of every
run). Python's collector would walk them again and again while they are
made, for a tenth of a second of a one-second start: its thresholds are
raised here, before those imports, and put back once the store has loaded
(``TrackApp._store_refreshed``, which also sets the survivors aside).

NumPy's BLAS is kept to one thread: the viewer's only BLAS calls are short
dot products, after which each BLAS worker spins for a while, taking a core
from DuckDB and the curves (``trackui.cli`` does the same for its commands).
"""

import gc
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

GC_THRESHOLDS = gc.get_threshold()
"""The collector's thresholds before the viewer started (restored once it has loaded)."""
gc.set_threshold(100_000, 50, 100)
