"""The user-facing DSL: analyzers and mappers named after TensorFlow Transform.

A TFT user ports ``tft.scale_to_z_score(x)`` by writing
``ts.scale_to_z_score(x)``. Functions beyond TFT (``fill_missing``,
``impute``, ``clip``, ...) follow the same conventions.

Example:
    >>> import tskew as ts
    >>> def preprocessing_fn(inputs):
    ...     x = ts.impute(inputs["x"], strategy="median")
    ...     return {"x_z": ts.scale_to_z_score(x), "x_b": ts.bucketize(x, num_buckets=2)}
    >>> tfn = ts.analyze(preprocessing_fn, {"x": [1.0, 2.0, None, 4.0]})
    >>> out = tfn.transform({"x": [1.0, None]})
    >>> out["x_b"].tolist()
    [0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tskew.tft_args as tft_args
from tskew.errors import ArgumentError, TraceError
from tskew.ir.types import Shape
from tskew.schema import DType, FeatureType, as_dtype
from tskew.tracing import Column, as_column, current_builder

# TFT's parameters (``name=``, ``reduce_instance_dims=``, ``output_dtype=``, ...) are checked
# by `tskew.tft_args`: accepted where they mean the same for tskew's scalar features,
# otherwise refused with what to do instead.


def _node(op: str, *inputs: Any, **attrs: Any) -> Column:
    builder = current_builder(*inputs)
    cols = [as_column(v, like=_first_column(inputs)) for v in inputs]
    return Column(builder, builder.add(op, tuple(c.id for c in cols), **attrs))


def _first_column(values: Sequence[Any]) -> Column | None:
    return next((v for v in values if isinstance(v, Column)), None)


def _require_column(x: Any, fn: str) -> Column:
    if not isinstance(x, Column):
        raise TraceError(f"{fn}: expected a column from preprocessing_fn's inputs, got {x!r}")
    return x


def _as_float(x: Column, output_dtype: Any, fn: str) -> Column:
    """TFT casts integer inputs of scalers to float32; floats keep their dtype.

    ``output_dtype`` (TFT's parameter) chooses the float dtype instead.
    """
    target = tft_args.as_output_dtype(fn, output_dtype)
    if target is not None:
        return cast(x, target)
    return x if x.dtype.is_float else cast(x, DType.FLOAT32)


def _analyzer(
    op: str, x: Any, name: str | None, reduce_instance_dims: bool, output_dtype: Any = None
) -> Column:
    tft_args.check_common(op, name, reduce_instance_dims)
    target = tft_args.as_output_dtype(op, output_dtype)
    result = _node(op, _require_column(x, op))
    return result if target is None else cast(result, target)


# ------------------------------------------------------------------ analyzers


def mean(
    x: Column,
    reduce_instance_dims: bool = True,
    name: str | None = None,
    output_dtype: Any = None,
) -> Column:
    """Mean of the non-missing values of ``x`` over the training data.

    float64 (exact); TFT gives float32 for float32 and int64 inputs: pass
    ``output_dtype="float32"`` (or ``tf.float32``) for TFT's dtype, so that
    ``x - ts.mean(x, output_dtype="float32")`` stays float32.
    """
    return _analyzer("mean", x, name, reduce_instance_dims, output_dtype)


def var(
    x: Column,
    reduce_instance_dims: bool = True,
    name: str | None = None,
    output_dtype: Any = None,
) -> Column:
    """Population variance (ddof=0) of the non-missing values.

    float64 (exact); ``output_dtype="float32"`` gives TFT's dtype (see `mean`).
    """
    return _analyzer("var", x, name, reduce_instance_dims, output_dtype)


def min(
    x: Column,
    reduce_instance_dims: bool = True,
    name: str | None = None,
    output_dtype: Any = None,
) -> Column:
    """Smallest non-missing value of ``x`` (same dtype, or ``output_dtype``)."""
    return _analyzer("min", x, name, reduce_instance_dims, output_dtype)


def max(
    x: Column,
    reduce_instance_dims: bool = True,
    name: str | None = None,
    output_dtype: Any = None,
) -> Column:
    """Largest non-missing value of ``x`` (same dtype, or ``output_dtype``)."""
    return _analyzer("max", x, name, reduce_instance_dims, output_dtype)


def sum(
    x: Column,
    reduce_instance_dims: bool = True,
    name: str | None = None,
    output_dtype: Any = None,
) -> Column:
    """Exact sum of the non-missing values (int64 for int64, else float64).

    TFT gives float32 for float32 input: ``output_dtype="float32"`` casts to it.
    """
    return _analyzer("sum", x, name, reduce_instance_dims, output_dtype)


def size(x: Column, reduce_instance_dims: bool = True, name: str | None = None) -> Column:
    """Number of non-missing values of ``x`` in the training data (int64)."""
    return _analyzer("size", x, name, reduce_instance_dims)


def quantiles(
    x: Column,
    num_buckets: int,
    epsilon: float | None = None,
    weights: Any = None,
    reduce_instance_dims: bool = True,
    name: str | None = None,
) -> Column:
    """Exact boundaries splitting ``x`` into ``num_buckets`` buckets (a vector).

    Boundary k is the value at 0-based position ``(k * n) // num_buckets`` of
    the sorted non-missing values. TFT's approximation ``epsilon`` is accepted
    and ignored (the boundaries are exact).
    """
    tft_args.check_common("quantiles", name, reduce_instance_dims)
    tft_args.note_epsilon("quantiles", epsilon)
    tft_args.refuse("quantiles", "weights", weights, (None,), tft_args.WEIGHTS)
    return _node("quantiles", _require_column(x, "quantiles"), num_buckets=num_buckets)


_VOCABULARY_TFT_ONLY = (
    "reserved_tokens", "labels", "use_adjusted_mutual_info", "min_diff_from_avg",
    "coverage_top_k", "coverage_frequency_threshold", "key_fn", "fingerprint_shuffle",
    "file_format",
)  # fmt: skip


def vocabulary(
    x: Column,
    top_k: int | str | None = None,
    frequency_threshold: float | str | None = None,
    *,
    vocab_filename: str | None = None,
    store_frequency: bool = False,
    weights: Any = None,
    name: str | None = None,
    **tft_only: Any,
) -> Column:
    """Distinct values by decreasing frequency (ties: larger value first).

    ``frequency_threshold`` keeps values seen at least that often; ``top_k``
    then keeps the first k (numeric strings such as "10" work, as in TFT).
    """
    fn = "vocabulary"
    _vocabulary_options(fn, vocab_filename, store_frequency, weights, name, tft_only)
    return _node(
        "vocabulary",
        _require_column(x, fn),
        top_k=tft_args.as_top_k(fn, top_k),
        frequency_threshold=tft_args.as_frequency_threshold(fn, frequency_threshold),
    )


def _vocabulary_options(
    fn: str,
    vocab_filename: Any,
    store_frequency: Any,
    weights: Any,
    name: Any,
    tft_only: dict[str, Any],
) -> None:
    """Check TFT's vocabulary parameters tskew accepts only at their defaults."""
    tft_args.check_common(fn, name)
    tft_args.refuse(fn, "vocab_filename", vocab_filename, (None,), tft_args.VOCAB_FILENAME)
    tft_args.refuse(fn, "store_frequency", store_frequency, (False, None), tft_args.STORE_FREQUENCY)
    tft_args.refuse(fn, "weights", weights, (None,), tft_args.WEIGHTS)
    tft_args.refuse_tft_only(fn, _VOCABULARY_TFT_ONLY, tft_only)


# -------------------------------------------------------------------- mappers


def scale_to_z_score(
    x: Column, elementwise: bool = False, name: str | None = None, output_dtype: Any = None
) -> Column:
    """(x - mean) / std with the training mean and population std.

    When the variance is 0 the result is x - mean (TFT's rule). Integer inputs
    become float32. The division is frozen as a multiplication by the
    reciprocal, so every backend performs the same IEEE operations.
    ``output_dtype`` (float32 or float64) sets the result's dtype, as in TFT.
    """
    x = _require_column(x, "scale_to_z_score")
    tft_args.check_common("scale_to_z_score", name)
    tft_args.check_elementwise("scale_to_z_score", x, elementwise)
    xf = _as_float(x, output_dtype, "scale_to_z_score")
    v = var(x)
    inv_std = where(v > 0.0, 1.0 / sqrt(v), as_column(1.0, dtype=DType.FLOAT64))
    return (xf - cast(mean(x), xf.dtype)) * cast(inv_std, xf.dtype)


def scale_by_min_max(
    x: Column,
    output_min: float = 0.0,
    output_max: float = 1.0,
    elementwise: bool = False,
    name: str | None = None,
    output_dtype: Any = None,
) -> Column:
    """Scale to [output_min, output_max] using the training min and max.

    When min == max, TFT's rule applies: sigmoid(x) scaled to the range.
    """
    x = _require_column(x, "scale_by_min_max")
    tft_args.check_common("scale_by_min_max", name)
    tft_args.check_elementwise("scale_by_min_max", x, elementwise)
    if not output_min < output_max:
        raise ArgumentError(
            f"scale_by_min_max: output_min ({output_min}) must be less than output_max "
            f"({output_max})"
        )
    xf = _as_float(x, output_dtype, "scale_by_min_max")
    lo, hi = cast(min(x), xf.dtype), cast(max(x), xf.dtype)
    has_range = lo < hi
    inv_range = where(has_range, 1.0 / (hi - lo), as_column(0.0, dtype=xf.dtype))
    scaled = where(has_range, (xf - lo) * inv_range, sigmoid(xf))
    if (output_min, output_max) == (0.0, 1.0):
        return scaled  # * 1 + 0 would only add two no-op nodes
    return scaled * (output_max - output_min) + output_min


def scale_to_0_1(
    x: Column, elementwise: bool = False, name: str | None = None, output_dtype: Any = None
) -> Column:
    """Scale to [0, 1] using the training min and max."""
    return scale_by_min_max(x, 0.0, 1.0, elementwise, name, output_dtype)


def apply_buckets(
    x: Column, bucket_boundaries: Column | Sequence[float], name: str | None = None
) -> Column:
    """Bucket index: x goes to bucket i when b[i-1] <= x < b[i] (int64).

    NaN goes to the last bucket, len(boundaries).
    """
    x = _require_column(x, "apply_buckets")
    tft_args.check_common("apply_buckets", name)
    bounds = as_column(
        list(bucket_boundaries) if not isinstance(bucket_boundaries, Column) else bucket_boundaries,
        like=x,
    )
    if bounds.type.shape is not Shape.VECTOR:
        raise TraceError("apply_buckets: bucket_boundaries must be a list or ts.quantiles(...)")
    return _node("apply_buckets", x, bounds)


def bucketize(
    x: Column,
    num_buckets: int,
    epsilon: float | None = None,
    weights: Any = None,
    elementwise: bool = False,
    name: str | None = None,
) -> Column:
    """Bucket index in [0, num_buckets) by exact training quantiles (int64)."""
    x = _require_column(x, "bucketize")
    tft_args.check_elementwise("bucketize", x, elementwise)
    tft_args.refuse("bucketize", "weights", weights, (None,), tft_args.WEIGHTS)
    tft_args.note_epsilon("bucketize", epsilon)
    return apply_buckets(x, quantiles(x, num_buckets), name=name)


def apply_vocabulary(
    x: Column,
    deferred_vocab_filename_tensor: Column | Sequence[Any],
    default_value: int = -1,
    num_oov_buckets: int = 0,
    *,
    name: str | None = None,
    **tft_only: Any,
) -> Column:
    """Map x to its index in a vocabulary (``ts.vocabulary(x)`` or a list).

    Values not in the vocabulary map to ``len(vocab) + hash(x) % num_oov_buckets``
    or, without OOV buckets, to ``default_value``.
    """
    x = _require_column(x, "apply_vocabulary")
    tft_args.check_common("apply_vocabulary", name)
    tft_args.refuse_tft_only("apply_vocabulary", ("lookup_fn", "file_format"), tft_only)
    vocab = deferred_vocab_filename_tensor
    vocab_col = vocab if isinstance(vocab, Column) else as_column(list(vocab), dtype=x.dtype)
    return _node(
        "apply_vocabulary",
        x,
        vocab_col,
        default_value=default_value,
        num_oov_buckets=num_oov_buckets,
    )


def compute_and_apply_vocabulary(
    x: Column,
    top_k: int | str | None = None,
    frequency_threshold: float | str | None = None,
    num_oov_buckets: int = 0,
    default_value: int = -1,
    *,
    vocab_filename: str | None = None,
    store_frequency: bool = False,
    weights: Any = None,
    name: str | None = None,
    **tft_only: Any,
) -> Column:
    """``apply_vocabulary(x, vocabulary(x, top_k, frequency_threshold), ...)``."""
    fn = "compute_and_apply_vocabulary"
    x = _require_column(x, fn)
    _vocabulary_options(fn, vocab_filename, store_frequency, weights, name, tft_only)
    return apply_vocabulary(
        x,
        vocabulary(x, top_k, frequency_threshold),
        default_value=default_value,
        num_oov_buckets=num_oov_buckets,
    )


def hash_strings(
    strings: Column, hash_buckets: int, key: Any = None, name: str | None = None
) -> Column:
    """MurmurHash3_x86_32 of the UTF-8 bytes modulo ``hash_buckets`` (int64)."""
    tft_args.check_common("hash_strings", name)
    tft_args.refuse("hash_strings", "key", key, *tft_args.TFT_ONLY["key"])
    return _node(
        "hash_strings", _require_column(strings, "hash_strings"), hash_buckets=hash_buckets
    )


# ------------------------------------------------------------ beyond TFT


def fill_missing(x: Column, value: Any) -> Column:
    """Replace nulls (and NaN in float features) by ``value``; the result is dense."""
    x = _require_column(x, "fill_missing")
    return _node("fill_missing", x, as_column(value, like=x))


_IMPUTERS = {"mean", "median", "most_frequent"}


def impute(x: Column, strategy: str = "mean") -> Column:
    """Fill missing values with a training statistic: mean, median or most_frequent.

    The median is the value at sorted position n // 2 (an observed value, so
    integer features stay integer).
    """
    x = _require_column(x, "impute")
    if strategy not in _IMPUTERS:
        raise ArgumentError(
            f"impute: unknown strategy {strategy!r}; use one of {sorted(_IMPUTERS)}"
        )
    if strategy == "mean":
        if not x.dtype.is_float:
            raise TraceError(
                f"impute: strategy='mean' needs a float feature, got {x.dtype}; use "
                "strategy='median' or 'most_frequent', or cast to float first"
            )
        return fill_missing(x, cast(mean(x), x.dtype))
    if strategy == "median":
        return fill_missing(x, _node("quantile", x, q=0.5))
    return fill_missing(x, _node("most_frequent", x))


def clip(x: Column, clip_value_min: Any, clip_value_max: Any) -> Column:
    """Limit x to [clip_value_min, clip_value_max]; NaN stays NaN."""
    x = _require_column(x, "clip")
    return _node("clip", x, as_column(clip_value_min, like=x), as_column(clip_value_max, like=x))


def clip_by_quantiles(x: Column, q_lo: float, q_hi: float) -> Column:
    """Clip to the training q_lo- and q_hi-quantiles (exact; e.g. 0.01 and 0.99)."""
    x = _require_column(x, "clip_by_quantiles")
    if not 0.0 <= q_lo <= q_hi <= 1.0:
        raise ArgumentError(
            f"clip_by_quantiles: need 0 <= q_lo <= q_hi <= 1, got {q_lo}, {q_hi}"
        )
    return clip(x, _node("quantile", x, q=float(q_lo)), _node("quantile", x, q=float(q_hi)))


def log1p(x: Column) -> Column:
    """log(1 + x), computed in float (int64 -> float64)."""
    return _node("log1p", x)


def sqrt(x: Column) -> Column:
    """Square root, computed in float (int64 -> float64)."""
    return _node("sqrt", x)


def exp(x: Column) -> Column:
    """e ** x, computed in float."""
    return _node("exp", x)


def sigmoid(x: Column) -> Column:
    """1 / (1 + exp(-x)), computed in float."""
    return _node("sigmoid", x)


def abs(x: Column) -> Column:
    """Absolute value, same dtype."""
    return _node("abs", x)


def where(condition: Column, x: Any, y: Any) -> Column:
    """x where condition is true, else y (elementwise)."""
    like = _first_column([x, y])
    return _node("where", condition, as_column(x, like=like), as_column(y, like=like))


def cast(x: Column, dtype: DType | FeatureType | str) -> Column:
    """Convert to ``dtype`` ("float32", "float64", "int64", "string", "bool").

    float -> int64 truncates toward zero (NaN -> 0, saturating); string ->
    number is null where the text does not parse; float -> string is refused.
    """
    target = as_dtype(dtype)
    if isinstance(x, Column) and x.dtype == target:
        return x
    return _node("cast", x, dtype=target.value)


def one_hot(x: Column, depth: int) -> Column:
    """float32 vector of ``depth`` with a 1 at index x (zeros when out of range)."""
    return _node("one_hot", _require_column(x, "one_hot"), depth=depth)


def cross(features: Sequence[Column]) -> Column:
    """String feature cross: the values joined with "_X_" (e.g. "3_X_5")."""
    features = list(features)
    if len(features) < 2 or not all(isinstance(f, Column) for f in features):
        raise TraceError("cross: pass a list of at least two columns")
    return _node("cross", *features)


def lower(x: Column) -> Column:
    """Unicode lower case."""
    return _node("lower", _require_column(x, "lower"))


def strip(x: Column) -> Column:
    """Strip leading and trailing ASCII whitespace."""
    return _node("strip", _require_column(x, "strip"))


def is_missing(x: Column) -> Column:
    """True where x is null (or NaN for floats); never null itself."""
    return _node("is_missing", _require_column(x, "is_missing"))


# ------------------------------------------------------------ public names

# TFT mappers and helpers that compose several ops (every other public function adds one op,
# and is named by its op spec's ``dsl`` fact).
MAPPERS = (
    "bucketize",
    "clip_by_quantiles",
    "compute_and_apply_vocabulary",
    "impute",
    "scale_by_min_max",
    "scale_to_0_1",
    "scale_to_z_score",
)


def public_names() -> list[str]:
    """Every ``ts.*`` function: the ops' ``dsl`` names and the `MAPPERS`.

    Example:
        >>> "scale_to_z_score" in public_names() and "log1p" in public_names()
        True
    """
    from tskew.catalog import dsl_names

    return sorted({*dsl_names(), *MAPPERS})


def public_function(name: str) -> Any:
    """The ``ts.<name>`` function, or None.

    An op spec with ``dsl=name`` and no hand-written function here gets a generic
    one, ``ts.<name>(*inputs, **attrs)``, so a new op needs only its spec.
    """
    from tskew.catalog import all_ops

    if name in MAPPERS:
        return globals()[name]
    spec = next((s for s in all_ops().values() if s.dsl == name), None)
    if spec is None:
        return None
    fn = globals().get(name)
    if callable(fn) and getattr(fn, "__module__", None) == __name__:
        return fn
    return _op_function(spec.name, spec.doc)


def _op_function(op: str, doc: str) -> Any:
    def fn(*inputs: Any, **attrs: Any) -> Column:
        _require_column(_first_column(inputs), op)
        return _node(op, *inputs, **attrs)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = doc
    return fn
