"""Hypothesis-driven parity of the TensorFlow and ONNX lowerings with numpy, op by op.

ONNX runs the same batches unflushed (ONNX Runtime keeps subnormals); only the outputs
that depend on something ONNX declares it cannot express (lower, strip, string -> float
casts: its lowering table's ``unsupported``) run on TF only; any other gap fails.

Each op family is one `TransformFn` whose TF ``transform_features`` function (the
one the SavedModel serves) is traced once; hypothesis then draws hostile batches
(NaN, +-inf, nulls, empty and non-ASCII strings, extreme magnitudes, 0, 1 and
10k rows) through both backends. Outputs must be bit-identical, with the
documented exceptions: TF's CPU kernels flush subnormal floats to zero (so inputs
and the reference are flushed, as in the conformance suite) and
``log1p``/``exp``/``sigmoid`` may differ by 1 ulp.

Outputs of a TransformFn are dense, so every nullable op result ``y`` is exposed as
``fill_missing(y, filler)`` (its values), ``is_missing(y)`` (null or NaN) and, for
floats, ``is_missing(cast(y, "int64"))`` (null only): together they pin down values,
NaN positions and the null mask.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tskew as ts
from tests.conformance.test_conformance import (
    assert_same_bits,
    flush_subnormals,
    flush_table,
    run_numpy,
)

tf = pytest.importorskip("tensorflow")

from tskew.exporters.saved_model import TransformModule  # noqa: E402
from tskew.exporters.tensorflow import tf_dtype  # noqa: E402

NAN, INF = float("nan"), float("inf")
BIG = 10_000  # the "large batch" size: drawn examples are tiled up to it

# ------------------------------------------------------------------ strategies

SPECIAL_F64 = [
    0.0,
    -0.0,
    NAN,
    INF,
    -INF,
    1.0,
    -1.5,
    2.5,
    1e308,
    -1e308,
    1.7976931348623157e308,
    2.2250738585072014e-308,  # smallest normal
    5e-324,  # subnormal: flushed before comparison
    9.223372036854775807e18,  # 2**63
    -9.223372036854775808e18,
    9.007199254740993e15,
]
SPECIAL_F32 = [0.0, -0.0, NAN, INF, -INF, 1.0, -1.5, 3.4028234663852886e38, 1.1754943508222875e-38]
SPECIAL_I64 = [0, 1, -1, 2**63 - 1, -(2**63), 2**62, 2**53 + 1, -(2**53) - 1, 2**31, -(2**32)]
# Characters whose case mapping or bytes trip up string kernels.
HOSTILE_CHARS = [
    "İ",  # U+0130: full lower-case mapping is two code points
    "ẞ",  # U+1E9E capital sharp s
    "Σ",  # final-sigma context in ICU
    "ǅ",  # title case
    "Ω",  # U+2126 ohm sign
    "K",  # U+212A kelvin sign
    "😀",  # 4-byte UTF-8
    "\x00",
    " ",
    "\t",
    "\n",
    "\v",
    "\f",
    "\r",
    "\xa0",  # not ASCII whitespace
    "\u3000",
    "A",
    "z",
    "7",
    "_",
    "X",
]

f64 = st.one_of(st.floats(width=64), st.sampled_from(SPECIAL_F64))
f32 = st.one_of(st.floats(width=32), st.sampled_from(SPECIAL_F32))
i64 = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(SPECIAL_I64))
texts = st.text(
    alphabet=st.one_of(st.characters(blacklist_categories=["Cs"]), st.sampled_from(HOSTILE_CHARS)),
    max_size=12,
)
NUMBER_LITERALS = [
    "+5",
    " 3",
    "3 ",
    "1e5",
    "-0",
    "+0",
    "007",
    "0" * 40 + "7",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "+9223372036854775807",
    "99999999999999999999999",
    "inf",
    "-inf",
    "+inf",
    "INF",
    "Infinity",
    "-infinity",
    "nan",
    "-NaN",
    "+nan",
    "1e400",
    "-1e400",
    "1e-400",
    "1e-310",
    "1e39",
    "3.4028235e38",
    "3.4028236e38",
    ".5",
    "5.",
    "+.5e-3",
    "1E5",
    "0x10",
    "1_000",
    "１",  # fullwidth digit
    "٣",  # Arabic-Indic digit
    "1\x00",
    "",
    "true",
    "FALSE",
    "True",
    "1",
    "0",
    "yes",
    "true ",
    "0." + "0" * 40 + "1",
    "1" * 40,
    "1.00000005960464477539062500000000000000001",  # float32 halfway + epsilon
]
number_strings = st.one_of(
    st.sampled_from(NUMBER_LITERALS),
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 2**64).map(lambda i: f"+{i}"),
    st.floats(width=64).map(repr),
    st.floats(width=32).map(lambda v: str(np.float32(v))),
    st.from_regex(r"[+-]?[0-9]{0,22}(\.[0-9]{0,22})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    texts,
)


def opt(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """``strategy`` or None (a null)."""
    return st.one_of(st.none(), strategy)


def batches(*columns: st.SearchStrategy) -> st.SearchStrategy:
    """Rows of the given column strategies: 0..24 rows, sometimes tiled to 10k rows."""
    rows = st.lists(st.tuples(*columns), max_size=24)
    return st.tuples(rows, st.sampled_from([1, 1, 1, 1, BIG]))


def _tile(rows: list[tuple], big: int) -> list[tuple]:
    if big == 1 or not rows:
        return rows
    return (rows * (big // len(rows) + 1))[:big]


PARITY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------ harness

_FILLER = {
    ts.DType.FLOAT32: 0.0,
    ts.DType.FLOAT64: 0.0,
    ts.DType.INT64: 0,
    ts.DType.STRING: "",
    ts.DType.BOOL: False,
}
_TRAIN = {
    ts.DType.FLOAT32: 1.0,
    ts.DType.FLOAT64: 1.0,
    ts.DType.INT64: 1,
    ts.DType.STRING: "a",
    ts.DType.BOOL: True,
}


def serving_columns(tfn: ts.TransformFn, table: pa.Table) -> dict[str, np.ndarray]:
    """Arrow columns -> the signature's inputs: values (nulls as 0/False/"") plus masks."""
    columns = {}
    for name, nid in tfn.graph.inputs.items():
        vtype = tfn.graph.nodes[nid].type
        col = table.column(name).combine_chunks()
        columns[name] = col.fill_null(_FILLER[vtype.dtype]).to_numpy(zero_copy_only=False)
        if vtype.nullable:
            columns[name + "__missing"] = col.is_null().to_numpy(zero_copy_only=False)
    return columns


def expose(results: dict[str, Any]) -> dict[str, Any]:
    """Dense outputs revealing each result's values, NaN positions and null mask."""
    out = {}
    for name, y in results.items():
        if not y.type.nullable:
            out[name] = y
            continue
        out[name] = ts.fill_missing(y, _FILLER[y.dtype])
        out[name + "_missing"] = ts.is_missing(y)
        if y.dtype.is_float:
            out[name + "_null"] = ts.is_missing(ts.cast(y, "int64"))
    return out


class Family:
    """One op family: a `TransformFn` and its TF ``transform_features``, traced once."""

    def __init__(
        self,
        fn: Callable[[dict], dict],
        schema: dict[str, ts.FeatureType],
        ulps: int = 0,
    ):
        self.schema = schema
        self.ulps = ulps
        train = pa.table({n: pa.array([_TRAIN[t.dtype]], t.dtype.arrow) for n, t in schema.items()})
        self.tfn = ts.analyze(lambda i: expose(fn(i)), train, schema=schema)
        module = TransformModule(self.tfn)
        self.dtypes = {n: tf_dtype(d) for n, (d, _) in module.features.items()}
        self.fn = module.signatures()["transform_features"]
        self.onnx, self.onnx_outputs = _onnx_session(self.tfn)

    def table(self, rows: Sequence[tuple]) -> pa.Table:
        names = list(self.schema)
        return pa.table(
            {
                n: pa.array([r[k] for r in rows], self.schema[n].dtype.arrow)
                for k, n in enumerate(names)
            }
        )

    def run_tf(self, table: pa.Table) -> dict[str, np.ndarray]:
        feeds = {}
        for name, values in serving_columns(self.tfn, table).items():
            data = values.tolist() if values.dtype == object else values
            feeds[name] = tf.constant(data, self.dtypes.get(name, tf.bool))
        out = {}
        for name, t in self.fn(**feeds).items():
            v = t.numpy()
            if v.dtype == object:
                v = np.array([b.decode("utf-8") for b in v.reshape(-1)], object)
            out[name] = v
        return out

    def run_onnx(self, table: pa.Table) -> dict[str, np.ndarray]:
        from tskew.exporters.onnx import output_name

        inputs = {i.name for i in self.onnx.get_inputs()}
        feeds = {k: v for k, v in serving_columns(self.tfn, table).items() if k in inputs}
        names = [o.name for o in self.onnx.get_outputs()]
        out = dict(zip(names, self.onnx.run(names, feeds), strict=True))
        return {
            name: out[output_name(self.onnx_outputs, name)] for name in self.onnx_outputs.outputs
        }

    def check(self, rows: Sequence[tuple]) -> None:
        """Every backend on ``rows``: identical outputs, or fail naming the row."""
        table = flush_table(self.table(rows))
        got = self.run_tf(table)
        want = {
            n: _flushed_where_tf_flushed(v, got[n]) for n, v in run_numpy(self.tfn, table).items()
        }
        _assert_backend("tf", got, want, table, self.ulps)
        if self.onnx is not None:
            table = self.table(rows)
            got = self.run_onnx(table)
            want = {n: v for n, v in run_numpy(self.tfn, table).items() if n in got}
            _assert_backend("onnx", got, want, table, self.ulps)


def _onnx_session(tfn: ts.TransformFn) -> tuple[Any, Any]:
    """An onnxruntime session of the outputs ONNX can express, and their graph.

    (None, None) without onnxruntime. Outputs using what ONNX declares unsupported are
    left out; a missing lowering raises `UnsupportedOpError` and fails the test.
    """
    try:
        import onnxruntime as ort

        from tskew.exporters.onnx import LOWERINGS, transform_model
    except ImportError:
        return None, None
    from tskew.compiler import finalize
    from tskew.ir.graph import Graph

    graph = tfn.graph
    kept = {
        name: nid
        for name, nid in graph.outputs.items()
        if not LOWERINGS.declared_unsupported(graph, [nid])
    }
    if not kept:
        return None, None
    graph = finalize(Graph(graph.nodes, graph.inputs, kept))
    model = transform_model(graph)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session, graph


def _assert_backend(backend: str, got: dict, want: dict, table: pa.Table, ulps: int) -> None:
    assert set(got) == set(want)
    for name in sorted(want):
        try:
            assert_same_bits(got[name], want[name], f"{name} ({backend} vs numpy)", ulps)
        except AssertionError:
            bad = _first_difference(got[name], want[name])
            raise AssertionError(
                f"{name}: {backend} {got[name][bad]!r} != numpy {want[name][bad]!r} "
                f"for input row {bad}: {table.slice(bad, 1).to_pylist()}"
            ) from None


def _flushed_where_tf_flushed(want: np.ndarray, got: np.ndarray) -> np.ndarray:
    """The reference with each subnormal flushed to (signed) zero where TF gave zero.

    TF's arithmetic kernels flush subnormal results; its parser and casts may not.
    Either is the documented behaviour, anything else is a divergence.
    """
    if want.dtype.kind != "f" or want.shape != got.shape:
        return want
    flushed = flush_subnormals(want)
    return np.where((flushed != want) & (got == 0), flushed, want)


def _first_difference(got: np.ndarray, want: np.ndarray) -> int:
    if got.shape != want.shape:
        return 0
    for i in range(len(got)):
        g, w = np.asarray(got[i]), np.asarray(want[i])
        if g.dtype.kind == "f":
            same = np.array_equal(np.isnan(g), np.isnan(w)) and np.array_equal(
                np.nan_to_num(g), np.nan_to_num(w.astype(g.dtype))
            )
            same = same and np.array_equal(np.signbit(g), np.signbit(w))
        else:
            same = np.array_equal(g, w)
        if not same:
            return i
    return 0


_FAMILIES: dict[str, Family] = {}


def family(name: str, build: Callable[[], Family]) -> Family:
    """The family ``name``, built (and traced) on first use."""
    if name not in _FAMILIES:
        _FAMILIES[name] = build()
    return _FAMILIES[name]


# ------------------------------------------------------------------ arithmetic


def _float_arith(i: dict) -> dict:
    a, b, c = i["a"], i["b"], i["c"]
    return {
        "add": a + b,
        "sub": a - b,
        "mul": a * b,
        "div": a / b,
        "neg": -a,
        "abs": ts.abs(a),
        "sqrt": ts.sqrt(a),
        "add_const": a + 1.5,
        "f32_add": c + c,
        "f32_mul": c * c,
        "f32_div": c / c,
        "f32_sub_const": c - 0.1,
        "f32_times_f64": c * b,  # float32 x float64 -> float64
        # Constant 0 / 1 operands, which Grappler rewrites unless the lowering prevents it.
        "plus_zero": a + 0.0,
        "zero_plus": 0.0 + a,
        "zero_minus": 0.0 - a,
        "one_over": 1.0 / a,
        "f32_plus_zero": c + 0.0,
        "f32_zero_minus": 0.0 - c,
        "f32_one_over": 1.0 / c,
        "f32_two_over": 2.0 / c,
    }


@PARITY
@given(batches(opt(f64), opt(f64), opt(f32)))
@example(([], 1))
@example(([(NAN, 0.0, INF), (-0.0, 0.0, -0.0), (INF, INF, NAN), (1e308, 1e-308, -INF)], 1))
def test_float_arithmetic(batch):
    rows, big = batch
    schema = {"a": ts.float64(), "b": ts.float64(), "c": ts.float32()}
    family("float_arith", lambda: Family(_float_arith, schema)).check(_tile(rows, big))


def _int_arith(i: dict) -> dict:
    a, b, c = i["a"], i["b"], i["c"]
    return {
        "add": a + b,  # wraps on overflow
        "sub": a - b,
        "mul": a * b,
        "div": a / b,  # float64
        "neg": -a,  # -(2**63) wraps to itself
        "abs": ts.abs(a),
        "add_big": a + 2**62,
        "mul_const": a * 3,
        "plus_half": a + 0.5,  # int64 with a float constant -> float64
        "times_f32": a * c,  # int64 x float32 -> float64
    }


@PARITY
@given(batches(opt(i64), opt(i64), opt(f32)))
@example(([], 1))
@example(([(2**63 - 1, 1, 1.0)], 1))
@example(([(-(2**63), -1, 0.0), (2**62, 4, INF), (2**32, 2**32, NAN), (7, 0, -0.0)], BIG))
def test_int64_arithmetic_wraps_like_numpy(batch):
    rows, big = batch
    schema = {"a": ts.int64(), "b": ts.int64(), "c": ts.float32()}
    family("int_arith", lambda: Family(_int_arith, schema)).check(_tile(rows, big))


def test_int64_overflow_wraps_on_both_backends():
    """A hand-written oracle for the wrap: TF must not saturate or trap."""
    fam = family(
        "int_arith",
        lambda: Family(_int_arith, {"a": ts.int64(), "b": ts.int64(), "c": ts.float32()}),
    )
    out = fam.run_tf(fam.table([(2**63 - 1, 1, 0.0), (-(2**63), -1, 0.0)]))
    assert out["add"].tolist() == [-(2**63), 2**63 - 1]
    assert out["neg"].tolist() == [-(2**63) + 1, -(2**63)]
    assert out["mul"].tolist() == [2**63 - 1, -(2**63)]


def _transcendental(i: dict) -> dict:
    x, c = i["x"], i["c"]
    return {
        "log1p": ts.log1p(x),
        "exp": ts.exp(x),
        "sigmoid": ts.sigmoid(x),
        "log1p32": ts.log1p(c),
        "exp32": ts.exp(c),
        "sigmoid32": ts.sigmoid(c),
    }


# Measured on 1.6M values (TF 2.21, AVX-512): log1p, exp and sigmoid differ from numpy by
# up to 3 ulp in float64 (Eigen's log/exp are not libm's) and up to 2 (log1p, exp) or 4
# (sigmoid: the exp error is amplified by 1 / (1 + e)) ulp in float32, in full SIMD packets
# (short batches take the scalar libm path). The conformance suite allows 1 ulp, which
# its short probes meet; see the xfail test below for a batch that does not.
TRANSCENDENTAL_ULPS = 4


@PARITY
@given(batches(opt(f64), opt(f32)))
@example(([(NAN, NAN), (INF, INF), (-INF, -INF), (-1.0, -1.0), (710.0, 89.0), (-0.0, -0.0)], 1))
@example(([(4.150033776513104e16, -83.890144), (-36.94245929743241, -3.4341815)], BIG))
def test_transcendental_within_measured_ulps(batch):
    rows, big = batch
    schema = {"x": ts.float64(), "c": ts.float32()}
    build = lambda: Family(_transcendental, schema, ulps=TRANSCENDENTAL_ULPS)
    family("transcendental", build).check(_tile(rows, big))


@pytest.mark.xfail(
    strict=True,
    reason="1 ulp (the conformance tolerance) does not hold: TF's float64 "
    "log1p(4.150033776513104e16) is 3 ulp from numpy's in a vectorised batch (Eigen computes "
    "x * log(u) / (u - 1)); not fixable with TF ops alone",
)
def test_transcendental_within_documented_one_ulp():
    schema = {"x": ts.float64(), "c": ts.float32()}
    fam = Family(_transcendental, schema, ulps=1)
    fam.check([(4.150033776513104e16, 1.0)] * 16)  # a full SIMD packet: Eigen, not libm


# ------------------------------------------------------------ compare / logic


def _compare(i: dict) -> dict:
    a, b, n, c, s, t, p = (i[k] for k in "abncstp")
    out = {}
    for op, fn in [
        ("eq", lambda x, y: x == y),
        ("ne", lambda x, y: x != y),
        ("lt", lambda x, y: x < y),
        ("le", lambda x, y: x <= y),
        ("gt", lambda x, y: x > y),
        ("ge", lambda x, y: x >= y),
    ]:
        out[f"f_{op}"] = fn(a, b)
        out[f"ic_{op}"] = fn(n, c)  # int64 vs float32: compared in float64
        out[f"ik_{op}"] = fn(n, 2**53 + 1)
    out["s_eq"] = s == t
    out["s_ne"] = s != t
    out["s_eq_const"] = s == "İ"
    out["b_eq"] = p == (a > 0.0)
    return out


@PARITY
@given(batches(opt(f64), opt(f64), opt(i64), opt(f32), opt(texts), opt(texts), opt(st.booleans())))
@example(([(NAN, NAN, 2**53 + 1, 9.007199254740992e15, "", "", True)], 1))
@example(([(-0.0, 0.0, -1, -1.0, "Σ", "σ", None)], 1))
def test_comparisons(batch):
    rows, big = batch
    schema = {
        "a": ts.float64(),
        "b": ts.float64(),
        "n": ts.int64(),
        "c": ts.float32(),
        "s": ts.string(),
        "t": ts.string(),
        "p": ts.bool_(),
    }
    family("compare", lambda: Family(_compare, schema)).check(_tile(rows, big))


def _logic(i: dict) -> dict:
    p, q = i["p"], i["q"]
    return {"and": p & q, "or": p | q, "not": ~p, "mixed": (p | ~q) & ~(p & q)}


@PARITY
@given(batches(opt(st.booleans()), opt(st.booleans())))
@example(([(True, None), (None, False), (None, None), (False, True)], BIG))
def test_logic(batch):
    rows, big = batch
    schema = {"p": ts.bool_(), "q": ts.bool_()}
    family("logic", lambda: Family(_logic, schema)).check(_tile(rows, big))


# -------------------------------------------------------------- clip / where


def _clip_where(i: dict) -> dict:
    x, c, n, p, s = (i[k] for k in "xcnps")
    return {
        "clip": ts.clip(x, -1.0, 1.0),
        "clip_zero": ts.clip(x, 0.0, 1.0),  # -0.0 against a 0.0 bound
        "clip_neg_zero": ts.clip(x, -1.0, -0.0),
        "clip_inf": ts.clip(x, -INF, 1e300),
        "clip32": ts.clip(c, 0.0, 3e38),
        "clip_int": ts.clip(n, -5, 2**62),
        "clip_int_float": ts.clip(n, -0.5, 1e19),  # int64 with float bounds -> float64
        "where_f": ts.where(p, x, c),  # float64 / float32 -> float64
        "where_i": ts.where(x > 0.0, n, -n),
        "where_s": ts.where(p, s, "İẞ"),
        "where_const_branch": ts.where(p, 1.5, x),
        "where_int_float": ts.where(p, n, x),
    }


@PARITY
@given(batches(opt(f64), opt(f32), opt(i64), opt(st.booleans()), opt(texts)))
@example(([(-0.0, -0.0, 0, True, "")], 1))
@example(
    ([(0.0, 0.0, 0, False, None), (NAN, NAN, -(2**63), None, "x"), (-0.0, 0.0, 1, False, "")], 1)
)
def test_clip_and_where(batch):
    rows, big = batch
    schema = {
        "x": ts.float64(),
        "c": ts.float32(),
        "n": ts.int64(),
        "p": ts.bool_(),
        "s": ts.string(),
    }
    family("clip_where", lambda: Family(_clip_where, schema)).check(_tile(rows, big))


# ------------------------------------------------------------ missing values


def _missing(i: dict) -> dict:
    x, c, n, s, p = (i[k] for k in "xcnsp")
    return {
        "fill_x": ts.fill_missing(x, -1.0),
        "fill_x_nan": ts.fill_missing(x, NAN),
        "fill_c": ts.fill_missing(c, 3.4e38),
        "fill_n": ts.fill_missing(n, -(2**63)),
        "fill_n_float": ts.fill_missing(n, 2.75),  # float fill into int64: truncated
        "fill_s": ts.fill_missing(s, "ẞ\x00"),
        "fill_p": ts.fill_missing(p, True),
        "miss_x": ts.is_missing(x),
        "miss_c": ts.is_missing(c),
        "miss_n": ts.is_missing(n),
        "miss_s": ts.is_missing(s),
        "miss_p": ts.is_missing(p),
    }


@PARITY
@given(batches(opt(f64), opt(f32), opt(i64), opt(texts), opt(st.booleans())))
@example(([], 1))
@example(([(None, None, None, None, None)], 1))
@example(([(NAN, NAN, 0, "", False), (None, -INF, None, "\x00", None)], BIG))
def test_fill_missing_and_is_missing(batch):
    rows, big = batch
    schema = {
        "x": ts.float64(),
        "c": ts.float32(),
        "n": ts.int64(),
        "s": ts.string(),
        "p": ts.bool_(),
    }
    family("missing", lambda: Family(_missing, schema)).check(_tile(rows, big))


# ---------------------------------------------------------- buckets / one_hot

BOUNDS_F64 = [-INF, -1e308, -1.0, -0.0, 0.5, 1.0, 1.0, 1e308, INF]


def _buckets(i: dict) -> dict:
    x, c, n = i["x"], i["c"], i["n"]
    return {
        "b_x": ts.apply_buckets(x, BOUNDS_F64),
        "b_x_one": ts.apply_buckets(x, [0.0]),
        "b_c": ts.apply_buckets(c, [-3.4e38, -0.1, 0.0, 0.1, 3.4e38]),
        "b_n": ts.apply_buckets(n, [-9.3e18, -1.5, 0.0, 2.0**53, 9.2e18]),  # in float64
        "b_n_int": ts.apply_buckets(n, [-(2**63), -1, 0, 2**53 + 1, 2**63 - 1]),
        "one_hot": ts.one_hot(ts.fill_missing(n, -1), 5),
        "one_hot_b": ts.one_hot(ts.apply_buckets(ts.fill_missing(x, 0.0), BOUNDS_F64), 10),
        "one_hot_1": ts.one_hot(ts.fill_missing(n, 0), 1),
    }


@PARITY
@given(batches(opt(f64), opt(f32), opt(st.one_of(i64, st.integers(-2, 6)))))
@example(([], 1))
@example(([(NAN, NAN, 4), (-0.0, -0.0, 5), (INF, -INF, -1), (1.0, 0.1, 2**53 + 1)], 1))
def test_apply_buckets_and_one_hot(batch):
    rows, big = batch
    schema = {"x": ts.float64(), "c": ts.float32(), "n": ts.int64()}
    family("buckets", lambda: Family(_buckets, schema)).check(_tile(rows, big))


# -------------------------------------------------------------------- casts


def _numeric_casts(i: dict) -> dict:
    x, c, n, p = (i[k] for k in "xcnp")
    return {
        "x_i64": ts.cast(x, "int64"),
        "x_f32": ts.cast(x, "float32"),
        "x_bool": ts.cast(x, "bool"),
        "c_i64": ts.cast(c, "int64"),
        "c_f64": ts.cast(c, "float64"),
        "c_bool": ts.cast(c, "bool"),
        "n_f32": ts.cast(n, "float32"),
        "n_f64": ts.cast(n, "float64"),
        "n_bool": ts.cast(n, "bool"),
        "n_str": ts.cast(n, "string"),
        "p_i64": ts.cast(p, "int64"),
        "p_f32": ts.cast(p, "float32"),
        "p_f64": ts.cast(p, "float64"),
        "p_str": ts.cast(p, "string"),
    }


@PARITY
@given(batches(opt(f64), opt(f32), opt(i64), opt(st.booleans())))
@example(([], 1))
@example(
    (
        [
            (9.223372036854775807e18, 9.223372036854775807e18, 2**63 - 1, True),
            (-9.223372036854775808e18, -INF, -(2**63), False),
            (NAN, NAN, 2**53 + 1, None),
            (-0.9, -0.9, 2**24 + 1, True),
            (3.5e38, 1.5, 16777217, None),
        ],
        1,
    )
)
def test_numeric_casts(batch):
    rows, big = batch
    schema = {"x": ts.float64(), "c": ts.float32(), "n": ts.int64(), "p": ts.bool_()}
    family("numeric_casts", lambda: Family(_numeric_casts, schema)).check(_tile(rows, big))


def _string_casts(i: dict) -> dict:
    s = i["s"]
    return {
        "i64": ts.cast(s, "int64"),
        "f32": ts.cast(s, "float32"),
        "f64": ts.cast(s, "float64"),
        "bool": ts.cast(s, "bool"),
        "str": ts.cast(ts.cast(s, "int64"), "string"),
    }


def _string_cast_family() -> Family:
    return Family(_string_casts, {"s": ts.string()})


@PARITY
@given(batches(opt(number_strings)))
@example(([(s,) for s in NUMBER_LITERALS], 1))
@example(([("+5",)], 1))
@example(([], 1))
@example(([(s,) for s in NUMBER_LITERALS], BIG))
def test_string_to_number_casts(batch):
    rows, big = batch
    family("string_casts", _string_cast_family).check(_tile(rows, big))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("+5", 5),
        (" 3", None),
        ("3 ", None),
        ("1e5", None),
        ("-0", 0),
        ("0" * 40 + "7", 7),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("-9223372036854775808", -(2**63)),
        ("-9223372036854775809", None),
        ("99999999999999999999999", None),
        ("", None),
    ],
)
def test_string_to_int64_literals(text, want):
    """Hand-computed values, on TF: the parse must not raise, and overflow is null."""
    fam = family("string_casts", _string_cast_family)
    out = fam.run_tf(fam.table([(text,)]))
    assert bool(out["i64_missing"][0]) is (want is None)
    if want is not None:
        assert int(out["i64"][0]) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [("inf", INF), ("-inf", -INF), ("1e400", INF), ("-1e400", -INF), ("1e-400", 0.0), ("nan", NAN)],
)
def test_string_to_float_literals(text, want):
    """Overflow is +-inf, underflow 0, "nan" is NaN (so missing); never an error."""
    fam = family("string_casts", _string_cast_family)
    out = fam.run_tf(fam.table([(text,)]))
    if math.isnan(want):
        assert out["f64_missing"][0] and not out["f64_null"][0]
    else:
        assert out["f64"][0] == want and out["f32"][0] == np.float32(want)
        assert not out["f64_missing"][0]


# ------------------------------------------------------------------ strings

VOCAB = ["", "a", "A", "İ", "i̇", "ẞ", "ß", "Σ", "σ", "😀", "\x00", "a\x00b", " x ", "a", "日本"]


def _strings(i: dict) -> dict:
    s, t, n, p = (i[k] for k in "stnp")
    return {
        "lower": ts.lower(s),
        "strip": ts.strip(s),
        "lower_strip": ts.lower(ts.strip(t)),
        "cross": ts.cross([s, n, p]),
        "cross_st": ts.cross([ts.lower(s), ts.strip(t)]),
        "hash1": ts.hash_strings(s, 1),
        "hash": ts.hash_strings(s, 1000),
        "hash_big": ts.hash_strings(t, 2**31 - 1),
        "hash_cross": ts.hash_strings(ts.cross([s, t]), 97),
        "vocab_oov": ts.apply_vocabulary(s, VOCAB, num_oov_buckets=3),
        "vocab_default": ts.apply_vocabulary(s, VOCAB, default_value=-7),
        "vocab_lower": ts.apply_vocabulary(ts.lower(t), VOCAB, num_oov_buckets=1),
        "vocab_int_oov": ts.apply_vocabulary(n, [3, -(2**63), 0, 3, 2**62], num_oov_buckets=5),
        "vocab_int_default": ts.apply_vocabulary(n, [7, 0, -1], default_value=99),
    }


@PARITY
@given(
    batches(
        opt(st.one_of(texts, st.sampled_from(VOCAB))),
        opt(st.one_of(texts, st.sampled_from([c * 3 for c in HOSTILE_CHARS]))),
        opt(st.one_of(i64, st.sampled_from([3, 0, -1, 7]))),
        opt(st.booleans()),
    )
)
@example(([], 1))
@example(([("İẞΣ😀\x00", " \t\v\f\r\n Σ \xa0", -(2**63), True)], 1))
@example(([(v, v, 0, False) for v in VOCAB], 1))
@example(([("a" * 300, "ẞ" * 101, 2**63 - 1, None), (None, None, None, None)], BIG))
def test_string_ops(batch):
    rows, big = batch
    schema = {"s": ts.string(), "t": ts.string(), "n": ts.int64(), "p": ts.bool_()}
    family("strings", lambda: Family(_strings, schema)).check(_tile(rows, big))


def test_lower_is_arrow_simple_case_mapping_on_tf():
    """Hand-computed: one code point in, one out (no ICU context or expansion)."""
    fam = family(
        "strings",
        lambda: Family(
            _strings, {"s": ts.string(), "t": ts.string(), "n": ts.int64(), "p": ts.bool_()}
        ),
    )
    out = fam.run_tf(fam.table([("İẞΣΑΣ", "", 0, True)]))
    assert out["lower"][0] == "ißσασ"
