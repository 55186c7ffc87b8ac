"""DetectSkew: one `SkewReport` per fixed window of a (possibly unbounded) stream of requests.

The combiner's accumulator is the batch detector's own `SkewState` (the same
per-feature counts ``ts.skew_report`` uses), so a window's report equals
``ts.skew_report(tfn, that window's rows)`` metric for metric, however Beam splits,
combines and merges the window's bundles. A `SkewState` pickles without its
TransformFn: the combiner, which holds the TransformFn once, re-attaches it before
it adds rows or reports.

Decisions, as documented on `DetectSkew`:

* Output: ``SkewReport`` elements, one per window (and pane), in that window, with
  ``report.serving = "window [start, end)"`` (RFC 3339, UTC); a late pane says so:
  ``"window [start, end) late pane 1"``.
* Empty windows emit nothing: Beam has no element to fire for them (the combine runs
  ``without_defaults``). No report for a window means no requests in it.
* Late data: dropped by default (``allowed_lateness=0``, Beam's default). With
  ``allowed_lateness`` > 0, each late element fires a late pane whose report covers
  the whole window so far (accumulating panes): the newest pane of a window supersedes
  the earlier ones.

Example (not run here)::

    reports = (
        requests                                   # dict rows or Arrow, timestamped
        | tsb.DetectSkew(tfn, window_size=300)     # 5-minute windows
        | beam.Filter(lambda r: not r.passed)
    )
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.transforms import trigger, window
from apache_beam.utils.windowed_value import PaneInfoTiming

from tskew.beam.source import TakesSource, batches_of
from tskew.errors import ConfigError
from tskew.io.sources import in_memory_table
from tskew.skew.detect import SkewState, checked_thresholds
from tskew.skew.report import SkewReport
from tskew.skew.serving.reading import rows_table
from tskew.skew.thresholds import Thresholds
from tskew.transform_fn import TransformFn

BUFFER_ROWS = 1024  # dict rows are folded into the counts this many at a time


class _Accumulator:
    """A window's `SkewState` plus the dict rows not folded in yet (picklable, no tfn)."""

    def __init__(self, state: SkewState):
        self.state = state
        self.rows: list[dict] = []


class _SkewCombineFn(beam.CombineFn):
    """Raw requests -> `SkewReport`, with `SkewState` accumulators."""

    def __init__(self, tfn: TransformFn, thresholds: Thresholds, buffer_rows: int = BUFFER_ROWS):
        self.tfn, self.thresholds, self.buffer_rows = tfn, thresholds, buffer_rows

    def create_accumulator(self) -> _Accumulator:
        return _Accumulator(SkewState(self.tfn))

    def add_input(self, acc: _Accumulator, element: Any) -> _Accumulator:
        if isinstance(element, dict):  # one request: buffered (1-row tables: ~10x slower overall)
            acc.rows.append(element)
            if len(acc.rows) >= self.buffer_rows:
                self._flush(acc)
        else:
            table, _ = in_memory_table(element)  # Table, RecordBatch(es), DataFrame
            self._state(acc).add(table)
        return acc

    def merge_accumulators(self, accs: Iterable[_Accumulator]) -> _Accumulator:
        accs = iter(accs)
        out = next(accs)
        for acc in accs:
            out.state = out.state.merge(acc.state)  # counts only: no TransformFn needed
            out.rows += acc.rows
        if len(out.rows) >= self.buffer_rows:
            self._flush(out)
        return out

    def compact(self, acc: _Accumulator) -> _Accumulator:
        return self._flush(acc)  # before the accumulator is shuffled: counts, not rows

    def extract_output(self, acc: _Accumulator) -> SkewReport:
        return self._state(self._flush(acc)).report(self.thresholds)

    def _state(self, acc: _Accumulator) -> SkewState:
        acc.state.tfn = self.tfn  # None after the accumulator was pickled
        return acc.state

    def _flush(self, acc: _Accumulator) -> _Accumulator:
        if acc.rows:
            self._state(acc).add(rows_table(acc.rows))
            acc.rows = []
        return acc


class _LabelWindow(beam.DoFn):
    """Name the report's window (and a late pane) in ``report.serving``."""

    def process(
        self,
        report: SkewReport,
        win=beam.DoFn.WindowParam,
        pane=beam.DoFn.PaneInfoParam,
    ):
        label = f"window [{_time(win.start)}, {_time(win.end)})"
        if pane.timing == PaneInfoTiming.LATE:
            label += f" late pane {pane.index}"
        yield dataclasses.replace(report, serving=label)


def _seconds(name: str, value: Any, positive: bool) -> float:
    """``value`` as seconds: a finite number, > 0 (``positive``) or >= 0, or `ConfigError`."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        least = "positive" if positive else "non-negative"
        raise ConfigError(f"DetectSkew: {name} must be a {least} number of seconds, got {value!r}")
    return value


def _time(ts: Any) -> str:
    try:
        return ts.to_rfc3339()
    except (ValueError, OverflowError):  # outside the datetime range (e.g. no timestamps)
        return str(ts)


class DetectSkew(TakesSource):
    """Timestamped raw requests -> one `SkewReport` per fixed event-time window.

    Args:
        tfn: the TransformFn whose statistics are the training baseline (or an artifact
            path for ``ts.load``).
        window_size: window length in seconds (``FixedWindows``, aligned to the epoch).
        thresholds: `Thresholds`, a TOML path (read once, here), or None for the defaults.
        allowed_lateness: seconds after the watermark passes a window during which late
            requests still count (0: late requests are dropped, Beam's default).
        buffer_rows: dict rows are folded into the counts this many at a time.

    Input elements are dict rows (one request, raw feature values), pyarrow RecordBatches
    or Tables (or pandas DataFrames) of raw features, timestamped (``TimestampedValue``,
    a streaming source's event time). Bounded and unbounded PCollections both work, and
    so does a `Source` from a tskew reader (its batches).

    Output: ``SkewReport`` elements in the window they describe, ``report.serving`` set to
    ``"window [start, end)"`` (RFC 3339, UTC) and ``report.rows["serving"]`` counting the
    window's rows. Its metrics equal ``ts.skew_report(tfn, the window's rows)``. A window
    with no requests emits nothing. With ``allowed_lateness`` > 0 every late request fires
    a further pane for its window: a complete, updated report of the window (accumulating
    panes), labelled ``"window [start, end) late pane N"``; the newest pane supersedes.
    """

    def __init__(
        self,
        tfn: TransformFn | str | Path,
        window_size: float,
        thresholds: Thresholds | str | Path | None = None,
        *,
        allowed_lateness: float = 0,
        buffer_rows: int = BUFFER_ROWS,
    ):
        super().__init__()
        if not isinstance(tfn, TransformFn):
            from tskew.artifact import load_transform_fn

            tfn = load_transform_fn(tfn)
        window_size = _seconds("window_size", window_size, positive=True)
        allowed_lateness = _seconds("allowed_lateness", allowed_lateness, positive=False)
        if not isinstance(buffer_rows, int) or isinstance(buffer_rows, bool) or buffer_rows < 1:
            raise ConfigError(f"DetectSkew: buffer_rows must be an int >= 1, got {buffer_rows!r}")
        thresholds = checked_thresholds(tfn, thresholds)
        SkewState(tfn)  # fail here, not on a worker, when tfn has no skew baseline
        self.combine_fn = _SkewCombineFn(tfn, thresholds, buffer_rows)
        self.window_size, self.allowed_lateness = window_size, allowed_lateness

    def expand(self, pcoll):
        windowing = (
            {}
            if not self.allowed_lateness
            else {
                "trigger": trigger.AfterWatermark(late=trigger.AfterCount(1)),
                "accumulation_mode": trigger.AccumulationMode.ACCUMULATING,
                "allowed_lateness": self.allowed_lateness,
            }
        )
        return (
            batches_of(pcoll)
            | "Window" >> beam.WindowInto(window.FixedWindows(self.window_size), **windowing)
            | "Combine" >> beam.CombineGlobally(self.combine_fn).without_defaults()
            | "LabelWindow" >> beam.ParDo(_LabelWindow())
        )


__all__ = ["DetectSkew"]
