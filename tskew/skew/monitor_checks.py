"""Argument checks for `tskew.SkewMonitor`: constructor settings and observed batches.

A monitor runs inside a serving process, so a mistake must fail at once, in the
caller's thread, naming the argument or feature; never later inside ``report()`` or
as a window that cannot close.

Example:
    >>> window_size(1000, "rows")
    1000
    >>> checked_table({"x": [1.0, 2.0]}).num_rows
    2
    >>> checked_table({"x": "1.0"})
    Traceback (most recent call last):
    ...
    tskew.errors.DataError: observe: feature 'x' is a str, not a column of values; ...
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from tskew.errors import ConfigError, DataError, SchemaError
from tskew.io.sources import in_memory_table
from tskew.schema import arrow_to_dtype
from tskew.transform_fn import TransformFn

WINDOW_KINDS = ("rows", "time")


def check_settings(
    tfn: Any,
    by: Any,
    on_error: Any,
    check_every: Any,
    outputs: Any,
    clock: Any,
) -> None:
    """Every `SkewMonitor` argument but the window and thresholds, or `ConfigError`."""
    if not isinstance(tfn, TransformFn):
        raise ConfigError(
            f"SkewMonitor: tfn must be a TransformFn (ts.analyze or ts.load), got "
            f"{type(tfn).__name__}"
        )
    if not isinstance(by, str) or by not in WINDOW_KINDS:
        raise ConfigError(f'SkewMonitor: by must be "rows" or "time", got {by!r}')
    if on_error is not None and not callable(on_error):
        raise ConfigError(
            f"SkewMonitor: on_error must be a function taking a SkewReport (or None), got "
            f"{type(on_error).__name__}"
        )
    if check_every is not None and (
        not _is_int(check_every) or check_every <= 0  # type: ignore[operator]
    ):
        raise ConfigError(
            f"SkewMonitor: check_every must be a positive whole number of rows (or None), "
            f"got {check_every!r}"
        )
    if not isinstance(outputs, bool | np.bool_):
        raise ConfigError(f"SkewMonitor: outputs must be True or False, got {outputs!r}")
    if not callable(clock):
        raise ConfigError(
            f"SkewMonitor: clock must be a function returning seconds, got {type(clock).__name__}"
        )


def window_size(window: Any, by: str) -> int | float:
    """The window as rows (a positive int) or seconds (a positive finite number).

    Raises:
        ConfigError: a bool, a non-number, NaN, infinity, zero or less, or a fraction of
            a row (``window=100.5`` with ``by="rows"``).
    """
    if isinstance(window, bool | np.bool_) or not isinstance(window, numbers.Real):
        raise ConfigError(
            f"SkewMonitor: window must be a number of {by} (or a timedelta), got {window!r}"
        )
    value = float(window)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(
            f"SkewMonitor: window must be a positive finite number of {_unit(by)}, got {window!r}"
        )
    if by == "time":
        return value
    if not value.is_integer():
        raise ConfigError(
            f"SkewMonitor: window={window!r} is not a whole number of rows; give an int "
            '(or by="time" for a window in seconds)'
        )
    return int(value)


def window_from_timedelta(window: Any) -> tuple[Any, str | None]:
    """(seconds, "time") for a timedelta; the window unchanged (and no kind) otherwise."""
    if isinstance(window, timedelta):
        return window.total_seconds(), "time"
    return window, None


def check_clock(now: Any) -> float:
    """The clock's reading, which must be a finite number of seconds."""
    if isinstance(now, bool) or not isinstance(now, numbers.Real) or not math.isfinite(now):
        raise ConfigError(f"SkewMonitor: clock() must return seconds as a number, got {now!r}")
    return float(now)


def checked_table(data: Any, what: str = "observe") -> pa.Table:
    """``data`` (dict of columns, DataFrame, Arrow) as a table, every column checked.

    Raises:
        DataError: naming the feature: a value that is not a column (a string, a
            number, a dict, a 2-D array) or columns of different lengths.
    """
    if isinstance(data, Mapping):
        lengths = {}
        for name, values in data.items():
            if not isinstance(name, str):
                raise DataError(f"{what}: feature names must be strings, got {name!r}")
            lengths[name] = _column_length(name, values, what)
        if len(set(lengths.values())) > 1:
            first = next(iter(lengths))
            odd = next(n for n in lengths if lengths[n] != lengths[first])
            raise DataError(
                f"{what}: feature {odd!r} has {lengths[odd]} values but {first!r} has "
                f"{lengths[first]}; every feature of a batch needs one value per row"
            )
    elif isinstance(data, str | bytes):
        raise DataError(
            f"{what}: got a {type(data).__name__}; SkewMonitor observes in-memory batches "
            "(dict of columns, DataFrame, pyarrow Table/RecordBatch), not paths"
        )
    table, _ = in_memory_table(data)
    rows = _pandas_rows(data)
    if rows is not None and rows != table.num_rows:  # a DataFrame without columns
        table = pa.table({"": pa.nulls(rows)}).drop([""])
    return table


def _pandas_rows(data: Any) -> int | None:
    """Rows of a pandas DataFrame (Arrow drops those of one without columns), else None."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        return None
    return len(data) if isinstance(data, pd.DataFrame) else None


def checked_transformed(
    transformed: Any, tfn: TransformFn, compared: list[str], rows: int
) -> pa.Table:
    """The compared output columns of ``transformed``, checked against the TransformFn.

    Raises:
        DataError: an unknown column, a compared output that is absent or of the wrong
            type, or a row count different from the raw batch's.
    """
    table = checked_table(transformed, "observe(transformed=...)")
    known = tfn.graph.outputs
    for name in table.column_names:
        if name not in known:
            raise DataError(
                f"observe(transformed=...): column {name!r} is not an output of the "
                f"TransformFn; its outputs are {', '.join(known)}"
            )
    for name in compared:
        if name not in table.column_names:
            raise DataError(
                f"observe(transformed=...): output {name!r} is missing; pass every "
                f"transformed output ({', '.join(compared)}) or omit transformed= to "
                "have the monitor run the transform"
            )
        _check_output_type(name, table.column(name).type, tfn)
    if table.num_rows != rows:
        raise DataError(
            f"observe: transformed has {table.num_rows} rows for {rows} raw rows; pass "
            "the outputs of exactly the observed rows"
        )
    return table.select(compared)


def _check_output_type(name: str, arrow_type: pa.DataType, tfn: TransformFn) -> None:
    want = tfn.graph.nodes[tfn.graph.outputs[name]].type.dtype
    try:
        got = arrow_to_dtype(arrow_type, name)
    except SchemaError:
        got = None
    if got is None or not (got == want or (got.is_numeric and want.is_numeric)):
        raise DataError(
            f"observe(transformed=...): output {name!r} has Arrow type {arrow_type}; the "
            f"TransformFn makes {want}"
        )


def _column_length(name: str, values: Any, what: str) -> int:
    if isinstance(values, str | bytes | Mapping) or not hasattr(values, "__len__"):
        raise DataError(
            f"{what}: feature {name!r} is a {type(values).__name__}, not a column of values; "
            f"pass a list or array with one value per row, e.g. {{{name!r}: [value]}}"
        )
    ndim = getattr(values, "ndim", 1)
    if ndim != 1:
        raise DataError(
            f"{what}: feature {name!r} is a {ndim}-dimensional array; pass one value per row "
            "(a 1-dimensional array)"
        )
    return len(values)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _unit(by: str) -> str:
    return "rows" if by == "rows" else "seconds"
