"""Feature skew (TFDV's sense): did the model receive the features the TransformFn computes?

Given the raw requests a server logged and the feature values the model actually
received (two datasets sharing an id column), `feature_skew` recomputes every output
of the TransformFn from the raw rows, joins the two sides by id and counts, per output
feature, the rows whose logged value differs. A serving path that bypasses the
exported signature (a hand-written re-implementation, a stale vocabulary, float64
arithmetic where the transform uses float32) shows up as mismatches with examples.

Comparison is exact by default: floats bit for bit (so -0.0 differs from 0.0), except
that every NaN equals every NaN; a null equals only a null. ``ulps`` and ``atol`` relax
float comparisons (a pair matches if either holds). Logged values are first converted
to the output's dtype, as feeding them to the model would (a float64 log of a float32
feature is rounded to float32; text logs parse). A logged value that does not convert
is a mismatch.

Rows: ids (compared as text: 7, 7.0 and "7" are one id) present in only one side
are counted with examples; rows without an id and repeated ids (only the first
occurrence is used) are counted; raw rows the TransformFn cannot read (a value of the
wrong type, a null in a non-nullable feature) are counted and not compared. A nullable
raw feature absent from the data is missing, as in a tf.Example.

Example:
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"z": ts.scale_to_z_score(i["x"])}, {"x": [1.0, 2.0, 3.0]})
    >>> raw = {"id": [1, 2, 3], "x": [1.0, 2.0, 4.0]}
    >>> logged = {"id": [3, 2, 1], "z": tfn.transform({"x": [4.0, 2.0, 1.0]})["z"].copy()}
    >>> logged["z"][0] += 1e-9  # the path that served id 3 is off
    >>> report = feature_skew(tfn, raw, logged, "id")
    >>> report.passed, report.features["z"].mismatches, report.features["z"].examples[0]["id"]
    (False, 1, 3)
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from tskew.errors import DataError
from tskew.io.bad_records import BadRecordLog
from tskew.schema import DType
from tskew.skew.serving.reading import serving_chunks, typed_column
from tskew.transform_fn import TransformFn

MAX_EXAMPLES = 10


@dataclass
class FeatureMatch:
    """The comparison of one output feature over the joined rows.

    Attributes:
        name: the output feature.
        dtype: its dtype (``float32x3`` for a vector of width 3).
        compared: joined rows compared (the raw side readable by the TransformFn).
        matches: rows whose logged value equals the recomputed one.
        mismatches: rows where it does not.
        examples: up to ``max_examples`` mismatches: ``{"id", "expected", "got"}`` plus
            ``"ulps"`` for floats and ``"reason"`` when the logged value did not convert.
    """

    name: str
    dtype: str
    compared: int = 0
    matches: int = 0
    mismatches: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mismatch_share(self) -> float:
        return self.mismatches / self.compared if self.compared else 0.0

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "compared": self.compared,
            "matches": self.matches,
            "mismatches": self.mismatches,
            "mismatch_share": self.mismatch_share,
            "examples": [{k: _json_value(v) for k, v in e.items()} for e in self.examples],
        }


@dataclass
class FeatureSkewReport:
    """What `feature_skew` found.

    Attributes:
        features: output name -> `FeatureMatch`, for outputs present in the logged features.
        rows: counts: ``raw``, ``features``, ``joined`` (ids on both sides), ``compared``
            (joined and readable by the TransformFn), ``raw_only``, ``features_only``,
            ``raw_unusable``, ``raw_missing_id``, ``features_missing_id``,
            ``raw_duplicate_ids``, ``features_duplicate_ids``, ``bad_records``.
        raw_only_ids, features_only_ids: up to 10 ids present in one side only.
        unusable_examples: up to 10 raw rows the TransformFn cannot read:
            ``{"id", "source", "reason"}``.
        not_logged: outputs of the TransformFn absent from the logged features.
        unexpected: logged columns that are neither an output nor the id.
        tolerance: ``{"ulps": ..., "atol": ...}`` (0 and 0.0: exact).
    """

    features: dict[str, FeatureMatch]
    rows: dict[str, int]
    id_column: str
    raw_only_ids: list[Any] = field(default_factory=list)
    features_only_ids: list[Any] = field(default_factory=list)
    unusable_examples: list[dict[str, Any]] = field(default_factory=list)
    bad_record_examples: list[str] = field(default_factory=list)
    not_logged: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    tolerance: dict[str, float] = field(default_factory=lambda: {"ulps": 0, "atol": 0.0})
    artifact: str = ""
    raw: str = ""
    logged: str = ""

    @property
    def passed(self) -> bool:
        """Rows were compared, on at least one feature, and none differs."""
        return (
            self.rows.get("compared", 0) > 0
            and bool(self.features)
            and all(f.mismatches == 0 for f in self.features.values())
        )

    def to_json(self) -> dict:
        return {
            "schema_version": 1,
            "passed": self.passed,
            "artifact": self.artifact,
            "raw": self.raw,
            "features_data": self.logged,
            "id_column": self.id_column,
            "tolerance": dict(self.tolerance),
            "rows": dict(self.rows),
            "raw_only_ids": [_json_value(v) for v in self.raw_only_ids],
            "features_only_ids": [_json_value(v) for v in self.features_only_ids],
            "unusable_examples": [
                {k: _json_value(v) for k, v in e.items()} for e in self.unusable_examples
            ],
            "bad_record_examples": list(self.bad_record_examples),
            "not_logged": list(self.not_logged),
            "unexpected": list(self.unexpected),
            "features": [f.to_json() for f in self.features.values()],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False)

    def render(self, fmt: str = "text") -> str:
        """The report as ``text`` (a plain table with examples) or ``json``."""
        if fmt == "json":
            return self.to_json_text()
        if fmt != "text":
            raise ValueError(f"format must be text or json, got {fmt!r}")
        return _render_text(self)

    def __str__(self) -> str:
        return self.render("text")


def feature_skew(
    tfn: TransformFn,
    raw: Any,
    features: Any,
    id_column: str,
    *,
    ulps: int = 0,
    atol: float = 0.0,
    max_examples: int = MAX_EXAMPLES,
    artifact: str = "",
) -> FeatureSkewReport:
    """Recompute ``tfn``'s outputs from ``raw`` and compare them with the logged ``features``.

    Args:
        tfn: the TransformFn the serving path should have applied.
        raw: the logged raw requests: what `tskew.skew_report` reads (CSV/Parquet/JSONL
            paths or globs, TF Serving PredictionLog TFRecords, DataFrame, Arrow, dict),
            holding ``id_column`` and the raw input features.
        features: the feature values the model received, the same kinds of data, holding
            ``id_column`` and output feature columns.
        id_column: the column joining the two sides.
        ulps: float values this many units in the last place apart still match.
        atol: float values this far apart (absolute) still match.
        max_examples: mismatch examples kept per feature.
        artifact: a label for the report (the artifact path).

    Raises:
        DataError: a side has no ``id_column``, or the logged features hold none of the
            TransformFn's outputs.
    """
    if ulps < 0 or not atol >= 0:
        raise ValueError(f"ulps and atol must be >= 0, got {ulps} and {atol}")
    log = BadRecordLog("skip", 20)
    left = _RawSide(tfn, id_column)
    for chunk in serving_chunks(raw, log, schema=tfn.input_schema):
        left.add(chunk.table, chunk.locate)
    right = _LoggedSide(tfn, id_column)
    for chunk in serving_chunks(features, log):
        right.add(chunk.table)
    for side, what in ((left, "raw data"), (right, "features data")):
        if side.rows and not side.has_id:
            raise DataError(
                f"{what}: no column {id_column!r} to join on (columns: "
                f"{', '.join(sorted(side.columns)) or 'none'})"
            )
    outputs = [name for name in tfn.graph.outputs if name in right.columns]
    if right.rows and not outputs:
        raise DataError(
            f"features data: none of the TransformFn's outputs "
            f"({', '.join(tfn.graph.outputs)}) is a column; found "
            f"{', '.join(sorted(right.columns)) or 'none'}"
        )

    r_index, r_missing, r_dup = _index(left.keys)
    f_index, f_missing, f_dup = _index(right.keys)
    joined = [k for k in r_index if k in f_index]
    compared = [k for k in joined if left.position[r_index[k]] >= 0]
    raw_only = [k for k in r_index if k not in f_index]
    features_only = [k for k in f_index if k not in r_index]
    report = FeatureSkewReport(
        features={},
        rows={
            "raw": left.rows,
            "features": right.rows,
            "joined": len(joined),
            "compared": len(compared),
            "raw_only": len(raw_only),
            "features_only": len(features_only),
            "raw_unusable": left.unusable,
            "raw_missing_id": r_missing,
            "features_missing_id": f_missing,
            "raw_duplicate_ids": r_dup,
            "features_duplicate_ids": f_dup,
            "bad_records": log.count,
        },
        id_column=id_column,
        raw_only_ids=[left.ids[r_index[k]] for k in raw_only[:MAX_EXAMPLES]],
        features_only_ids=[right.ids[f_index[k]] for k in features_only[:MAX_EXAMPLES]],
        unusable_examples=left.unusable_examples,
        bad_record_examples=[str(r) for r in log.examples],
        not_logged=[name for name in tfn.graph.outputs if name not in right.columns],
        unexpected=sorted(right.columns - set(tfn.graph.outputs) - {id_column}),
        tolerance={"ulps": ulps, "atol": atol},
        artifact=artifact,
        raw=_describe(raw),
        logged=_describe(features),
    )
    expected = left.expected()
    ri = np.array([left.position[r_index[k]] for k in compared], np.int64)
    fi = np.array([f_index[k] for k in compared], np.int64)
    ids = [left.ids[r_index[k]] for k in compared]
    for name in outputs:
        vtype = tfn.graph.nodes[tfn.graph.outputs[name]].type
        match = FeatureMatch(name, f"{vtype.dtype}{f'x{vtype.width}' if vtype.width else ''}")
        want = expected.column(name).take(pa.array(ri)) if len(ri) else None
        got, bad = right.column(name, fi)
        same = _compare(want, got, vtype.dtype, vtype.width, ulps, atol) if len(ri) else []
        same = np.asarray(same, bool) & ~bad
        match.compared = len(ri)
        match.matches = int(same.sum())
        match.mismatches = len(ri) - match.matches
        for row in np.flatnonzero(~same)[:max_examples]:
            match.examples.append(
                _example(ids[row], want[int(row)].as_py(), right, name, int(fi[row]), vtype)
            )
        report.features[name] = match
    return report


# ------------------------------------------------------------------ the two sides


class _RawSide:
    """Raw rows: ids, and the TransformFn's outputs for the rows it can read."""

    def __init__(self, tfn: TransformFn, id_column: str):
        self.tfn, self.id_column = tfn, id_column
        self.keys: list[str | None] = []
        self.ids: list[Any] = []
        self.position: list[int] = []  # row -> index into the expected outputs, -1: unusable
        self.batches: list[pa.RecordBatch] = []
        self.columns: set[str] = set()
        self.rows = self.unusable = self.usable = 0
        self.has_id = False
        self.unusable_examples: list[dict[str, Any]] = []

    def add(self, table: pa.Table, locate: Any) -> None:
        n = table.num_rows
        self.rows += n
        self.columns.update(table.column_names)
        ids = _ids(table, self.id_column)
        self.has_id |= self.id_column in table.column_names
        self.ids += ids
        self.keys += [_id_key(v) for v in ids]
        usable = np.ones(n, bool)
        reasons: list[str | None] = [None] * n
        typed = {}
        for name, ftype in self.tfn.input_schema.items():
            if name not in table.column_names:
                if ftype.nullable:
                    typed[name] = pa.nulls(n, ftype.dtype.arrow)
                    continue
                _note(reasons, usable, f"feature {name!r} is absent")
                usable[:] = False
                continue
            values, bad, reason = typed_column(table, name, ftype.dtype, "raw data")
            _note(reasons, usable & bad, reason)
            usable &= ~bad
            if not ftype.nullable:
                null = ~np.asarray(values.is_valid()) & usable
                _note(reasons, null, f"feature {name!r} is null but not nullable in the schema")
                usable &= ~null
            typed[name] = values
        for row in np.flatnonzero(~usable):
            if len(self.unusable_examples) >= MAX_EXAMPLES:
                break
            self.unusable_examples.append(
                {"id": ids[row], "source": locate(int(row)), "reason": reasons[row]}
            )
        self.unusable += int((~usable).sum())
        position = np.full(n, -1, np.int64)
        position[usable] = np.arange(self.usable, self.usable + int(usable.sum()))
        self.position += position.tolist()
        if usable.any():
            mask = pa.array(usable)
            batch = pa.RecordBatch.from_pydict(
                {name: typed[name].filter(mask) for name in self.tfn.input_schema},
                schema=self.tfn.input_schema.to_arrow(),
            )
            self.batches.append(self.tfn.transform_batch(batch))
            self.usable += int(usable.sum())

    def expected(self) -> pa.Table:
        return pa.Table.from_batches(self.batches, schema=self.tfn.arrow_output_schema)


class _LoggedSide:
    """Logged feature rows: ids and each output column as the output's dtype."""

    def __init__(self, tfn: TransformFn, id_column: str):
        self.tfn, self.id_column = tfn, id_column
        self.keys: list[str | None] = []
        self.ids: list[Any] = []
        self.columns: set[str] = set()
        self.rows = 0
        self.has_id = False
        self.starts: list[int] = []
        self.tables: list[pa.Table] = []

    def add(self, table: pa.Table) -> None:
        self.starts.append(self.rows)
        self.tables.append(table)
        self.rows += table.num_rows
        self.columns.update(table.column_names)
        self.has_id |= self.id_column in table.column_names
        ids = _ids(table, self.id_column)
        self.ids += ids
        self.keys += [_id_key(v) for v in ids]

    def column(self, name: str, rows: np.ndarray) -> tuple[Any, np.ndarray]:
        """Values of ``name`` at ``rows`` (typed; lists for vectors) and a not-convertible mask."""
        vtype = self.tfn.graph.nodes[self.tfn.graph.outputs[name]].type
        parts, bads = [], []
        for table in self.tables:
            if name not in table.column_names:
                n = table.num_rows
                parts.append(pa.nulls(n, pa.null() if vtype.width else vtype.dtype.arrow))
                bads.append(np.zeros(n, bool))
            elif vtype.width:
                parts.append(table.column(name).combine_chunks())
                bads.append(np.zeros(table.num_rows, bool))
            else:
                values, bad, _ = typed_column(table, name, vtype.dtype, "features data")
                parts.append(values)
                bads.append(bad)
        if vtype.width:
            flat = [v for part in parts for v in part.to_pylist()]
            return [flat[i] for i in rows], np.zeros(len(rows), bool)
        values = pa.concat_arrays(parts) if parts else pa.nulls(0, vtype.dtype.arrow)
        bad = np.concatenate(bads) if bads else np.zeros(0, bool)
        return values.take(pa.array(rows, pa.int64())), bad[rows]

    def raw_value(self, name: str, row: int) -> Any:
        """The logged value of ``name`` at ``row`` as it came."""
        t = bisect.bisect_right(self.starts, row) - 1
        table = self.tables[t]
        if name not in table.column_names:
            return None
        return table.column(name)[row - self.starts[t]].as_py()


def _ids(table: pa.Table, id_column: str) -> list[Any]:
    if id_column not in table.column_names:
        return [None] * table.num_rows
    return table.column(id_column).to_pylist()


def _id_key(value: Any) -> str | None:
    """Ids compare as text: 7, 7.0 and "7" are one id; None and NaN are no id."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _index(keys: list[str | None]) -> tuple[dict[str, int], int, int]:
    """key -> first row, rows without a key, rows repeating a key."""
    index: dict[str, int] = {}
    missing = duplicate = 0
    for row, key in enumerate(keys):
        if key is None:
            missing += 1
        elif key in index:
            duplicate += 1
        else:
            index[key] = row
    return index, missing, duplicate


def _note(reasons: list[str | None], rows: np.ndarray, reason: str | None) -> None:
    for row in np.flatnonzero(rows):
        if reasons[row] is None:
            reasons[row] = reason


# ------------------------------------------------------------------ comparing


def _compare(
    want: pa.Array, got: Any, dtype: DType, width: int | None, ulps: int, atol: float
) -> np.ndarray:
    """Per row: does the logged value equal the recomputed one?"""
    if width:
        return np.array(
            [
                _same_vector(w, g, dtype, ulps, atol)
                for w, g in zip(want.to_pylist(), got, strict=True)
            ],
            bool,
        )
    w_null = ~np.asarray(want.is_valid())
    g_null = ~np.asarray(got.is_valid())
    if dtype.is_float:
        w = np.asarray(want.fill_null(0).to_numpy(zero_copy_only=False), dtype.numpy)
        g = np.asarray(got.fill_null(0).to_numpy(zero_copy_only=False), dtype.numpy)
        same = float_matches(w, g, ulps, atol)
    else:
        same = np.asarray(want.fill_null(_filler(dtype)).to_pylist(), object) == np.asarray(
            got.fill_null(_filler(dtype)).to_pylist(), object
        )
    return np.where(w_null | g_null, w_null & g_null, same)


def _same_vector(want: Any, got: Any, dtype: DType, ulps: int, atol: float) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if not isinstance(got, list | tuple) or len(got) != len(want):
        return False
    try:
        g = np.array(got, dtype.numpy)
    except (TypeError, ValueError):
        return False
    w = np.array(want, dtype.numpy)
    if dtype.is_float:
        return bool(float_matches(w, g, ulps, atol).all())
    return bool((w == g).all())


def _filler(dtype: DType) -> Any:
    return "" if dtype is DType.STRING else False if dtype is DType.BOOL else 0


_UINT = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def float_matches(
    want: np.ndarray, got: np.ndarray, ulps: int = 0, atol: float = 0.0
) -> np.ndarray:
    """Elementwise: bit-identical, both NaN, within ``ulps`` or within ``atol``.

    Example:
        >>> a = np.array([1.0, np.nan, 0.0, 1.0], np.float32)
        >>> b = np.array([1.0, np.nan, -0.0, np.nextafter(np.float32(1), 2)], np.float32)
        >>> float_matches(a, b).tolist(), float_matches(a, b, ulps=1).tolist()
        ([True, True, False, False], [True, True, True, True])
    """
    uint = _UINT[want.dtype]
    wb, gb = want.view(uint), got.view(uint)
    both_nan = np.isnan(want) & np.isnan(got)
    same = (wb == gb) | both_nan
    if ulps or atol:
        either_nan = np.isnan(want) | np.isnan(got)
        close = np.zeros(len(want), bool)
        if ulps:
            close |= ulp_distance(want, got) <= ulps
        if atol:
            with np.errstate(invalid="ignore", over="ignore"):
                close |= np.abs(want.astype(np.float64) - got.astype(np.float64)) <= atol
        same |= close & ~either_nan
    return same


def ulp_distance(want: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Units in the last place between floats of one dtype (+0 and -0 are 0 apart).

    Example:
        >>> x = np.array([1.0, -1e-45, 2.0], np.float32)
        >>> y = np.array([np.nextafter(np.float32(1), 0), 1e-45, 2.0], np.float32)
        >>> ulp_distance(x, y).tolist()
        [1, 2, 0]
    """
    uint = _UINT[want.dtype]
    sign = uint(1) << uint(want.dtype.itemsize * 8 - 1)
    wb, gb = want.view(uint), got.view(uint)
    wm, gm = wb & ~sign, gb & ~sign
    same_sign = (wb & sign) == (gb & sign)
    with np.errstate(over="ignore"):
        apart = np.where(wm > gm, wm - gm, gm - wm)
        across = wm.astype(np.uint64) + gm.astype(np.uint64)
    return np.where(same_sign, apart.astype(np.uint64), across)


# ------------------------------------------------------------------ examples & text


def _example(
    id_value: Any, want: Any, side: _LoggedSide, name: str, row: int, vtype: Any
) -> dict[str, Any]:
    got_raw = side.raw_value(name, row)
    out: dict[str, Any] = {"id": id_value, "expected": want, "got": got_raw}
    if vtype.width is None and vtype.dtype.is_float and want is not None and got_raw is not None:
        try:
            g = np.array([got_raw], vtype.dtype.numpy)
        except (TypeError, ValueError):
            out["reason"] = f"not a valid {vtype.dtype}"
            return out
        w = np.array([want], vtype.dtype.numpy)
        if not (np.isnan(w[0]) or np.isnan(g[0])):
            out["ulps"] = int(ulp_distance(w, g)[0])
    elif vtype.width is None and got_raw is not None:
        values, bad, _ = typed_column(pa.table({name: [got_raw]}), name, vtype.dtype, "")
        if bad.any() or not values.is_valid()[0].as_py():
            out["reason"] = f"not a valid {vtype.dtype}"
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _describe(data: Any) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, list | tuple) and data and all(isinstance(d, str) for d in data):
        return ", ".join(data)
    return str(data) if hasattr(data, "__fspath__") else type(data).__name__


def _show(value: Any, dtype: str) -> str:
    if isinstance(value, float) and dtype.startswith("float32"):
        return str(np.float32(value))
    return repr(value)


def _render_text(report: FeatureSkewReport) -> str:
    rows = report.rows
    tol = report.tolerance
    exact = not tol["ulps"] and not tol["atol"]
    lines = [
        f"feature skew: {report.artifact or 'TransformFn'}; raw {report.raw}; "
        f"features {report.logged}; joined on {report.id_column!r}",
        f"rows: raw {rows['raw']:,}, features {rows['features']:,}, joined {rows['joined']:,} "
        f"(compared {rows['compared']:,}), raw only {rows['raw_only']:,}, "
        f"features only {rows['features_only']:,}",
        f"      raw rows the transform cannot read {rows['raw_unusable']:,}, missing id "
        f"{rows['raw_missing_id']:,} raw / {rows['features_missing_id']:,} features, repeated id "
        f"{rows['raw_duplicate_ids']:,} / {rows['features_duplicate_ids']:,}, bad records "
        f"{rows['bad_records']:,}",
        "tolerance: "
        + (
            "exact (floats bit for bit, NaN == NaN)"
            if exact
            else f"{tol['ulps']} ulps or {tol['atol']:g} absolute"
        ),
        "",
    ]
    width = max([len("feature"), *(len(n) for n in report.features)])
    lines.append(
        f"{'feature':<{width}}  {'dtype':<10} {'compared':>10} {'matches':>10} "
        f"{'mismatches':>10} {'share':>8}"
    )
    for f in report.features.values():
        lines.append(
            f"{f.name:<{width}}  {f.dtype:<10} {f.compared:>10,} {f.matches:>10,} "
            f"{f.mismatches:>10,} {f.mismatch_share:>8.2%}"
        )
    if report.not_logged:
        lines.append(f"not in the logged features: {', '.join(report.not_logged)}")
    if report.unexpected:
        lines.append(f"logged columns that are no output: {', '.join(report.unexpected)}")
    for f in report.features.values():
        if f.examples:
            lines += ["", f"{f.name}: {f.mismatches:,} mismatch(es), e.g."]
            for e in f.examples:
                extra = f" ({e['ulps']} ulp)" if "ulps" in e else ""
                extra += f" ({e['reason']})" if "reason" in e else ""
                lines.append(
                    f"  {report.id_column}={e['id']!r}: expected {_show(e['expected'], f.dtype)}, "
                    f"got {_show(e['got'], f.dtype)}{extra}"
                )
    if report.raw_only_ids:
        lines.append(f"\nids only in the raw data, e.g. {report.raw_only_ids}")
    if report.features_only_ids:
        lines.append(f"ids only in the features data, e.g. {report.features_only_ids}")
    for e in report.unusable_examples:
        lines.append(
            f"unreadable raw row {report.id_column}={e['id']!r} ({e['source']}): {e['reason']}"
        )
    for e in report.bad_record_examples:
        lines.append(f"bad record: {e}")
    mismatched = [f.name for f in report.features.values() if f.mismatches]
    lines.append("")
    if report.passed:
        lines.append(
            f"PASS: all {rows['compared']:,} joined rows match on {len(report.features)} features"
        )
    elif mismatched:
        lines.append(f"FAIL: {len(mismatched)} feature(s) differ: {', '.join(mismatched)}")
    else:
        lines.append("FAIL: nothing was compared (no joined rows the transform can read)")
    return "\n".join(lines)
