"""`SkewMonitor`: skew detection inside a serving process, window by window.

``observe(batch)`` folds raw request features into the current window's counts (the
same `SkewState` the batch detector uses, so ``report()`` is the same `SkewReport`);
a window closes after ``window`` rows, or after ``window`` seconds when
``by="time"``. When a closed window (or a mid-window check every ``check_every``
rows) has a feature beyond an error threshold, ``on_error(report)`` is called, once
per feature per window.

Thread-safe: conversion and checks run outside the lock, counting inside it, so no
observation is lost or counted twice. ``on_error`` runs after the lock is released,
so it may call ``report()`` or ``observe()`` (and, called from several serving threads,
it may run in several at once: keep its own state thread-safe); whatever it does, every
row belongs to exactly one window. Batches are buffered and counted in bulk (every
`FLUSH_ROWS` rows, and before any report or check).

Example:
    >>> import numpy as np, tskew as ts
    >>> rng = np.random.default_rng(0)
    >>> fn = lambda i: {"y": ts.scale_to_z_score(i["x"])}
    >>> tfn = ts.analyze(fn, {"x": rng.normal(0, 1, 4000)})
    >>> alerts = []
    >>> monitor = SkewMonitor(tfn, window=1000, on_error=alerts.append)
    >>> for shift in (0.0, 0.0, 2.0):
    ...     monitor.observe({"x": rng.normal(shift, 1, 1000)})
    >>> [r.passed for r in monitor.closed], len(alerts)
    ([True, True, False], 1)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from tskew.errors import ConfigError
from tskew.skew import monitor_checks as checks
from tskew.skew.detect import SkewState, checked_thresholds
from tskew.skew.report import SkewReport
from tskew.skew.thresholds import Thresholds
from tskew.transform_fn import TransformFn

KEEP_CLOSED = 100  # closed-window reports kept in ``closed``
# Observed batches are counted in bulk: per-call overhead of a few small batches would
# otherwise cost more than the transform itself.
FLUSH_ROWS = 1 << 16


class SkewMonitor:
    """Windowed skew detection for a serving process.

    Args:
        tfn: the TransformFn whose training statistics are the baseline.
        window: rows per window (``by="rows"``: a positive whole number) or seconds
            (``by="time"``: a positive number; a ``timedelta`` implies ``by="time"``).
        by: "rows" or "time".
        thresholds: `Thresholds`, a TOML path, or None for the defaults.
        on_error: called with the report when a feature crosses an error threshold,
            outside the monitor's lock (it may call ``report()`` or ``observe()``). An
            exception it raises reaches the ``observe()`` / ``report()`` caller after
            the rows were counted.
        check_every: also judge the open window every this many rows (None: only at
            window close).
        outputs: also compare transformed outputs. They are computed by running the
            transform again unless ``observe`` is given them (``transformed=``).
        clock: seconds as a float (tests pass a fake clock).

    Raises:
        ConfigError: an argument of the wrong type or out of range, naming it.
        SchemaError: thresholds that are malformed or name an unknown feature.
    """

    def __init__(
        self,
        tfn: TransformFn,
        window: float | timedelta = 10_000,
        *,
        by: str = "rows",
        thresholds: Thresholds | str | Path | None = None,
        on_error: Callable[[SkewReport], None] | None = None,
        check_every: int | None = None,
        outputs: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        checks.check_settings(tfn, by, on_error, check_every, outputs, clock)
        window, implied = checks.window_from_timedelta(window)
        by = implied or by
        self.tfn, self.window, self.by = tfn, checks.window_size(window, by), by
        self.thresholds = checked_thresholds(tfn, thresholds)
        self.on_error, self.check_every, self.outputs = on_error, check_every, bool(outputs)
        self.clock = clock
        self.closed: deque[SkewReport] = deque(maxlen=KEEP_CLOSED)
        self._lock = threading.Lock()
        self._index = 0
        self._open_window()
        self._compared = list(self._state.outputs)

    # ------------------------------------------------------------ observing
    def observe(self, batch: Any, transformed: Any = None) -> None:
        """Fold raw request features (dict of arrays, DataFrame, Arrow) into the window.

        Args:
            batch: raw features, one value per row for each feature. Columns the
                TransformFn does not read are reported as unexpected features.
            transformed: the batch's transformed outputs, if the server has them
                (needs ``outputs=True``): every compared output, same rows.

        Raises:
            DataError: ``batch`` or ``transformed`` is not a batch of columns (a string
                or number for a feature, columns of different lengths, an unknown or
                missing output), naming the feature. Nothing is counted then.
            ConfigError: ``transformed`` given to a monitor with ``outputs=False``.
        """
        table = checks.checked_table(batch)
        out_table = None
        if transformed is not None:
            if not self.outputs:
                raise ConfigError(
                    "observe: transformed= was given but this SkewMonitor compares raw "
                    "inputs only; create it with outputs=True to compare outputs too"
                )
            out_table = checks.checked_transformed(
                transformed, self.tfn, self._compared, table.num_rows
            )
        with self._lock:
            alerts = self._count(table, out_table)
        self._push(alerts)

    def report(self) -> SkewReport:
        """The open window's report so far (the same `SkewReport` as `ts.skew_report`).

        With ``by="time"``, a window whose time is up closes here, and its report is
        returned.
        """
        alerts: list[SkewReport] = []
        with self._lock:
            if self._time_is_up():
                report = self._close(alerts)
            else:
                self._flush()
                report = self._state.report(self.thresholds, serving=self._label())
        self._push(alerts)
        return report

    @property
    def last_report(self) -> SkewReport | None:
        """The most recently closed window's report."""
        return self.closed[-1] if self.closed else None

    # ------------------------------------------------------------- internals
    def _count(self, table: pa.Table, out_table: pa.Table | None) -> list[SkewReport]:
        """Add ``table``'s rows to the open window(s) (under the lock); the alerts due."""
        alerts: list[SkewReport] = []
        if self._time_is_up():
            self._close(alerts)
        start = 0
        while start < table.num_rows:
            take = table.num_rows - start
            if self.by == "rows":
                take = min(take, self.window - self._rows())  # >= 1: full windows close
            out_part = None if out_table is None else out_table.slice(start, take)
            self._pending.append((table.slice(start, take), out_part))
            self._pending_rows += take
            start += take
            if self.by == "rows" and self._rows() >= self.window:
                self._close(alerts)
            elif self.check_every and self._rows() >= self._next_check:
                self._next_check += self.check_every
                self._flush()
                self._alert(self._state.report(self.thresholds, serving=self._label()), alerts)
            elif self._pending_rows >= FLUSH_ROWS:
                self._flush()
        return alerts

    def _push(self, alerts: list[SkewReport]) -> None:
        """Call ``on_error`` for each alert, outside the lock; then raise its first error."""
        errors = []
        for report in alerts:
            try:
                self.on_error(report)  # type: ignore[misc]
            except Exception as err:  # every alert is pushed before the first error surfaces
                errors.append(err)
        if errors:
            raise errors[0]

    def _time_is_up(self) -> bool:
        return self.by == "time" and checks.check_clock(self.clock()) - self._started >= self.window

    def _rows(self) -> int:
        return self._state.rows + self._pending_rows

    def _flush(self) -> None:
        """Count the buffered batches (one table when their columns agree)."""
        pending, self._pending, self._pending_rows = self._pending, [], 0
        if not pending:
            return
        raws, outs = [p[0] for p in pending], [p[1] for p in pending]
        with_outputs = {o is not None for o in outs}
        # Arrow drops the rows of column-less tables when concatenating them.
        mixed = len(with_outputs) > 1 or any(r.num_columns == 0 for r in raws)
        if len(pending) > 1 and not mixed:
            try:
                raw = pa.concat_tables(raws, promote_options="permissive")
                out = None if outs[0] is None else pa.concat_tables(outs)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. a column int here, text there
                pass
            else:
                self._add(raw, out)
                return
        for raw_part, out_part in pending:
            self._add(raw_part, out_part)

    def _add(self, raw: pa.Table, transformed: pa.Table | None) -> None:
        state = self._state
        if transformed is None:
            state.add(raw) if self.outputs else _add_inputs_only(state, raw)
            return
        _add_inputs_only(state, raw)
        for name, acc in state.outputs.items():
            acc.add(transformed.column(name).combine_chunks(), 0)

    def _open_window(self) -> None:
        self._state = SkewState(self.tfn)
        self._pending: list[tuple[pa.Table, pa.Table | None]] = []
        self._pending_rows = 0
        if not self.outputs:
            self._state.outputs = {}
        self._started = checks.check_clock(self.clock())
        self._index += 1
        self._fired: set[str] = set()
        self._next_check = self.check_every or 0

    def _close(self, alerts: list[SkewReport]) -> SkewReport:
        """Close the open window (its report kept and, if due, queued in ``alerts``)."""
        self._flush()
        report = self._state.report(self.thresholds, serving=self._label())
        self.closed.append(report)
        self._alert(report, alerts)  # only queued: on_error runs after the lock is released
        self._open_window()
        return report

    def _alert(self, report: SkewReport, alerts: list[SkewReport]) -> None:
        """Queue ``report`` in ``alerts`` if it has a failing feature not pushed yet."""
        failing = {f.name for f in report.feature_list if f.verdict == "error"}
        if report.missing_features and report.rows.get("serving"):
            failing |= {f"missing:{name}" for name in report.missing_features}
        new = failing - self._fired
        if new and self.on_error is not None:
            self._fired |= new
            alerts.append(report)

    def _label(self) -> str:
        return f"SkewMonitor window {self._index} ({self.by})"


def _add_inputs_only(state: SkewState, table: pa.Table) -> None:
    outputs, state.outputs = state.outputs, {}
    try:
        state.add(table)
    finally:
        state.outputs = outputs
