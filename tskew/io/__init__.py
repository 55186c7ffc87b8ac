"""Reading data: files, globs, pandas and Arrow -> batches that match a schema.

Example:
    >>> from tskew.io import open_source
    >>> open_source({"n": [1, 2]}).schema
    Schema(n: int64)
"""

from tskew.io.bad_records import BadRecord, BadRecordLog
from tskew.io.sources import Source, expand_paths, open_source

__all__ = ["BadRecord", "BadRecordLog", "Source", "expand_paths", "open_source"]
