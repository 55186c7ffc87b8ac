"""`TransformFn`: a frozen graph plus the training statistics it was built from.

Example:
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": ts.scale_to_0_1(i["x"])}, {"x": [0.0, 5.0, 10.0]})
    >>> tfn.transform({"x": [2.5]})["y"].tolist()
    [0.25]
    >>> tfn.output_schema
    Schema(y: float64)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from tskew.interpreter import Executor, column_to_arrow
from tskew.io.bad_records import BadRecord
from tskew.ir.graph import Graph
from tskew.schema import FeatureType, Schema
from tskew.statistics import DatasetStatistics

if TYPE_CHECKING:
    from tskew.artifact import SavedArtifact

TRANSFORM_BATCH_SIZE = 1 << 16


class TransformFn:
    """The compiled transform: run it, inspect it, save it, export it.

    Attributes:
        graph: the frozen IR graph (analyzer results are constants).
        input_schema: the raw features the transform reads.
        statistics: `DatasetStatistics` of the training data (inputs and outputs).
        plan_text: how the analysis ran (phases and passes).
        metadata: source description, timings, bad-record examples.
    """

    def __init__(
        self,
        graph: Graph,
        input_schema: Schema,
        statistics: DatasetStatistics,
        plan_text: str = "",
        metadata: dict[str, Any] | None = None,
    ):
        self.graph = graph
        self.input_schema = input_schema
        self.statistics = statistics
        self.plan_text = plan_text
        self.metadata = dict(metadata or {})
        self._executor = Executor(graph)

    @property
    def output_schema(self) -> Schema:
        """Output name -> type; outputs are never null (``width`` set for one_hot)."""
        return Schema(
            {
                name: FeatureType(self.graph.nodes[nid].type.dtype, False)
                for name, nid in self.graph.outputs.items()
            }
        )

    # ------------------------------------------------------------ transform
    def transform_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Transform one Arrow RecordBatch whose columns already match the input schema."""
        ids = list(self.graph.outputs.values())
        values = self._executor.run(batch, ids)
        arrays = [column_to_arrow(values[i], self.graph.nodes[i].type) for i in ids]
        return pa.RecordBatch.from_arrays(arrays, schema=self.arrow_output_schema)

    def transform_batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield self.transform_batch(batch)

    def transform(
        self,
        data: Any,
        *,
        batch_size: int = TRANSFORM_BATCH_SIZE,
        on_bad_record: str = "error",
        return_report: bool = False,
        output: str = "auto",
        header: Any = "auto",
        column_names: Sequence[str] | None = None,
        delimiter: str | None = None,
    ) -> Any:
        """Transform ``data``, returning the same kind of container unless ``output`` says.

        With ``output="auto"``: DataFrame in -> DataFrame out (the index of the rows
        kept); pyarrow Table -> Table; RecordBatch -> RecordBatch; dict of columns ->
        dict of numpy arrays; file paths or globs -> pyarrow Table (files may not fit a
        DataFrame; ``output="pandas"`` asks for one).

        Example:
            >>> import tskew as ts
            >>> tfn = ts.analyze(lambda i: {"y": i["x"] * 2}, {"x": [1, 2]})
            >>> type(tfn.transform({"x": [3]}, output="pandas")).__name__
            'DataFrame'
            >>> tfn.transform({"x": [3]}, output="arrow").to_pydict()
            {'y': [6]}

        Args:
            data: the raw rows (see `tskew.io.open_source`).
            batch_size: rows per batch.
            on_bad_record: "error" raises `DataError` at the first bad record; "skip"
                drops bad records, so the result has fewer rows than the input (a
                warning says how many unless ``return_report`` is set).
            return_report: also return a `TransformReport` naming the dropped rows:
                ``out, report = tfn.transform(df, on_bad_record="skip",
                return_report=True)``; ``report.dropped_rows`` are their 0-based input
                positions.
            output: "auto" (as above), "pandas" (a DataFrame), "arrow" (a pyarrow
                Table) or "numpy" (a dict of numpy arrays).
            header, column_names, delimiter: how to read CSV files (see
                `tskew.io.open_source`; ``header=None`` names the columns in the input
                schema's order unless ``column_names`` says otherwise).

        Returns:
            The transformed rows, or ``(rows, report)`` when ``return_report``.
        """
        from tskew.io import open_source

        if output not in OUTPUTS:
            from tskew.errors import ConfigError

            raise ConfigError(f"output={output!r}: expected one of {', '.join(OUTPUTS)}")
        if isinstance(data, dict):
            check_columns(data)
        batch_size = min(batch_size, rows_per_batch(self.graph))
        source = open_source(
            data,
            self.input_schema,
            batch_size=batch_size,
            on_bad_record=on_bad_record,
            max_bad_examples=1 << 62,  # every dropped row is reported
            header=header,
            column_names=column_names,
            delimiter=delimiter,
        )
        out_schema = self.arrow_output_schema
        table = pa.Table.from_batches(
            list(self.transform_batches(source.batches())), schema=out_schema
        )
        report = _report(source, table.num_rows)
        if report.count and not return_report:
            warnings.warn(
                f"transform dropped {report.count} bad record(s) of {source.description} "
                f"(input rows {report.dropped_rows[:10].tolist()}"
                f"{' ...' if report.count > 10 else ''}; first: {report.bad_records[0]}); "
                "pass return_report=True to get them all",
                stacklevel=2,
            )
        result = _as_output(output, data, table, report.dropped_rows)
        return (result, report) if return_report else result

    @property
    def arrow_output_schema(self) -> pa.Schema:
        """The Arrow schema of transformed batches (every field non-nullable)."""
        return arrow_output_schema(self.graph)

    # ----------------------------------------------------------- persistence
    def save(self, path: str | Path) -> SavedArtifact:
        """Write the artifact directory (JSON manifest + Arrow arrays, sha256 each), atomically.

        Returns:
            The directory (a `pathlib.Path`) with ``.digest``, the artifact digest to pin
            with ``ts.load(path, digest=...)``.
        """
        from tskew.artifact import save_transform_fn

        return save_transform_fn(self, Path(path))

    def to_saved_model(
        self,
        path: str | Path,
        *,
        model: Any = None,
        postprocess: Any = None,
        model_output: str | None = None,
        tft_layout: bool = False,
    ) -> Path:
        """Export as a TensorFlow SavedModel (see `tskew.exporters.saved_model`).

        Args:
            path: directory to write.
            model: optional Keras / tf.keras model or SavedModel directory fed the
                transformed features; ``serving_default`` then returns its predictions.
            postprocess: optional `ts.policy` applied to the predictions.
            model_output: the model output to serve when it has several.
            tft_layout: also write TensorFlow Transform's layout (``transform_fn/``,
                ``transformed_metadata/``) beside it, for ``tft.TFTransformOutput(path)``.
        """
        from tskew.exporters.saved_model import export_saved_model

        return export_saved_model(
            self,
            path,
            model=model,
            postprocess=postprocess,
            model_output=model_output,
            tft_layout=tft_layout,
        )

    def to_onnx(
        self,
        path: str | Path,
        *,
        model: Any = None,
        postprocess: Any = None,
        model_output: str | None = None,
    ) -> Path:
        """Export as one ONNX graph (see `tskew.exporters.onnx_export`).

        Args:
            path: the ``.onnx`` file to write.
            model: optional ONNX file / ModelProto, or Keras model (converted with
                tf2onnx), fed the transformed features by name.
            postprocess: optional `ts.policy` applied to the predictions.
            model_output: the model output to serve when it has several.
        """
        from tskew.exporters.onnx_export import export_onnx

        return export_onnx(
            self, path, model=model, postprocess=postprocess, model_output=model_output
        )

    # -------------------------------------------------------------- display
    def __str__(self) -> str:
        lines = [
            f"TransformFn: {len(self.input_schema)} inputs -> "
            f"{len(self.graph.outputs)} outputs, trained on "
            f"{self.statistics.num_rows} rows"
        ]
        if self.statistics.bad_records:
            lines[0] += f" ({self.statistics.bad_records} bad records skipped)"
        lines.append(str(self.graph))
        lines.append("input statistics:")
        lines += [f"  {s.summary()}" for s in self.statistics.inputs.values()]
        if self.statistics.outputs:
            lines.append("output statistics:")
            lines += [f"  {s.summary()}" for s in self.statistics.outputs.values()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<TransformFn inputs={list(self.input_schema)} "
            f"outputs={list(self.graph.outputs)} rows={self.statistics.num_rows}>"
        )


# Output values (float32 / int64 / ...) one transformed batch may hold: wide outputs
# (one_hot) get proportionally fewer rows per batch.
MAX_BATCH_VALUES = 1 << 24


def rows_per_batch(graph: Graph) -> int:
    """How many rows one batch transforms so that its outputs hold <= `MAX_BATCH_VALUES`.

    Example:
        >>> import tskew as ts
        >>> tfn = ts.analyze(lambda i: {"h": ts.one_hot(i["n"], 1024)}, {"n": [1, 2]})
        >>> rows_per_batch(tfn.graph)
        16384
    """
    width = sum(graph.nodes[nid].type.width or 1 for nid in graph.outputs.values())
    return max(1, MAX_BATCH_VALUES // max(width, 1))


def check_columns(data: dict) -> None:
    """A dict of columns must hold 1-D columns of one length (nothing is broadcast).

    Raises:
        DataError: naming the first column that is a scalar, nested or of another length.
    """
    from tskew.errors import DataError

    first, length = None, None
    for name, values in data.items():
        nested = getattr(values, "ndim", 1) != 1 or (
            isinstance(values, list | tuple)
            and len(values) > 0
            and isinstance(values[0], list | tuple | np.ndarray)
        )
        if isinstance(values, str | bytes) or not hasattr(values, "__len__") or nested:
            raise DataError(
                f"column {name!r} must be a 1-D sequence with one value per row, got "
                f"{type(values).__name__}{' (nested)' if nested else ''}; wrap a single row's "
                "value in a list"
            )
        if length is None:
            first, length = name, len(values)
        elif len(values) != length:
            raise DataError(
                f"column {name!r} has {len(values)} values but {first!r} has {length}; every "
                "column needs one value per row (nothing is broadcast)"
            )


def arrow_output_schema(graph: Graph) -> pa.Schema:
    fields = []
    for name, nid in graph.outputs.items():
        t = graph.nodes[nid].type
        arrow_type = pa.list_(t.dtype.arrow, t.width) if t.width else t.dtype.arrow
        fields.append(pa.field(name, arrow_type, nullable=False))
    return pa.schema(fields)


@dataclass(frozen=True)
class TransformReport:
    """What `TransformFn.transform` dropped (``on_bad_record="skip"``).

    Attributes:
        rows_in: records read (kept and dropped).
        rows_out: rows transformed.
        dropped_rows: sorted 0-based positions of the dropped records in the input
            (for files: counted over all records of the files in order).
        bad_records: every dropped record, with its file and line (or row) and reason.
    """

    rows_in: int
    rows_out: int
    dropped_rows: np.ndarray
    bad_records: list[BadRecord] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many records were dropped."""
        return len(self.dropped_rows)


def _report(source: Any, rows_out: int) -> TransformReport:
    records = list(source.bad_records.examples)
    rows = [source.input_row(r) for r in records]
    dropped = np.array(sorted(r for r in rows if r is not None), np.int64)
    return TransformReport(rows_out + len(records), rows_out, dropped, records)


OUTPUTS = ("auto", "pandas", "arrow", "numpy")


def _as_output(output: str, data: Any, table: pa.Table, dropped: np.ndarray) -> Any:
    """``table`` as the container ``output`` names ("auto": like ``data``)."""
    if output == "arrow":
        return table
    if output == "numpy":
        return {name: _to_numpy(table.column(name)) for name in table.column_names}
    if output == "pandas":
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return _like_input(data, table, dropped)
        return table.to_pandas()
    return _like_input(data, table, dropped)


def _like_input(data: Any, table: pa.Table, dropped: np.ndarray) -> Any:
    """Return ``table`` in the container type of ``data`` (a DataFrame keeps the index
    labels of the rows not ``dropped``)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        frame = table.to_pandas()
        keep = np.ones(len(data), bool)
        keep[dropped] = False
        frame.index = data.index[keep]
        return frame
    if isinstance(data, pa.RecordBatch):
        return (
            table.combine_chunks().to_batches()[0]
            if table.num_rows
            else pa.RecordBatch.from_pylist([], schema=table.schema)
        )
    if isinstance(data, dict):
        return {name: _to_numpy(table.column(name)) for name in table.column_names}
    return table


def _to_numpy(col: pa.ChunkedArray) -> np.ndarray:
    col = col.combine_chunks()
    if pa.types.is_fixed_size_list(col.type):
        width = col.type.list_size
        return col.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    return col.to_numpy(zero_copy_only=False)
