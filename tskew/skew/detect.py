"""`skew_report`: stream serving data once, compare every feature with the training baseline.

Raw inputs are read leniently (a value of the wrong type is a dtype violation of
that feature, not a lost row); rows whose inputs the transform can use also go
through the TransformFn, so transformed outputs are compared too (e.g. the share
of out-of-vocabulary ids).

Example:
    >>> import numpy as np, tskew as ts
    >>> rng = np.random.default_rng(0)
    >>> fn = lambda i: {"z": ts.scale_to_z_score(i["x"])}
    >>> tfn = ts.analyze(fn, {"x": rng.normal(0, 1, 5000)})
    >>> report = skew_report(tfn, {"x": rng.normal(0.5, 1, 5000)})
    >>> report.passed, report.features["x"].metric("kolmogorov_smirnov").verdict
    (False, 'error')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tskew.catalog import CATEGORY_OPS
from tskew.errors import ArtifactError
from tskew.io.bad_records import BadRecordLog
from tskew.ir.graph import Graph
from tskew.schema import DType
from tskew.skew import metrics
from tskew.skew.accumulate import CategoricalAccumulator, NumericAccumulator, accumulator_for
from tskew.skew.report import FeatureSkew, MetricResult, SkewReport
from tskew.skew.serving.reading import serving_chunks, typed_column
from tskew.skew.thresholds import Thresholds
from tskew.statistics import FeatureStatistics
from tskew.transform_fn import TransformFn

MAX_EXAMPLES = 20
SHOWN_CATEGORIES = 20  # categories drawn per feature in the HTML page
PSI_CATEGORIES = 20  # categorical PSI bins: the most frequent training values, plus "other"


def skew_report(
    tfn: TransformFn,
    serving: Any,
    thresholds: Thresholds | str | Path | None = None,
    *,
    artifact: str = "",
) -> SkewReport:
    """Compare ``serving`` data (paths, DataFrame, Arrow, dict) with ``tfn``'s training data.

    Args:
        tfn: the TransformFn whose statistics are the training baseline.
        serving: what `TransformFn.transform` reads: CSV/Parquet/JSONL paths or globs
            (JSONL lines may be TF Serving REST bodies), a DataFrame, Arrow, a dict.
        thresholds: `Thresholds`, a TOML path, or None for the defaults.
        artifact: a label for the report (the artifact path).
    """
    thresholds = checked_thresholds(tfn, thresholds, artifact)
    log = BadRecordLog("skip", MAX_EXAMPLES)
    state = SkewState(tfn, artifact)
    for chunk in serving_chunks(serving, log, schema=tfn.input_schema):
        state.add(chunk.table, chunk.locate)
    state.bad_records += log.count
    state.examples += [{"source": _where(r), "reason": r.reason} for r in log.examples]
    return state.report(thresholds, artifact=artifact, serving=_describe(serving))


class SkewState:
    """Everything the serving side has seen: mergeable, picklable, reusable per window.

    `skew_report` folds a whole dataset into one; `tskew.SkewMonitor` one per window;
    `tskew.beam.DetectSkew` merges them across workers.
    """

    def __init__(self, tfn: TransformFn, artifact: str = ""):
        _require_baseline(tfn, artifact)
        self.tfn = tfn
        graph = tfn.graph
        stats = tfn.statistics
        self.inputs = {
            name: accumulator_for(stats.inputs[name], _categorical_input(ftype.dtype))
            for name, ftype in tfn.input_schema.items()
            if name in stats.inputs
        }
        self.outputs = {
            name: accumulator_for(stats.outputs[name], _categorical_output(graph, nid))
            for name, nid in graph.outputs.items()
            if name in stats.outputs and stats.outputs[name].count
            and graph.nodes[nid].type.width is None
        }  # fmt: skip
        self.seen_columns: set[str] = set()
        self.violations: dict[str, int] = {}
        self.examples: list[dict[str, str]] = []
        self.rows = 0
        self.bad_records = 0

    def __getstate__(self) -> dict:
        """Pickle without the TransformFn (big, and the same for every state): set ``.tfn``
        again after unpickling (``tskew.beam.DetectSkew``'s combiner does)."""
        return {k: v for k, v in self.__dict__.items() if k != "tfn"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.tfn = None

    def add(self, table: pa.Table, locate: Callable[[int], str] | None = None) -> None:
        """Fold raw serving rows (columns as they came) into the counts."""
        _require_tfn(self)
        self.rows += table.num_rows
        self.seen_columns.update(table.column_names)
        typed, usable = {}, np.ones(table.num_rows, bool)
        for name, ftype in self.tfn.input_schema.items():
            if name not in table.column_names:
                # A file (or batch) without the column: every row of it misses the
                # feature, exactly as if the column were there and all null.
                values = pa.nulls(table.num_rows, ftype.dtype.arrow)
                bad, reason = np.zeros(table.num_rows, bool), None
            else:
                values, bad, reason = typed_column(table, name, ftype.dtype, "serving data")
            if bad.any():
                self.violations[name] = self.violations.get(name, 0) + int(bad.sum())
                if len(self.examples) < MAX_EXAMPLES:
                    row = int(np.argmax(bad))
                    where = locate(row) if locate else f"row {row}"
                    self.examples.append({"source": where, "reason": reason})
            if name in self.inputs:
                self.inputs[name].add(values, int(bad.sum()))
            typed[name] = values
            usable &= ~bad
            if not ftype.nullable:
                usable &= np.asarray(values.is_valid())
        if self.outputs and usable.any():
            _add_outputs(self.tfn, typed, usable, self.outputs)

    def merge(self, other: SkewState) -> SkewState:
        """A new state with the counts of two states of the same TransformFn.

        Neither input changes (as every `tskew.analyzers.accumulators.Accumulator`'s
        merge); no TransformFn is needed, so pickled states merge as they are.
        """
        out = SkewState.__new__(SkewState)
        out.tfn = self.tfn if self.tfn is not None else other.tfn
        out.inputs = {name: acc.merge(other.inputs[name]) for name, acc in self.inputs.items()}
        out.outputs = {name: acc.merge(other.outputs[name]) for name, acc in self.outputs.items()}
        out.seen_columns = self.seen_columns | other.seen_columns
        out.violations = dict(self.violations)
        for name, count in other.violations.items():
            out.violations[name] = out.violations.get(name, 0) + count
        out.examples = (self.examples + other.examples)[:MAX_EXAMPLES]
        out.rows = self.rows + other.rows
        out.bad_records = self.bad_records + other.bad_records
        return out

    def report(
        self,
        thresholds: Thresholds | str | Path | None = None,
        *,
        artifact: str = "",
        serving: str = "",
    ) -> SkewReport:
        """Judge the counts so far against the baseline."""
        _require_tfn(self)
        thresholds = checked_thresholds(self.tfn, thresholds, artifact)
        graph = self.tfn.graph
        features = [_judge(n, "input", a, thresholds, graph) for n, a in self.inputs.items()]
        features += [_judge(n, "output", a, thresholds, graph) for n, a in self.outputs.items()]
        for f in features:
            if f.role == "input" and f.name in self.violations:
                levels = thresholds.levels(f.name, "dtype_violation_share")
                if levels is not None:
                    share = self.violations[f.name] / max(f.serving_rows, 1)
                    f.metrics.append(MetricResult("dtype_violation_share", share, *levels))
        missing = [name for name in graph.inputs if name not in self.seen_columns]
        return SkewReport(
            features,
            rows={
                "training": self.tfn.statistics.num_rows,
                "serving": self.rows,
                "bad_records": self.bad_records,
            },
            missing_features=missing if self.rows else list(graph.inputs),
            unexpected_features=sorted(self.seen_columns - set(self.tfn.input_schema)),
            dtype_violations=dict(self.violations),
            bad_record_examples=self.examples[:MAX_EXAMPLES],
            artifact=artifact,
            serving=serving,
        )


def checked_thresholds(
    tfn: TransformFn, thresholds: Thresholds | str | Path | None, artifact: str = ""
) -> Thresholds:
    """``thresholds`` resolved (`Thresholds.resolve`) and checked against ``tfn``'s features.

    Raises:
        SchemaError: a ``[features.<name>]`` table names no input or output of ``tfn``.
    """
    thresholds = Thresholds.resolve(thresholds)
    known = [*tfn.input_schema, *tfn.graph.inputs, *tfn.graph.outputs]
    thresholds.check_features(known, artifact or "the TransformFn")
    return thresholds


def _require_baseline(tfn: TransformFn, artifact: str) -> None:
    """Numeric features need the histogram/percentile baseline that analyze records."""
    for stats in (*tfn.statistics.inputs.values(), *tfn.statistics.outputs.values()):
        numeric = DType(stats.dtype).is_numeric and stats.count > stats.missing + stats.nan
        if numeric and stats.quantiles and not stats.percentiles:
            raise ArtifactError(
                f"{artifact or 'the TransformFn'}: feature {stats.name!r} has no skew baseline "
                "(percentiles and histogram); it was analyzed by an older tskew. Run the "
                "analysis again to record one"
            )


def _require_tfn(state: SkewState) -> None:
    if state.tfn is None:
        raise ValueError("an unpickled SkewState needs its TransformFn back: set state.tfn = tfn")


def _where(record: Any) -> str:
    return f"{record.source}:{record.line}" if record.line is not None else record.source


def _describe(serving: Any) -> str:
    if isinstance(serving, str | Path):
        return str(serving)
    if isinstance(serving, list | tuple) and all(isinstance(s, str | Path) for s in serving):
        return ", ".join(map(str, serving))
    return type(serving).__name__


def _categorical_input(dtype: DType) -> bool:
    return dtype in (DType.STRING, DType.BOOL)


def _categorical_output(graph: Graph, nid: int) -> bool:
    node = graph.nodes[nid]
    return node.type.dtype in (DType.STRING, DType.BOOL) or node.op in CATEGORY_OPS


def _add_outputs(
    tfn: TransformFn, typed: dict[str, pa.Array], usable: np.ndarray, outputs: Mapping[str, Any]
) -> None:
    mask = pa.array(usable)
    columns = {name: typed[name].filter(mask) for name in tfn.input_schema if name in typed}
    batch = pa.RecordBatch.from_pydict(columns, schema=tfn.input_schema.to_arrow())
    out = tfn.transform_batch(batch)
    for name, acc in outputs.items():
        acc.add(out.column(name), 0)


# ------------------------------------------------------------------ judging


def _judge(name: str, role: str, acc: Any, thresholds: Thresholds, graph: Graph) -> FeatureSkew:
    base = acc.baseline
    feature = FeatureSkew(name, role, acc.kind, base.dtype, base.count, acc.count)
    results: list[tuple[str, float, str]] = []
    results.append(("missing_rate_change", _missing_change(base, acc), ""))
    enough = acc.present >= thresholds.min_serving_rows
    if isinstance(acc, NumericAccumulator):
        feature.distribution = {"histogram": _histogram_view(base, acc)}
        if enough:
            results += _numeric_metrics(base, acc)
    else:
        feature.distribution = {"categories": _categories_view(base, acc)}
        if enough:
            results += _categorical_metrics(base, acc, graph, name if role == "output" else None)
    for metric, value, detail in results:
        levels = thresholds.levels(name, metric)
        if levels is not None:
            feature.metrics.append(MetricResult(metric, float(value), *levels, detail=detail))
    # Too few present values leave the distribution unjudged, but with enough rows a
    # feature that went (mostly) missing is still an alarm, not "insufficient data".
    rows_enough = acc.count >= thresholds.min_serving_rows
    missing_alarm = rows_enough and any(
        m.name == "missing_rate_change" and m.verdict in ("warn", "error") for m in feature.metrics
    )
    feature.insufficient = not (enough and rows_enough) and not missing_alarm
    return feature


def _missing_change(base: FeatureStatistics, acc: Any) -> float:
    return metrics.missing_rate_change(base.missing + base.nan, base.count, acc.missing, acc.count)


def _numeric_metrics(
    base: FeatureStatistics, acc: NumericAccumulator
) -> list[tuple[str, float, str]]:
    points = acc.points
    train_cdf = np.array(base.percentile_cdf)
    serve_cdf = acc.cdf()
    ks, at = metrics.kolmogorov_smirnov(points, train_cdf, serve_cdf)
    train_buckets = metrics.buckets_from_edges(
        acc.edges,
        [b[2] for b in base.histogram],
        pos_inf=base.posinf,
        neg_inf=base.neginf,
    )
    serve_buckets = _serving_buckets(acc)
    jsd = metrics.jensen_shannon_divergence(
        train_buckets, serve_buckets, train_nan=base.nan, serve_nan=acc.nan
    )
    deciles = np.arange(0, len(points), 10)
    t_dec = np.diff(np.concatenate([[0.0], train_cdf[deciles], [1.0]]))
    s_dec = np.diff(np.concatenate([[0.0], serve_cdf[deciles], [1.0]]))
    worst = int(np.argmax(np.abs(acc.bins / max(acc.bins.sum(), 1) - _train_shares(base))))
    low, high, _ = base.histogram[worst]
    return [
        ("jensen_shannon_divergence", jsd, f"most changed bin [{low:.6g}, {high:.6g}]"),
        ("psi", metrics.population_stability_index(t_dec, s_dec), "on the training deciles"),
        ("kolmogorov_smirnov", ks, f"largest CDF gap at {at:.6g}"),
        (
            "wasserstein_normalized",
            metrics.wasserstein_normalized(points, train_cdf, serve_cdf, base.std or 0.0),
            "",
        ),
        (
            "share_outside_training_range",
            metrics.share_outside(
                acc.below + (acc.neginf if not base.neginf else 0),
                acc.above + (acc.posinf if not base.posinf else 0),
                acc.present,
            ),
            f"training range [{base.min:.6g}, {base.max:.6g}]",
        ),
    ]


def _train_shares(base: FeatureStatistics) -> np.ndarray:
    counts = np.array([b[2] for b in base.histogram], np.float64)
    return counts / max(counts.sum(), 1)


def _serving_buckets(acc: NumericAccumulator) -> list:
    """Serving counts on the training bins; values outside them spread to the serving range.

    TFDV bins serving data on its own range; the finite serving min/max bound the
    buckets below and above the training bins the same way.
    """
    return metrics.buckets_from_edges(
        acc.edges,
        acc.bins,
        below=acc.below,
        above=acc.above,
        low=min(acc.edges[0], acc.finite_min),
        high=max(acc.edges[-1], acc.finite_max),
        pos_inf=acc.posinf,
        neg_inf=acc.neginf,
    )


def _categorical_metrics(
    base: FeatureStatistics, acc: CategoricalAccumulator, graph: Graph, output: str | None
) -> list[tuple[str, float, str]]:
    train = {_key(v): c for v, c in base.top_values}
    serve = {_key(v): c for v, c in acc.counts.items()}
    linf, worst = metrics.linf_distance(train, serve)
    # PSI on the top training categories plus one "other" bin: thousands of sparse bins
    # (tail numbers, ids) would make it noise on any realistic window.
    top = list(train)[:PSI_CATEGORIES]
    t_top = [train[k] for k in top]
    s_top = [serve.get(k, 0) for k in top]
    t_counts = np.array([*t_top, sum(train.values()) + base.other_count - sum(t_top)], float)
    s_counts = np.array([*s_top, sum(serve.values()) - sum(s_top)], float)
    out = [
        ("linf_distance", linf, f"largest share change: {worst!r}"),
        ("psi", metrics.population_stability_index(t_counts, s_counts), f"top {len(top)} + other"),
    ]
    if base.other_count == 0:  # every training value is known: "never seen" is exact
        unseen = metrics.unseen_share(set(train), serve)
        out.append(("unseen_share", unseen, "values never seen in training"))
    vocab_size = _vocabulary_size(graph, output) if output else None
    if vocab_size is not None:
        serving_oov, training_oov = _oov_share(serve, vocab_size), _oov_share(train, vocab_size)
        detail = f"out-of-vocabulary ids: {serving_oov:.2%} serving vs {training_oov:.2%} training"
        out.append(("oov_share", serving_oov - training_oov, detail))
    return out


def _oov_share(counts: Mapping[Any, int], vocab_size: int) -> float:
    """Share of category ids outside [0, vocab_size): the out-of-vocabulary ids."""
    total = sum(counts.values())
    oov = sum(c for k, c in counts.items() if not 0 <= int(k) < vocab_size)
    return oov / total if total else float("nan")


def _key(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _vocabulary_size(graph: Graph, output: str) -> int | None:
    node = graph.nodes[graph.outputs[output]]
    if node.op != "apply_vocabulary":
        return None
    from tskew.ops.structural import const

    return len(const(graph.nodes[node.inputs[1]].attr_dict))


# ------------------------------------------------------------- what is drawn


def _histogram_view(base: FeatureStatistics, acc: NumericAccumulator) -> dict:
    n_train = max(sum(b[2] for b in base.histogram), 1)
    n_serve = max(acc.present - acc.posinf - acc.neginf, 1)
    return {
        "edges": [b[0] for b in base.histogram] + [base.histogram[-1][1]],
        "training": [b[2] / n_train for b in base.histogram],
        "serving": (acc.bins / n_serve).tolist(),
        "below": {"training": 0.0, "serving": acc.below / n_serve},
        "above": {"training": 0.0, "serving": acc.above / n_serve},
    }


def _categories_view(base: FeatureStatistics, acc: CategoricalAccumulator) -> dict:
    n_train = max(sum(c for _, c in base.top_values) + base.other_count, 1)
    n_serve = max(acc.present, 1)
    shown = [_key(v) for v, _ in base.top_values[:SHOWN_CATEGORIES]]
    for value, _ in acc.counts.most_common(SHOWN_CATEGORIES):
        if len(shown) >= SHOWN_CATEGORIES * 2:
            break
        if value not in shown:
            shown.append(value)
    train = {_key(v): c for v, c in base.top_values}
    t_shares = [train.get(v, 0) / n_train for v in shown]
    s_shares = [acc.counts.get(v, 0) / n_serve for v in shown]
    return {
        "values": [v if isinstance(v, str) else str(v) for v in shown],
        "training": t_shares,
        "serving": s_shares,
        "other": {"training": max(0.0, 1 - sum(t_shares)), "serving": max(0.0, 1 - sum(s_shares))},
    }
