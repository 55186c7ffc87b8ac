"""Benchmark data: continuous float64 columns (every value distinct) and one zipf string.

``continuous(rows)`` writes ``continuous_<rows>.parquet`` once (into ``/work/bench-data``, or
``$TSKEW_BENCH_DATA``) and reuses it. Rows are generated and written one row group (262,144 rows)
at a time from a seeded generator per row group, so generating 100M rows stays within a few
hundred MB and any row count reproduces the same first rows. Columns:

- ``x0`` normal(0, 1); ``x1`` lognormal(0, 1) * 1000 (skewed, positive); ``x2`` uniform(-5, 5);
  ``x3`` a two-component normal mixture (-100 / 300); ``x4`` normal(1e6, 1e4) (large offset);
  ``x5`` -lognormal(2, 0.5) (negative); ``x6`` uniform(0, 1e-3) (tiny scale);
  ``x7`` mixture of uniform(-1, 1) and normal(0, 1000) (heavy tail). No nulls; random
  float64 draws, so (up to chance collisions) every value of a column is distinct.
- ``s`` ``"v<k>"`` with k ~ zipf(1.3): a few very frequent values (``v1`` is a quarter of
  the rows) and a long tail (57,061 distinct values in the first 1M rows).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DATA_DIR = Path(os.environ.get("TSKEW_BENCH_DATA", "/work/bench-data"))
ROW_GROUP = 1 << 18
SEED = 20261203
FLOATS = [f"x{i}" for i in range(8)]
COLUMNS = [*FLOATS, "s"]


def _chunk(index: int, rows: int) -> pa.Table:
    rng = np.random.default_rng([SEED, index])
    mix = rng.random(rows) < 0.5
    columns = {
        "x0": rng.normal(0.0, 1.0, rows),
        "x1": rng.lognormal(0.0, 1.0, rows) * 1000.0,
        "x2": rng.uniform(-5.0, 5.0, rows),
        "x3": np.where(mix, rng.normal(-100.0, 10.0, rows), rng.normal(300.0, 50.0, rows)),
        "x4": rng.normal(1e6, 1e4, rows),
        "x5": -rng.lognormal(2.0, 0.5, rows),
        "x6": rng.uniform(0.0, 1e-3, rows),
        "x7": np.where(mix, rng.uniform(-1.0, 1.0, rows), rng.normal(0.0, 1000.0, rows)),
    }
    ranks = rng.zipf(1.3, rows)
    # "v" + decimal rank, built in Arrow (no Python string per row)
    strings = pc.binary_join_element_wise("v", pa.array(ranks).cast(pa.string()), "")
    return pa.table({**{k: pa.array(v) for k, v in columns.items()}, "s": strings})


def continuous(rows: int, row_group: int = ROW_GROUP) -> Path:
    """Parquet file with ``rows`` rows in row groups of ``row_group``, written once."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"continuous_{rows}.parquet"
    if path.exists():
        return path
    tmp = path.with_suffix(".parquet.tmp")
    writer = None
    try:
        for index, start in enumerate(range(0, rows, row_group)):
            chunk = _chunk(index, min(row_group, rows - start))
            if writer is None:
                writer = pq.ParquetWriter(tmp, chunk.schema)
            writer.write_table(chunk, row_group_size=row_group)
    finally:
        if writer is not None:
            writer.close()
    tmp.rename(path)
    return path
