"""Post-processing policies: what a served model's raw predictions become.

A policy is a small function over the prediction column, traced into the same
IR as the transform and lowered by every backend, so the serving graph applies
exactly the rule that `Policy.apply` computes in numpy. Policies compose with
``|`` (left first).

Example:
    >>> import numpy as np
    >>> import tskew as ts
    >>> ts.policy.clip(min=0.0).apply(np.array([-2.0, 3.5], np.float32))["predictions"]
    array([0. , 3.5], dtype=float32)
    >>> p = ts.policy.threshold(0.5, labels=("on time", "late"))
    >>> p.apply(np.array([[0.2], [0.9]], np.float32))["predictions"].tolist()
    ['on time', 'late']
    >>> ts.policy.top_k_labels(["a", "b", "c"], k=2).apply(np.array([[0.1, 0.7, 0.2]]))[
    ...     "predictions"].tolist()
    [['b', 'c']]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from tskew.errors import TraceError
from tskew.ir.graph import Graph
from tskew.ops.values import Col
from tskew.schema import DType, as_dtype
from tskew.tracing import Column, GraphBuilder, as_column, building

INPUT = "predictions"


class Policy:
    """A traced post-processing rule from model predictions to served outputs.

    Args:
        fn: ``Column -> Column`` (served as ``predictions``) or ``-> dict`` of named columns.
        description: shown in reprs and export summaries.
    """

    def __init__(self, fn: Callable[[Column], Any], description: str):
        self.fn = fn
        self.description = description

    def __repr__(self) -> str:
        return f"<Policy {self.description}>"

    def __or__(self, other: Policy) -> Policy:
        def chained(x: Column) -> Any:
            out = self.fn(x)
            if isinstance(out, dict):
                raise TraceError(f"policy {self.description} returns several outputs; put it last")
            return other.fn(out)

        return Policy(chained, f"{self.description} | {other.description}")

    def trace(self, dtype: DType | str, width: int | None) -> Graph:
        """The policy's graph for predictions of ``dtype`` (a vector of ``width`` per row)."""
        from tskew.schema import Schema

        builder = GraphBuilder(Schema({}))
        nid = builder.add(
            "input", (), name=INPUT, dtype=as_dtype(dtype).value, nullable=False, width=width
        )
        builder.inputs[INPUT] = nid
        with building(builder):
            out = self.fn(Column(builder, nid))
        outputs = out if isinstance(out, dict) else {INPUT: out}
        ids = {}
        for name, col in outputs.items():
            if not isinstance(col, Column) or col.type.shape.is_dataset:
                raise TraceError(f"policy {self.description}: output {name!r} is not per-row")
            ids[name] = col.id
        return Graph(tuple(builder.nodes), {INPUT: nid}, ids).verify()

    def apply(self, predictions: Any) -> dict[str, np.ndarray]:
        """Run the policy on numpy predictions (``[n]``, ``[n, 1]`` or ``[n, k]``).

        This is the reference the TF and ONNX lowerings are tested against.
        """
        from tskew.interpreter import Executor

        preds = prediction_array(predictions)
        width = preds.shape[1] if preds.ndim == 2 else None
        graph = self.trace(DType(str(preds.dtype)), width)
        out = Executor(graph).run(
            pa.record_batch({}), graph.outputs.values(), extra={graph.inputs[INPUT]: Col(preds)}
        )
        return {name: _dense(out[nid]) for name, nid in graph.outputs.items()}


def prediction_array(predictions: Any) -> np.ndarray:
    """Model output as float32/float64 ``[n]`` or ``[n, k]`` (a ``[n, 1]`` column is squeezed)."""
    preds = np.asarray(predictions)
    if preds.dtype.kind != "f":
        raise TraceError(f"policies read float predictions, got dtype {preds.dtype}")
    if preds.ndim == 2 and preds.shape[1] == 1:
        preds = preds[:, 0]
    if preds.ndim not in (1, 2):
        raise TraceError(f"predictions must be [n] or [n, k], got shape {preds.shape}")
    return preds.astype(np.float64) if preds.dtype == np.float16 else preds


def _dense(value: Any) -> np.ndarray:
    values = value.values if isinstance(value, Col) else value
    if isinstance(values, pa.Array):
        return np.array(values.to_pylist(), dtype=object)
    return np.asarray(values)


def _scores(x: Column, what: str) -> Column:
    if x.type.width is None:
        raise TraceError(f"{what} needs one score per class ([n, k] predictions), got {x.type}")
    return x


def clip(min: float | None = None, max: float | None = None) -> Policy:
    """Limit predictions to [min, max] (either bound optional); NaN stays NaN.

    Example: a regression that must never serve a negative value: ``clip(min=0.0)``.
    """
    from tskew.dsl import clip as clip_column

    lo = -np.inf if min is None else float(min)
    hi = np.inf if max is None else float(max)
    if lo > hi:
        raise TraceError(f"policy.clip: min {lo} is above max {hi}")
    return Policy(lambda x: clip_column(x, lo, hi), f"clip({lo}, {hi})")


def threshold(t: float, labels: Sequence[Any] = (0, 1)) -> Policy:
    """``labels[1]`` where the score >= t, else ``labels[0]`` (a binary classifier's decision).

    NaN scores get ``labels[0]``.
    """
    from tskew.dsl import where

    if len(labels) != 2:
        raise TraceError(f"policy.threshold: labels must be (below, at_or_above), got {labels!r}")

    def fn(x: Column) -> Column:
        below, above = (as_column(v, like=None) for v in labels)
        return where(x >= float(t), above, below)

    return Policy(fn, f"threshold({t}, {list(labels)})")


def top_k_labels(vocabulary: Sequence[str], k: int = 1) -> Policy:
    """The labels of the k highest scores per row, best first (ties: lower class id first).

    ``vocabulary[i]`` names class i; k == 1 serves one label per row, k > 1 a vector of k.
    """
    labels = list(vocabulary)

    def fn(x: Column) -> Column:
        scores = _scores(x, "policy.top_k_labels")
        if scores.type.width != len(labels):
            raise TraceError(
                f"policy.top_k_labels: {len(labels)} labels for {scores.type.width} scores"
            )
        ids = _op("top_k", scores, k=int(k))
        return _op("map_labels", ids, as_column(labels), default="")

    return Policy(fn, f"top_k_labels({len(labels)} labels, k={k})")


def map_labels(vocabulary: Sequence[Any], default: Any = None) -> Policy:
    """Class ids -> labels: ``vocabulary[id]``, ``default`` for an unknown id
    ("" for string labels, -1 for int labels unless given).

    Float ``[n, k]`` scores are reduced to the best class id first (as ``top_k_labels``
    with k=1); float ``[n]`` predictions are read as class ids (truncated toward zero).
    """
    labels = list(vocabulary)

    def fn(x: Column) -> Column:
        from tskew.dsl import cast

        ids = _op("top_k", x, k=1) if x.type.width else cast(x, "int64")
        label_col = as_column(labels)
        fallback = default
        if fallback is None:
            fallback = "" if label_col.dtype is DType.STRING else -1
        return _op("map_labels", ids, label_col, default=fallback)

    return Policy(fn, f"map_labels({len(labels)} labels)")


def _op(op: str, *inputs: Column, **attrs: Any) -> Column:
    builder = inputs[0].builder
    return Column(builder, builder.add(op, tuple(c.id for c in inputs), **attrs))
