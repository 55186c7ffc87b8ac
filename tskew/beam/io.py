"""Reading and writing for Beam pipelines: RecordBatches in, artifacts and Parquet out.

Readers infer the schema when the pipeline is built (reading the files once, as
``ts.analyze`` does), then read in parallel: one element per CSV/JSONL file, one
per Parquet row group. A reader returns a `Source`: the batches,
their schema, the dead letters (``source.dead_letters``: dicts with source, line,
reason and raw text) and the steps to read the files again for each analysis pass
(these share the reader's list of files and emit batches only: a re-read's dead
letters are those of the first read). With ``max_bad_fraction=0`` (the default)
the first malformed record fails the pipeline with its location.
"""

from __future__ import annotations

import functools
import json
import uuid
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from tskew.beam.elements import Tagged, dead_letter, select
from tskew.beam.runner import loses_finish_bundle_outputs
from tskew.beam.source import Source
from tskew.io.bad_records import BadRecordLog
from tskew.io.csv_options import CsvOptions
from tskew.io.schemas import SchemaLike, as_schema
from tskew.io.sources import (
    Fingerprint,
    check_unchanged,
    csv_options_for,
    expand_paths,
    file_format,
    fingerprint,
    infer_files,
    open_parquet,
    read_file,
    read_row_groups,
)
from tskew.schema import Schema

_ALL = object()  # no plan given: read every column


class _ReadFile(beam.DoFn):
    """Reads one file, which must be unchanged since the pipeline was built."""

    def __init__(
        self,
        schema: Schema,
        policy: str,
        batch_size: int,
        prints: dict[str, Fingerprint],
        csv_options: CsvOptions | None = None,
        tagged: bool = True,
    ):
        self.schema, self.policy, self.batch_size = schema, policy, batch_size
        self.prints, self.csv_options = prints, csv_options
        self.tagged = tagged  # False: batches only (a re-read: its dead letters are known)

    def process(self, piece: str | tuple[str, int], plan: Any = _ALL, project: bool = False):
        # Batches and dead letters in one output, as `Tagged` values.
        schema = self.schema
        if plan is None:  # an analysis pass that is not needed reads nothing
            return
        if project and plan is not _ALL and self.policy == "error":
            # with every bad record fatal, all passes see the same rows: read only
            # the columns this pass evaluates
            schema = Schema({n: self.schema[n] for n in plan.columns()})
        path, group = (piece, None) if isinstance(piece, str) else piece
        check_unchanged(Path(path), self.prints.get(path))
        log = BadRecordLog(self.policy, max_examples=1 << 62)
        seen = 0
        if group is None:
            batches = read_file(Path(path), schema, log, self.batch_size, self.csv_options)
        else:
            batches = read_row_groups(Path(path), schema, log, self.batch_size, [group])
        for batch in batches:
            if not self.tagged:
                yield batch
                continue
            yield Tagged("batch", batch)
            yield from (Tagged("bad", dead_letter(r)) for r in log.examples[seen:])
            seen = len(log.examples)
        check_unchanged(Path(path), self.prints.get(path))
        if self.tagged:
            yield from (Tagged("bad", dead_letter(r)) for r in log.examples[seen:])


def _pieces(files: list[str]) -> list[str | tuple[str, int]]:
    """What a reader's elements are: a file, or one row group of a Parquet file (so a
    runner with several workers reads the row groups of one big file in parallel)."""
    out: list[str | tuple[str, int]] = []
    for path in files:
        if file_format(Path(path)) == "parquet":
            groups = open_parquet(Path(path)).metadata.num_row_groups
            out.extend((path, group) for group in range(groups))
        else:
            out.append(path)
    return out


class _ReadFiles(beam.PTransform):
    """Files matching ``pattern`` -> a `Source` of RecordBatches conforming to the
    (inferred) schema."""

    def __init__(
        self,
        pattern: str | list[str],
        schema: SchemaLike | None = None,
        max_bad_fraction: float = 0.0,
        batch_size: int = 1 << 18,
        header: Any = "auto",
        column_names: list[str] | None = None,
        delimiter: str | None = None,
    ):
        super().__init__()
        # CSV only; see tskew.io.open_source
        schema = None if schema is None else as_schema(schema)
        self.csv_options = csv_options_for(schema, header, column_names, delimiter)
        self.files = [str(p) for p in expand_paths(pattern)]
        self.pieces = _pieces(self.files)
        # Every pass (inference here, each analysis pass later) must see the same bytes.
        self.prints = {f: fingerprint(Path(f)) for f in self.files}
        self.pattern = pattern
        if schema is None:
            schema = infer_files([Path(f) for f in self.files], batch_size, self.csv_options)
        self.schema = as_schema(schema)
        self.max_bad_fraction = max_bad_fraction
        self.batch_size = batch_size

    def _reread(self, files, pipeline, label: str, plan=None, project: bool = True):
        """The files read once more (only if ``plan``, a one-element PCollection, is set;
        only the columns it evaluates with ``project``)."""
        policy = "skip" if self.max_bad_fraction > 0 else "error"
        side = {} if plan is None else {"plan": beam.pvalue.AsSingleton(plan), "project": project}
        if loses_finish_bundle_outputs(pipeline):
            # the DaskRunner duplicates the outputs of a step shared by several passes
            # (see tskew.beam.rows): every pass lists the files itself
            files = pipeline | f"{label}Files" >> beam.Create(self.pieces)
        return files | f"{label}Read" >> beam.ParDo(
            _ReadFile(
                self.schema,
                policy,
                self.batch_size,
                self.prints,
                self.csv_options,
                tagged=False,
            ),
            **side,
        ).with_output_types(pa.RecordBatch)

    def expand(self, pbegin):
        policy = "skip" if self.max_bad_fraction > 0 else "error"
        files = pbegin | "Files" >> beam.Create(self.pieces)
        read = files | "Read" >> beam.ParDo(
            _ReadFile(self.schema, policy, self.batch_size, self.prints, self.csv_options)
        ).with_output_types(Tagged)
        # Analysis passes read the files again instead of sharing the batches: a
        # runner then streams each pass (flat memory) instead of materialising all rows.
        return Source(
            batches=select(read, "batch", "Batches"),
            schema=self.schema,
            dead_letters=select(read, "bad", "Bad"),
            description=f"{len(self.files)} file(s) matching {self.pattern!r}",
            max_bad_fraction=self.max_bad_fraction,
            reread=functools.partial(self._reread, files),
        )


class ReadCsv(_ReadFiles):
    """CSV files (also .csv.gz / .csv.zip) -> RecordBatches."""


class ReadJsonl(_ReadFiles):
    """JSON Lines files -> RecordBatches."""


class ReadParquet(_ReadFiles):
    """Parquet files -> RecordBatches."""


class WriteDeadLetters(beam.PTransform):
    """Write dead-letter dicts as one JSON Lines file (created even when empty)."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)

    def expand(self, dead_letters):
        def write(_: Any, records: list[dict], path: str) -> str:
            rows = sorted(records, key=lambda r: (r["source"], r["line"] or 0, r["reason"]))
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text("".join(json.dumps(r) + "\n" for r in rows))
            return path

        return _once(dead_letters, "WriteDeadLetters", write, self.path)


def _once(pcoll, label: str, fn, *args):
    """Run ``fn(None, list(pcoll), *args)`` once, reading ``pcoll`` as an AsList side input
    (a collection read that way is never lost on the DaskRunner; see tskew.beam.runner)."""
    return (
        pcoll.pipeline
        | f"{label}Seed" >> beam.Create([None])
        | label >> beam.Map(fn, beam.pvalue.AsList(pcoll), *args)
    )


class WriteTransformFn(beam.PTransform):
    """Save the TransformFn to ``path``: the same artifact ``ts.load`` reads."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)

    def expand(self, transform_fn):
        def save(_: Any, tfn: list, path: str) -> str:
            return str(tfn[0].save(path))

        return _once(transform_fn, "Save", save, self.path)


class ReadTransformFn(beam.PTransform):
    """Load a saved TransformFn as a one-element PCollection."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)

    def expand(self, pbegin):
        from tskew.artifact import load_transform_fn

        return pbegin | "Path" >> beam.Create([self.path]) | "Load" >> beam.Map(load_transform_fn)


class WriteParquet(beam.PTransform):
    """Write each RecordBatch as a Parquet part file under ``directory``."""

    def __init__(self, directory: str | Path):
        super().__init__()
        self.directory = str(directory)

    def expand(self, batches):
        def write(batch: pa.RecordBatch, directory: str) -> str:
            Path(directory).mkdir(parents=True, exist_ok=True)
            path = Path(directory) / f"part-{uuid.uuid4().hex}.parquet"
            pq.write_table(pa.Table.from_batches([batch]), path)
            return str(path)

        return batches | "WriteParts" >> beam.Map(write, self.directory)


__all__ = [
    "ReadCsv",
    "ReadJsonl",
    "ReadParquet",
    "ReadTransformFn",
    "WriteDeadLetters",
    "WriteParquet",
    "WriteTransformFn",
]
