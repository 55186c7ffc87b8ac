"""`open_source`: any supported input -> a re-iterable stream of conforming batches.

Example:
    >>> src = open_source({"x": [1.5, None], "s": ["a", "b"]})
    >>> src.schema
    Schema(x: float64?, s: string)
    >>> [b.num_rows for b in src.batches()], src.description
    ([2], 'dict of 2 columns (2 rows)')
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tskew.errors import DataError, SchemaError
from tskew.io.bad_records import BadRecord, BadRecordLog
from tskew.io.conform import NULL_TOKENS, conform
from tskew.io.csv_options import AUTO, CsvOptions, check_header, has_number, header_error
from tskew.io.schemas import SchemaLike, as_schema
from tskew.io.text import (
    csv_columns,
    header_fields,
    infer_text_dtype,
    read_csv_chunks,
    read_jsonl_chunks,
    widen,
)
from tskew.schema import DType, FeatureType, Schema, arrow_to_dtype

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zip", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz")


def file_format(path: Path) -> str:
    name = path.name.lower()
    for fmt, suffixes in (
        ("csv", CSV_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
        ("jsonl", JSONL_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return fmt
    raise DataError(
        f"{path}: unknown file type; expected one of "
        f"{', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES + JSONL_SUFFIXES)}"
    )


def expand_paths(spec: str | Path | Sequence[str | Path]) -> list[Path]:
    """Paths and globs -> sorted existing files (a pattern matching nothing is an error)."""
    specs = [spec] if isinstance(spec, str | Path) else list(spec)
    out: list[Path] = []
    for item in specs:
        text = str(item)
        if any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise DataError(f"no files match {text!r}")
            out += [Path(m) for m in matches]
        else:
            path = Path(text)
            if not path.is_file():
                raise DataError(f"{path}: no such file")
            out.append(path)
    return out


# (size in bytes, modification time in ns) of a file when it was opened.
Fingerprint = tuple[int, int]


def fingerprint(path: Path) -> Fingerprint:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def check_unchanged(path: Path, expected: Fingerprint | None) -> None:
    """Raise `DataError` if ``path`` differs from its fingerprint ``expected``."""
    if expected is None:
        return
    try:
        now = fingerprint(path)
    except OSError:
        now = None
    if now != expected:
        what = (
            "was removed"
            if now is None
            else (
                f"is now {now[0]} bytes, modified at {now[1]} ns "
                f"(was {expected[0]} bytes at {expected[1]} ns)"
            )
        )
        raise DataError(
            f"{path} changed after it was first read: it {what}. Passes over the data "
            "would see different rows; do not modify input files while they are read "
            "(copy them first), then run again"
        )


@dataclass
class Source:
    """A dataset that can be read several times as schema-conforming RecordBatches.

    Attributes:
        schema: the given schema, or one inferred from all of the data.
        description: what the data is, for messages and metadata.
        bad_records: records dropped (policy "skip"), each counted once.
    """

    schema: Schema
    description: str
    bad_records: BadRecordLog
    _cached: list[pa.RecordBatch] | None = None
    _files: list[Path] = field(default_factory=list)
    _batch_size: int = 1 << 16
    _fingerprints: dict[Path, Fingerprint] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    csv_options: CsvOptions = field(default_factory=CsvOptions)

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Yield the whole dataset once more (cached, or streamed from the files).

        ``columns`` asks for only these features (Parquet reads just those columns).
        Projection is used only when no record was found bad so far: a record dropped
        for a bad value in another column must stay dropped on every pass.

        Each file must be unchanged since the source was opened (size, modification
        time and number of records), else `DataError`: the passes of an analysis
        would otherwise describe different rows.
        """
        project = columns is not None and self.bad_records.count == 0
        if self._cached is not None:
            for batch in self._cached:
                yield batch.select(list(columns)) if project else batch
            return
        schema = self.schema
        if project:
            schema = Schema({name: self.schema[name] for name in columns})
        for path in self._files:
            if project and file_format(path) != "parquet":
                schema = self.schema  # text is parsed whole anyway
            expected = self._fingerprints.get(path)
            check_unchanged(path, expected)
            rows, reports = 0, self.bad_records.reports
            batches = read_file(path, schema, self.bad_records, self._batch_size, self.csv_options)
            for batch in batches:
                rows += batch.num_rows
                yield batch
            check_unchanged(path, expected)
            records = rows + self.bad_records.reports - reports
            known = self.records.setdefault(str(path), records)
            if known != records:
                raise DataError(
                    f"{path} changed while it was being read: {known} records on an "
                    f"earlier pass, {records} now; do not modify input files during "
                    "analysis (copy them first)"
                )

    def input_row(self, record: BadRecord) -> int | None:
        """The 0-based position of a bad record among all the input's records (files
        in order, each counted whole, bad records included); None if unknown."""
        if record.row is None:
            return None
        if not self._files:
            return record.row
        offset = 0
        for path in self._files:
            if str(path) == record.source:
                return offset + record.row
            offset += self.records.get(str(path), 0)
        return None

    @property
    def num_rows(self) -> int | None:
        return None if self._cached is None else sum(b.num_rows for b in self._cached)


def open_source(
    data: Any,
    schema: SchemaLike | None = None,
    *,
    batch_size: int = 1 << 16,
    on_bad_record: str = "error",
    max_bad_examples: int = 20,
    cache_bytes: int = 1 << 28,
    header: Any = AUTO,
    column_names: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> Source:
    """Open ``data`` for reading as batches that match ``schema`` exactly.

    Args:
        data: path/glob or list of them (CSV incl. .gz/.zip, Parquet, JSONL), a
            pandas DataFrame, pyarrow Table/RecordBatch, list of RecordBatches, or
            a dict of columns.
        schema: declared types (a `Schema`, a dict, or a tensorflow_metadata Schema
            proto or .pbtxt path: see `tskew.io.schemas.as_schema`); inferred from all of the
            data when None (a feature is nullable when the data has a null in it).
        batch_size: rows per batch.
        on_bad_record: "error" raises `DataError` at the first bad record naming the
            file and line; "skip" drops and counts bad records.
        cache_bytes: files that take up to this much memory in all (text: their size;
            Parquet: uncompressed) are read once and kept; larger ones are streamed again
            on each pass (Parquet: only the columns the pass needs), so memory stays flat.
        header: CSV only: "auto" (the first row is the header; one that looks like data
            is an error), True (it is, unchecked) or None (no header row).
        column_names: CSV only: the columns' names in file order (replacing the header's;
            with ``header=None`` and a schema, the schema's order is the default).
        delimiter: CSV only: one character; default tab for ``.tsv``, else comma.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "adult.csv"
        >>> _ = path.write_text("39;State-gov\\n50;Private\\n")
        >>> open_source(str(path), header=None, column_names=["age", "job"],
        ...             delimiter=";").schema
        Schema(age: int64, job: string)
    """
    if schema is not None:
        schema = as_schema(schema)
    log = BadRecordLog(on_bad_record, max_bad_examples)
    csv_options = csv_options_for(schema, header, column_names, delimiter)
    if isinstance(data, str | Path) or (
        isinstance(data, list | tuple) and data and all(isinstance(d, str | Path) for d in data)
    ):
        files = expand_paths(data)
        return _open_files(files, schema, log, batch_size, cache_bytes, data, csv_options)
    table, description = in_memory_table(data)
    if schema is None:
        schema = Schema.infer(table)
    conformed = conform(table, schema, description, log, lambda i: (None, ""))
    return Source(schema, description, log, _cached=conformed.to_batches(batch_size))


def csv_options_for(
    schema: Schema | None,
    header: Any = AUTO,
    column_names: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> CsvOptions:
    """Checked `CsvOptions`; a headerless file's columns default to the schema's order.

    Raises:
        ConfigError: a bad option, or ``header=None`` with neither names nor a schema.
    """
    from tskew.errors import ConfigError

    options = CsvOptions.of(header, column_names, delimiter)
    if schema is not None:
        options = options.with_names(list(schema))
    if not options.has_header and options.column_names is None:
        raise ConfigError(
            "header=None: a file without a header row needs its column names; pass "
            "column_names=[...] (in file order) or a schema listing the columns in file order"
        )
    return options


def in_memory_table(data: Any) -> tuple[pa.Table, str]:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        _check_unique(
            list(map(str, data.columns)), "pandas DataFrame", "df.loc[:, ~df.columns.duplicated()]"
        )
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise DataError(
                f"pandas DataFrame: a column mixes value types ({err}); give each "
                "column one type, e.g. df[col].astype(str)"
            ) from None
        return table, f"pandas DataFrame ({len(data)} rows)"
    if isinstance(data, pa.Table):
        _check_unique(data.column_names, "pyarrow Table", "table.rename_columns([...])")
        return data, f"pyarrow Table ({data.num_rows} rows)"
    if isinstance(data, pa.RecordBatch):
        _check_unique(data.schema.names, "pyarrow RecordBatch", "batch.rename_columns([...])")
        return pa.Table.from_batches([data]), f"pyarrow RecordBatch ({data.num_rows} rows)"
    if isinstance(data, list | tuple) and all(isinstance(b, pa.RecordBatch) for b in data):
        if not data:
            raise DataError("an empty list of RecordBatches has no schema; pass a schema")
        table = pa.Table.from_batches(list(data))
        return table, f"{len(data)} RecordBatches ({table.num_rows} rows)"
    if isinstance(data, Mapping):
        for name, value in data.items():
            if np.ndim(value) == 0 and not isinstance(value, pa.Array | pa.ChunkedArray):
                raise DataError(
                    f"dict of columns: feature {name!r} is a single value ({value!r}), not a "
                    f"column; pass a list or array of values, e.g. {{{name!r}: [{value!r}]}}"
                )
        try:
            table = pa.table(
                {
                    k: v
                    if isinstance(v, pa.Array | pa.ChunkedArray)
                    else pa.array(np.asarray(v) if isinstance(v, np.ndarray) else v)
                    for k, v in data.items()
                }
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise DataError(f"dict of columns: {err}; give each column one value type") from None
        return table, f"dict of {table.num_columns} columns ({table.num_rows} rows)"
    raise DataError(
        f"cannot read data of type {type(data).__name__}; pass a file path or glob, a pandas "
        "DataFrame, a pyarrow Table/RecordBatch, a list of RecordBatches or a dict of columns"
    )


def _check_unique(names: list[str], what: str, fix: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(
            f"{what} has duplicate columns {duplicates}: a feature must be one column; "
            f"rename or drop the copies (e.g. with {fix})"
        )


def _describe_files(files: list[Path], spec: Any) -> str:
    if len(files) == 1:
        return f"{file_format(files[0])} file {files[0]}"
    return f"{len(files)} files matching {spec!r}"


def _open_files(
    files: list[Path],
    schema: Schema | None,
    log: BadRecordLog,
    batch_size: int,
    cache_bytes: int,
    spec: Any,
    csv_options: CsvOptions,
) -> Source:
    for path in files:
        file_format(path)  # fail early on unknown types
    prints = {path: fingerprint(path) for path in files}
    if schema is None:
        schema = infer_files(files, batch_size, csv_options)
    source = Source(
        schema,
        _describe_files(files, spec),
        log,
        _files=files,
        _batch_size=batch_size,
        _fingerprints=prints,
        csv_options=csv_options,
    )
    if sum(_decoded_bytes(p) for p in files) <= cache_bytes:
        source._cached = list(source.batches())
    return source


def _decoded_bytes(path: Path) -> int:
    """About what a file takes in memory once read (Parquet: its uncompressed size)."""
    if file_format(path) != "parquet":
        return path.stat().st_size
    with open_parquet(path) as pfile:  # closed at once: no handle waits for the GC
        meta = pfile.metadata
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))


def read_file(
    path: Path,
    schema: Schema,
    log: BadRecordLog,
    batch_size: int,
    csv_options: CsvOptions | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream one file as batches conforming to ``schema`` (bad records to ``log``)."""
    fmt = file_format(path)
    if fmt == "parquet":
        yield from read_row_groups(path, schema, log, batch_size)
        return
    if fmt == "csv" and (csv_options or CsvOptions()).header == AUTO:
        _check_header_against(path, csv_options or CsvOptions(), schema)
    for table, lines, raws, rows in text_chunks(path, fmt, log, batch_size, csv_options):

        def locate(i: int, lines=lines, raws=raws) -> tuple[int | None, str]:
            return int(lines[i]), (raws[i] if raws is not None else "")

        yield from conform(table, schema, str(path), log, locate, rows).to_batches(batch_size)


def read_row_groups(
    path: Path,
    schema: Schema,
    log: BadRecordLog,
    batch_size: int,
    groups: Iterable[int] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Row groups of a Parquet file (all, or ``groups``) as batches conforming to ``schema``.

    Whole row groups, decoded with Arrow's threads, so memory stays one group; rows are
    numbered from the start of the file, for bad records.
    """
    with open_parquet(path) as pfile:
        present = set(pfile.schema_arrow.names)
        columns = [n for n in schema if n in present]
        starts = [0]
        for rg in range(pfile.metadata.num_row_groups):
            starts.append(starts[-1] + pfile.metadata.row_group(rg).num_rows)
        for rg in range(pfile.metadata.num_row_groups) if groups is None else groups:
            group = pfile.read_row_group(rg, columns=columns, use_threads=True)
            table = conform(group, schema, str(path), log, lambda i: (None, ""), starts[rg])
            yield from table.to_batches(batch_size)


def open_parquet(path: Path) -> pq.ParquetFile:
    """Open a Parquet file; a file that is not Parquet is a `DataError` naming it."""
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(
            f"{path}: not a readable Parquet file ({err}); check that it was written "
            "completely as Parquet, or rename it to its real type (.csv, .jsonl)"
        ) from None


def _check_header_against(path: Path, options: CsvOptions, schema: Schema) -> None:
    """A header row whose fields parse as the schema's types of its columns is a data
    row: the file has no header. Without ``column_names``, a header sharing a name with
    the schema is taken as one."""
    fields = header_fields(path, options)
    if fields is None:
        return
    names = list(options.column_names or fields)
    if options.column_names is None:
        if set(names) & set(schema):
            return  # a header naming a feature is a header
        if len(names) != len(schema):  # no name of the schema, and numbers: data
            if has_number(fields):
                raise header_error(path, fields)
            return  # conform names the missing features
        names = list(schema)  # headerless: the schema's order is the likeliest
    check_header(path, fields, [schema[n].dtype if n in schema else None for n in names])


def text_chunks(
    path: Path,
    fmt: str,
    log: BadRecordLog,
    batch_size: int,
    csv_options: CsvOptions | None = None,
):
    """Parsed chunks of a CSV or JSONL file (see `read_csv_chunks`, `read_jsonl_chunks`)."""
    if fmt == "csv":  # blocks of roughly batch_size rows keep memory proportional to it
        block = min(max(batch_size * 32, 1 << 16), 1 << 24)
        return read_csv_chunks(path, log, block, csv_options)
    return read_jsonl_chunks(path, log, batch_size)


def infer_files(
    files: list[Path], batch_size: int, csv_options: CsvOptions | None = None
) -> Schema:
    """Infer dtypes and nullability from every row of every file (a pre-pass).

    With ``header="auto"``, a CSV header whose fields parse as the inferred types of
    the columns below is refused (`check_header`): the file likely has no header.
    """
    csv_options = csv_options or CsvOptions()
    dtypes: dict[str, Any] = {}
    nulls: dict[str, bool] = {}
    null_tokens: dict[str, bool] = {}  # "NA" & co: missing unless the column is text
    scratch = BadRecordLog("skip")  # malformed rows are reported on the real passes
    rows = 0
    for path in files:
        fmt = file_format(path)
        if fmt == "parquet":
            with open_parquet(path) as pfile:
                rows += pfile.metadata.num_rows
                for field_ in pfile.schema_arrow:
                    dtypes[field_.name] = widen(
                        dtypes.get(field_.name), arrow_to_dtype(field_.type, field_.name)
                    )
                for name, has_nulls in _parquet_null_presence(pfile).items():
                    nulls[name] = nulls.get(name, False) or has_nulls
            continue
        for table, *_ in text_chunks(path, fmt, scratch, batch_size, csv_options):
            rows += table.num_rows
            for name in table.column_names:
                col = table.column(name).combine_chunks()
                # CSV cells are text to parse; JSON values carry their own types
                found = infer_text_dtype(col) if fmt == "csv" else _typed_dtype(col, name)
                dtypes[name] = widen(dtypes.get(name), found)
                nulls[name] = nulls.get(name, False) or col.null_count > 0
                if fmt == "csv":
                    has_token = pc.any(pc.is_in(col, pa.array(NULL_TOKENS))).as_py()
                    null_tokens[name] = null_tokens.get(name, False) or bool(has_token)
    if not rows:
        what = "the file" if len(files) == 1 else "the files"
        raise DataError(
            f"{_describe_files(files, files)} has no data rows: {what} "
            f"{'is' if len(files) == 1 else 'are'} empty or only a header (bad records "
            "excluded), so there is nothing to read types from; pass a file with data, or "
            "declare the schema to read it anyway"
        )
    if csv_options.header == AUTO:
        for path in (p for p in files if file_format(p) == "csv"):
            names = csv_columns(path, csv_options)
            fields = header_fields(path, csv_options)
            if fields is not None and rows:
                check_header(path, fields, [dtypes.get(n) for n in names])
    features = {}
    for name, dtype in dtypes.items():
        if dtype is None:
            raise SchemaError(
                f"feature {name!r} has only missing values in {_describe_files(files, files)}, "
                "so its type cannot be inferred; declare it in the schema, e.g. "
                f"schema={{{name!r}: ts.float64()}}"
            )
        nullable = nulls.get(name, True) or (
            dtype is not DType.STRING and null_tokens.get(name, False)
        )
        features[name] = FeatureType(dtype, nullable)
    return Schema(features)


def _parquet_null_presence(pfile: pq.ParquetFile) -> dict[str, bool]:
    """Whether each column has nulls: from row-group statistics, scanning only columns
    whose statistics lack a null count."""
    meta = pfile.metadata
    names = pfile.schema_arrow.names
    found = dict.fromkeys(names, False)
    unknown: set[str] = set()
    for rg in range(meta.num_row_groups):
        group = meta.row_group(rg)
        for ci in range(group.num_columns):
            column = group.column(ci)
            name = column.path_in_schema
            stats = column.statistics
            if name not in found:
                continue
            if stats is None or not stats.has_null_count:
                unknown.add(name)
            elif stats.null_count:
                found[name] = True
    if unknown:
        table = pfile.read(columns=sorted(unknown))
        found.update({n: table.column(n).null_count > 0 for n in unknown})
    return found


def _typed_dtype(col: pa.Array, name: str):
    if pa.types.is_null(col.type):
        return None
    return arrow_to_dtype(col.type, name)
