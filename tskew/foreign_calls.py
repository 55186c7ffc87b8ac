"""Errors in the user's terms when a TensorFlow or numpy function is given a tskew column.

A TFT user porting ``preprocessing_fn`` keeps a ``tf.math.log(x)`` or ``np.sqrt(x)``
here and there. TensorFlow would say "unsupported type ... to a Tensor" and numpy
"loop of ufunc does not support argument 0"; tskew instead names the call and its
``ts`` equivalent. The call is read from the user's source line (the first frame
outside tskew, TensorFlow and numpy), so TensorFlow is never imported here.

Example:
    >>> equivalent("tf.math.reduce_mean"), equivalent("np.log1p"), equivalent("tf.nn.relu")
    ('ts.mean', 'ts.log1p', None)
"""

from __future__ import annotations

import linecache
import re
import sys
from pathlib import Path

from tskew.errors import TraceError

# Last component of a TF / numpy function name -> what to write with tskew.
_EQUIVALENTS = {
    "reduce_mean": "ts.mean",
    "mean": "ts.mean",
    "reduce_sum": "ts.sum",
    "sum": "ts.sum",
    "reduce_min": "ts.min",
    "min": "ts.min",
    "amin": "ts.min",
    "reduce_max": "ts.max",
    "max": "ts.max",
    "amax": "ts.max",
    "reduce_variance": "ts.var",
    "var": "ts.var",
    "quantile": "ts.quantiles",
    "percentile": "ts.quantiles",
    "log1p": "ts.log1p",
    "log": "ts.log1p (tskew's logarithm is log(1 + x))",
    "sqrt": "ts.sqrt",
    "exp": "ts.exp",
    "sigmoid": "ts.sigmoid",
    "abs": "ts.abs",
    "absolute": "ts.abs",
    "where": "ts.where",
    "cast": "ts.cast",
    "astype": "ts.cast",
    "one_hot": "ts.one_hot",
    "clip_by_value": "ts.clip",
    "clip": "ts.clip",
    "lower": "ts.lower",
    "strip": "ts.strip",
    "to_hash_bucket_fast": "ts.hash_strings",
    "to_hash_bucket_strong": "ts.hash_strings",
    "to_hash_bucket": "ts.hash_strings",
    "is_nan": "ts.is_missing",
    "isnan": "ts.is_missing",
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "divide": "/",
    "truediv": "/",
    "true_divide": "/",
    "negative": "unary -",
    "greater": ">",
    "greater_equal": ">=",
    "less": "<",
    "less_equal": "<=",
    "equal": "==",
    "not_equal": "!=",
    "logical_and": "&",
    "logical_or": "|",
    "logical_not": "~",
}

_CALL = re.compile(r"\b((?:tf|np|numpy|tensorflow)(?:\.\w+)+)\s*\(")
_SKIPPED = ("tensorflow", "numpy", "keras", "tf_keras")
_TSKEW_DIR = str(Path(__file__).resolve().parent)


def equivalent(call: str) -> str | None:
    """The tskew way to write TF / numpy function ``call`` (a dotted name), if there is one."""
    return _EQUIVALENTS.get(call.rsplit(".", 1)[-1])


def foreign_call_error(library: str, column: str, call: str | None = None) -> TraceError:
    """The error for ``library`` (TensorFlow or numpy) being handed ``column`` (its text).

    ``call`` names the function when known (a numpy ufunc); otherwise it is read from
    the user's source line.
    """
    call = call or _call_on_user_line()
    what = f"{call}(...)" if call else f"a {library} function"
    fix = equivalent(call) if call else None
    hint = f"use {fix}" if fix else "use ts.* functions and operators (`tskew ops` lists them)"
    return TraceError(
        f"{what} was given the tskew column {column}: preprocessing_fn builds a tskew graph, "
        f"which {library} cannot run; {hint}"
    )


def _call_on_user_line() -> str | None:
    """The TF / numpy call on the first source line outside tskew, TF and numpy."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        module = frame.f_globals.get("__name__", "")
        inside = filename.startswith(_TSKEW_DIR) or module.split(".")[0] in _SKIPPED
        if not inside:
            calls = _CALL.findall(linecache.getline(filename, frame.f_lineno))
            known = [c for c in calls if equivalent(c)]
            return (known or calls or [None])[0]
        frame = frame.f_back
    return None
