"""Dict rows -> RecordBatches, so every tskew step works on whole batches.

Rows are collected into chunks of ``batch_size`` by ``beam.BatchElements``, which
emits each bundle's last chunk from ``finish_bundle``. The DaskRunner drops such
outputs, so there rows are grouped by a hash of their content (``KEYED_CHUNKS``
groups, a GroupByKey) and cut into chunks of ``batch_size``. RecordBatches and Tables in
the same collection pass through unchanged.

On the DaskRunner the analysis passes must not share the converted collection
either: Beam 2.77 collects a ParDo's outputs in a list (``tagged_receivers.values``
in ``apply_dofn_to_bundle``) that is made once per ParDo when the graph is built
and never cleared. When one ParDo's tasks run both for a pass and, again, inside
a task that computes a side input from it, that list is shared by several of its
partitions and each returns the outputs of the partitions before it as well, so
rows are counted several times. There the `Source` that `BatchRows` returns
lets every pass convert the rows again with steps of its own (its ``reread``), as
the file readers read their files again.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import apache_beam as beam
import pyarrow as pa

from tskew.beam.elements import Tagged, dead_letter, select
from tskew.beam.runner import loses_finish_bundle_outputs
from tskew.beam.source import Source
from tskew.errors import DataError, SchemaError
from tskew.io.bad_records import BadRecord, BadRecordLog
from tskew.io.conform import conform
from tskew.schema import Schema

ROWS_SOURCE = "a Beam PCollection of dict rows"
ROWS_PER_BATCH = 1 << 16
KEYED_CHUNKS = 8  # groups of dict rows on the DaskRunner (each cut into batch_size chunks)


class _SplitRows(beam.DoFn):
    """Dict rows and RecordBatches (Tables as their batches), as `Tagged` values."""

    def process(self, element: Any):
        if isinstance(element, dict):
            yield Tagged("row", element)
        elif isinstance(element, pa.RecordBatch):
            yield Tagged("batch", element)
        elif isinstance(element, pa.Table):
            yield from (Tagged("batch", b) for b in element.combine_chunks().to_batches())
        else:
            raise DataError(
                "tskew.beam expects pyarrow RecordBatches (or Tables) or dict rows, "
                f"got {type(element).__name__}"
            )


class GroupRows(beam.PTransform):
    """Dict rows -> lists of up to ``batch_size`` rows; RecordBatches pass through."""

    def __init__(self, batch_size: int = ROWS_PER_BATCH):
        super().__init__()
        self.batch_size = batch_size

    def expand(self, pcoll):
        split = pcoll | "SplitRows" >> beam.ParDo(_SplitRows()).with_output_types(Tagged)
        rows = select(split, "row", "Rows")
        if loses_finish_bundle_outputs(pcoll.pipeline):
            # BatchElements' last chunk per bundle would be dropped here: group the rows
            # by a hash of their content instead (the same chunks on every recomputation).
            chunks = (
                rows
                | "Key"
                >> beam.Map(lambda row: (zlib.crc32(_raw(row).encode()) % KEYED_CHUNKS, row))
                | "Group" >> beam.GroupByKey()
                | "Chunks" >> beam.FlatMap(_chunks, self.batch_size)
            )
        else:
            chunks = rows | "Chunks" >> beam.BatchElements(
                min_batch_size=self.batch_size, max_batch_size=self.batch_size
            )
        return (select(split, "batch", "Batches"), chunks) | "Join" >> beam.Flatten()


def _chunks(keyed: tuple[int, Any], size: int):
    rows = list(keyed[1])
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def to_batch(element: pa.RecordBatch | pa.Table | list[dict], schema: Schema, log: BadRecordLog):
    """A RecordBatch, Table or list of dict rows -> one RecordBatch conforming to ``schema``.

    Malformed rows go to ``log`` (which raises or keeps them, by its policy).
    """
    if isinstance(element, list):
        table = _rows_table(element, schema, log)
    elif isinstance(element, pa.RecordBatch | pa.Table):
        table = conform(element, schema, "a Beam element", log, lambda i: (None, ""))
    else:
        raise DataError(
            "tskew.beam expects pyarrow RecordBatches (or Tables) or dict rows, "
            f"got {type(element).__name__}"
        )
    if not table.num_rows:
        return pa.RecordBatch.from_pylist([], schema=table.schema)
    return table.combine_chunks().to_batches()[0]


def _raw(row: dict) -> str:
    return json.dumps(row, default=str, sort_keys=True)


def _rows_table(rows: list[dict], schema: Schema, log: BadRecordLog) -> pa.Table:
    # A feature absent from a row (or from all rows) is missing, i.e. null.
    names = list(dict.fromkeys([*schema, *(name for row in rows for name in row)]))
    try:
        table = pa.table({n: pa.array([row.get(n) for row in rows]) for n in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Some column mixes value types: convert row by row to find the bad rows.
        return _rows_one_by_one(rows, names, schema, log)
    return conform(table, schema, ROWS_SOURCE, log, lambda i: (None, _raw(rows[i])))


def _rows_one_by_one(
    rows: list[dict], names: list[str], schema: Schema, log: BadRecordLog
) -> pa.Table:
    parts = []
    for row in rows:
        raw = _raw(row)
        try:
            table = pa.table({n: pa.array([row.get(n)]) for n in names})
            parts.append(conform(table, schema, ROWS_SOURCE, log, lambda _, raw=raw: (None, raw)))
        except (pa.ArrowInvalid, pa.ArrowTypeError, SchemaError) as err:
            log.report(BadRecord(ROWS_SOURCE, None, str(err), raw))
    return pa.concat_tables(parts) if parts else schema.to_arrow().empty_table()


class _Conform(beam.DoFn):
    def __init__(self, schema: Schema, policy: str):
        self.schema, self.policy = schema, policy

    def process(self, element: pa.RecordBatch | list[dict]):
        log = BadRecordLog(self.policy, max_examples=1 << 62)
        batch = to_batch(element, self.schema, log)
        if batch.num_rows:
            yield Tagged("batch", batch)
        yield from (Tagged("bad", dead_letter(r)) for r in log.examples)


class BatchRows(beam.PTransform):
    """Dict rows (or RecordBatches) -> a `Source` of RecordBatches conforming to ``schema``.

    Like the tskew readers, the `Source` carries the schema and the dead letters
    (``source.dead_letters``); ``AnalyzeDataset`` applies it to a plain PCollection.
    Except on the DaskRunner (see the module doc), the analysis passes share the
    converted batches, which the runner then keeps until the last pass.

    Args:
        schema: raw feature types of the rows.
        max_bad_fraction: malformed rows tolerated (as dead letters) before the
            analysis fails; 0 fails at the first one, naming the row.
        batch_size: rows per RecordBatch built from dict rows.
    """

    def __init__(
        self,
        schema: Schema | dict,
        max_bad_fraction: float = 0.0,
        batch_size: int = ROWS_PER_BATCH,
    ):
        super().__init__()
        self.schema = Schema(schema) if isinstance(schema, dict) else schema
        self.max_bad_fraction, self.batch_size = max_bad_fraction, batch_size

    def _conformed(self, pcoll, label: str = ""):
        policy = "skip" if self.max_bad_fraction > 0 else "error"
        return (
            pcoll
            | f"{label}GroupRows" >> GroupRows(self.batch_size)
            | f"{label}Conform"
            >> beam.ParDo(_Conform(self.schema, policy)).with_output_types(Tagged)
        )

    def expand(self, pcoll):
        conformed = self._conformed(pcoll)
        reread = None
        if loses_finish_bundle_outputs(pcoll.pipeline):
            # Each later pass converts the rows with steps of its own (see the module doc).
            def reread(_, label: str, plan=None, project: bool = True):
                return select(self._conformed(pcoll, label), "batch", label)

        return Source(
            batches=select(conformed, "batch", "Batches"),
            schema=self.schema,
            dead_letters=select(conformed, "bad", "Bad"),
            description=ROWS_SOURCE,
            max_bad_fraction=self.max_bad_fraction,
            reread=reread,
        )


__all__ = ["BatchRows", "GroupRows", "to_batch"]
