"""The run-directory format, its writer and reader, the DuckDB index and the watcher.

Nothing here imports Textual. The writer (``store.writer``) imports only the
standard library and orjson, so that training scripts stay light.
"""
