"""TFT's extra parameters on the ``ts.*`` functions: accepted, converted, or refused clearly.

A ``preprocessing_fn`` ported from TFT keeps its calls as they are
(``tft.mean(x, name="m", output_dtype=tf.float32)`` becomes ``ts.mean(...)`` with the
same arguments). Parameters that mean the same thing for tskew's scalar features
are accepted; the others raise an `ArgumentError` naming the parameter and what
to do instead. `TFT_ONLY` lists the refused ones; `tests/unit/test_tft_signatures.py`
checks that every TFT parameter of a same-named function is accepted or listed here.

Example:
    >>> as_output_dtype("mean", "float32")
    <DType.FLOAT32: 'float32'>
    >>> as_top_k("vocabulary", "10")
    10
"""

from __future__ import annotations

import warnings
from typing import Any

from tskew.errors import ArgumentError, TskewError
from tskew.schema import DType, FeatureType, as_dtype

_FLOATS = (DType.FLOAT32, DType.FLOAT64)

_VOCAB_BY_FREQUENCY = (
    "tskew ranks vocabularies by frequency only (ties by value); drop it, or compute the "
    "ranking outside tskew and pass the list to ts.apply_vocabulary"
)
_NO_MUTUAL_INFO = "mutual-information vocabularies are not supported; " + _VOCAB_BY_FREQUENCY

# TFT parameters tskew does not implement: the values that mean "not used" (TFT's
# defaults, accepted silently) and what to do instead of any other value.
TFT_ONLY: dict[str, tuple[tuple[Any, ...], str]] = {
    "labels": ((None,), _NO_MUTUAL_INFO),
    "use_adjusted_mutual_info": ((False,), _NO_MUTUAL_INFO),
    "min_diff_from_avg": ((None, 0.0), _NO_MUTUAL_INFO),
    "coverage_top_k": ((None,), "coverage vocabularies are not supported; use top_k"),
    "coverage_frequency_threshold": (
        (None,), "coverage vocabularies are not supported; use frequency_threshold"
    ),
    "key_fn": ((None,), "coverage vocabularies are not supported; use top_k / frequency_threshold"),
    "fingerprint_shuffle": ((False,), _VOCAB_BY_FREQUENCY),
    "file_format": (
        ("text",),
        "tskew keeps a vocabulary inside its artifact, not in a file; drop file_format=",
    ),
    "reserved_tokens": (
        (None,),
        "not supported yet; map those tokens yourself (ts.where(x == token, ...)) and drop "
        "reserved_tokens=",
    ),
    "lookup_fn": (
        (None,),
        "custom lookups are not supported: every backend serves the same vocabulary table; "
        "drop lookup_fn=",
    ),
    "key": (
        (None,),
        "keyed hashing is not supported: tskew hashes with MurmurHash3 (seed 0) on every "
        "backend; drop key=",
    ),
}

WEIGHTS = (
    "not supported yet (weighted analyzers are planned); drop weights= to compute the "
    "unweighted statistic"
)
VOCAB_FILENAME = (
    "not supported yet: tskew stores the vocabulary inside its artifact, not as a named asset "
    "file (naming it is planned); drop vocab_filename="
)
STORE_FREQUENCY = (
    "not supported: ts.vocabulary yields the values only; drop store_frequency= (the most "
    "frequent values and their counts are in tfn.statistics.inputs[feature].top_values)"
)

_epsilon_noted = False  # the epsilon note is given once per process, not once per call


def check_common(fn: str, name: str | None = None, reduce_instance_dims: bool = True) -> None:
    """Check TFT's ``name=`` (a label only) and ``reduce_instance_dims=``.

    Example:
        >>> check_common("mean", name="fare_mean")
        >>> check_common("mean", reduce_instance_dims=False)
        Traceback (most recent call last):
        tskew.errors.ArgumentError: mean: reduce_instance_dims=False ...
    """
    if name is not None and not isinstance(name, str):
        raise ArgumentError(f"{fn}: name= must be a string (a label only), got {name!r}")
    if reduce_instance_dims is not True:
        raise ArgumentError(
            f"{fn}: reduce_instance_dims={reduce_instance_dims!r} is not supported: tskew "
            "features hold one value per row, so the statistic is always over all values "
            "(TFT's default); drop reduce_instance_dims= (for a vector feature, split it into "
            "scalar features)"
        )


def check_elementwise(fn: str, x: Any, elementwise: bool) -> None:
    """``elementwise=True`` equals the default on a scalar feature; refused on a vector.

    Example:
        >>> check_elementwise("scale_to_0_1", None, False)
    """
    if elementwise not in (True, False):
        raise ArgumentError(f"{fn}: elementwise= must be True or False, got {elementwise!r}")
    if elementwise and x is not None and x.type.width is not None:
        raise ArgumentError(
            f"{fn}: elementwise=True on a vector feature ({x.type!r}) is not supported: "
            "tskew's statistics are over scalar features; split the vector into scalar "
            "features and scale each"
        )


def note_epsilon(fn: str, epsilon: float | None) -> None:
    """Accept TFT's approximation ``epsilon=``: tskew's quantiles are exact (one warning)."""
    global _epsilon_noted
    if epsilon is None:
        return
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or epsilon < 0:
        raise ArgumentError(f"{fn}: epsilon= must be a number >= 0, got {epsilon!r}")
    if not _epsilon_noted:
        _epsilon_noted = True
        warnings.warn(
            f"{fn}: epsilon={epsilon} is ignored: tskew computes exact quantiles (said once)",
            UserWarning,
            stacklevel=3,
        )


def refuse(fn: str, param: str, value: Any, unused: tuple[Any, ...], why: str) -> None:
    """Raise when ``param`` has a value other than the ones meaning "not used"."""
    if not any(value is u or (type(value) is type(u) and value == u) for u in unused):
        raise ArgumentError(f"{fn}: {param}={value!r} is {why}")


def refuse_tft_only(fn: str, allowed: tuple[str, ...], given: dict[str, Any]) -> None:
    """Check the TFT-only keyword arguments ``given`` to ``fn`` (see `TFT_ONLY`).

    Example:
        >>> refuse_tft_only("vocabulary", ("file_format",), {"file_format": "text"})
        >>> refuse_tft_only("vocabulary", ("file_format",), {"nmae": "v"})
        Traceback (most recent call last):
        TypeError: vocabulary() got an unexpected keyword argument 'nmae'
    """
    for param, value in given.items():
        if param not in allowed:
            raise TypeError(f"{fn}() got an unexpected keyword argument {param!r}")
        unused, why = TFT_ONLY[param]
        refuse(fn, param, value, unused, why)


def as_output_dtype(fn: str, dtype: Any) -> DType | None:
    """TFT's ``output_dtype=``: ``tf.float32`` (read by name, without importing TF),
    "float32"/"float64", or a ``ts`` dtype; None keeps tskew's default.

    Example:
        >>> as_output_dtype("var", None) is None
        True
        >>> as_output_dtype("var", "int64")
        Traceback (most recent call last):
        tskew.errors.ArgumentError: var: output_dtype='int64' ...
    """
    if dtype is None:
        return None
    # tf.float32.name == "float32"; ts.float32 (the function, uncalled) is named too
    name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None)
    spelled = dtype if isinstance(dtype, DType | FeatureType | str) else name
    try:
        target = as_dtype(spelled) if isinstance(spelled, DType | FeatureType | str) else None
    except TskewError:
        target = None
    if target not in _FLOATS:
        raise ArgumentError(
            f"{fn}: output_dtype={dtype!r} is not supported; use tf.float32 / \"float32\" "
            "(TFT's default for float32 and int64 inputs) or \"float64\""
        )
    return target


def as_top_k(fn: str, top_k: Any) -> int | None:
    """TFT's ``top_k``: None, an int, or a numeric string ("10"), as ``int(top_k)`` in TFT."""
    if top_k is None or (isinstance(top_k, int) and not isinstance(top_k, bool)):
        return top_k
    try:
        return int(top_k) if isinstance(top_k, str | float) else _bad_number(fn, "top_k", top_k)
    except ValueError:
        return _bad_number(fn, "top_k", top_k)


def as_frequency_threshold(fn: str, value: Any) -> int | float | None:
    """TFT's ``frequency_threshold``: None, a number, or a numeric string ("5")."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return _bad_number(fn, "frequency_threshold", value)
        return int(number) if number.is_integer() else number
    return _bad_number(fn, "frequency_threshold", value)


def _bad_number(fn: str, param: str, value: Any) -> Any:
    raise ArgumentError(f"{fn}: {param} must be None, a number or a numeric string, got {value!r}")
