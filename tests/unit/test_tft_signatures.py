"""TFT's parameters on the ``ts.*`` functions that mirror ``tft.*`` ones.

Every parameter of a same-named TFT function is accepted by the ``ts`` function at its
TFT default; the ones tskew implements keep TFT's meaning; the others are refused with
an error naming the parameter and what to do. Empty training data keeps tskew's error,
which says what TFT would return.
"""

from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import tskew as ts
import tskew.tft_args as tft_args
from tskew.dsl import public_names
from tskew.tracing import GraphBuilder, TraceInputs, building

ROWS = {"x": [1.0, 2.0, 4.0, 9.0], "k": [1, 2, 3, 4], "s": ["a", "b", "a", "c"]}
SCHEMA = {"x": ts.float32(False), "k": ts.int64(False), "s": ts.string(False)}

# A non-default value for each parameter tskew refuses, and where TFT has it.
REFUSED = {
    "weights": ["quantiles", "bucketize", "vocabulary", "compute_and_apply_vocabulary"],
    "vocab_filename": ["vocabulary", "compute_and_apply_vocabulary"],
    "store_frequency": ["vocabulary", "compute_and_apply_vocabulary"],
    "reduce_instance_dims": ["mean", "var", "min", "max", "sum", "size", "quantiles"],
    **{p: ["vocabulary", "compute_and_apply_vocabulary"] for p in (
        "labels", "use_adjusted_mutual_info", "min_diff_from_avg", "coverage_top_k",
        "coverage_frequency_threshold", "key_fn", "fingerprint_shuffle", "reserved_tokens",
        "file_format")},
    "lookup_fn": ["apply_vocabulary"],
    "key": ["hash_strings"],
}  # fmt: skip
NON_DEFAULT = {
    "weights": "w", "vocab_filename": "v.txt", "store_frequency": True,
    "reduce_instance_dims": False, "labels": "y", "use_adjusted_mutual_info": True,
    "min_diff_from_avg": 2.0, "coverage_top_k": 3, "coverage_frequency_threshold": 2,
    "key_fn": len, "fingerprint_shuffle": True, "reserved_tokens": ["<pad>"],
    "file_format": "tfrecord_gzip", "lookup_fn": len, "key": [1, 2],
}  # fmt: skip


def _tft_functions() -> dict[str, inspect.Signature]:
    tft = pytest.importorskip("tensorflow_transform")
    return {n: inspect.signature(getattr(tft, n)) for n in public_names() if hasattr(tft, n)}


def _input_for(fn: str) -> str:
    return "s" if "vocabulary" in fn or fn == "hash_strings" else "x"


def _call(fn: str, **kwargs):
    """Trace ``ts.<fn>`` on a feature with TFT's required arguments, then ``kwargs``."""
    required = {"quantiles": (2,), "bucketize": (2,), "apply_buckets": ([2.0],),
                "hash_strings": (8,), "apply_vocabulary": (["a"],)}.get(fn, ())
    _trace_call(lambda i: getattr(ts, fn)(i[_input_for(fn)], *required, **kwargs))


def _trace_call(body) -> None:
    """Trace ``body(inputs)`` alone: its result may be a dataset value (no output checks)."""
    builder = GraphBuilder(ts.Schema(SCHEMA))
    with building(builder):
        body(TraceInputs(builder))


def test_every_tft_parameter_is_accepted_at_its_default():
    functions = _tft_functions()
    assert len(functions) >= 15
    for fn, signature in functions.items():
        params = list(signature.parameters.values())[1:]  # after the input tensor
        defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        _call(fn, **defaults)  # a TypeError here names the parameter tskew lacks
        ours = inspect.signature(getattr(ts, fn)).parameters
        for p in params:  # named in the signature, or a TFT-only one behind **tft_only
            assert p.name in ours or p.name in tft_args.TFT_ONLY, (fn, p.name)


def test_every_refused_parameter_is_listed_with_the_fix():
    functions = _tft_functions()
    for param, fns in REFUSED.items():
        for fn in fns:
            assert param in functions[fn].parameters, (fn, param)  # the table is TFT's
            with pytest.raises(ts.TraceError, match=rf"{fn}: {param}=.*(drop|split|use|map)"):
                _call(fn, **{param: NON_DEFAULT[param]})


def test_an_unknown_keyword_is_a_type_error_like_python():
    with pytest.raises(TypeError, match="unexpected keyword argument 'vocab_file'"):
        _call("vocabulary", vocab_file="v.txt")


def test_name_is_a_label_only():
    tfn = ts.analyze(lambda i: {"o": i["x"] - ts.mean(i["x"], name="m")}, ROWS, schema=SCHEMA)
    plain = ts.analyze(lambda i: {"o": i["x"] - ts.mean(i["x"])}, ROWS, schema=SCHEMA)
    assert tfn.transform(ROWS)["o"].tolist() == plain.transform(ROWS)["o"].tolist()
    with pytest.raises(ts.TraceError, match="name= must be a string"):
        _call("mean", name=3)


class FakeTfDType:
    """What tskew reads of a ``tf.DType`` (its name), so this test needs no TensorFlow."""

    name = "float32"


@pytest.mark.parametrize("dtype", ["float32", ts.float32(), ts.float32, ts.DType.FLOAT32,
                                   FakeTfDType()])
def test_output_dtype_float32_keeps_centering_float32(dtype):
    def fn(i):
        return {"c": i["x"] - ts.mean(i["x"], output_dtype=dtype),
                "v": i["x"] + ts.var(i["k"], output_dtype=dtype),
                "z": ts.scale_to_z_score(i["k"], output_dtype=dtype)}

    out = ts.analyze(fn, ROWS, schema=SCHEMA).transform(ROWS)
    assert {name: col.dtype for name, col in out.items()} == {
        "c": np.float32, "v": np.float32, "z": np.float32}
    assert out["c"].tolist() == [-3.0, -2.0, 0.0, 5.0]


def test_output_dtype_float64_and_defaults():
    def fn(i):
        return {"z64": ts.scale_to_z_score(i["x"], output_dtype="float64"),
                "mm": ts.scale_to_0_1(i["x"], output_dtype="float64"),
                "m": i["x"] + ts.mean(i["x"]),  # tskew's default: float64
                "s": i["x"] + ts.sum(i["x"], output_dtype="float32"),
                "lo": i["x"] - ts.min(i["k"], output_dtype="float32")}

    out = ts.analyze(fn, ROWS, schema=SCHEMA).transform(ROWS)
    assert [out[n].dtype for n in ("z64", "mm", "m", "s", "lo")] == [
        np.float64, np.float64, np.float64, np.float32, np.float32]
    assert out["mm"].tolist() == [0.0, 0.125, 0.375, 1.0]
    assert out["lo"].tolist() == [0.0, 1.0, 3.0, 8.0]


@pytest.mark.parametrize("bad", ["int64", "string", 3, object()])
def test_output_dtype_other_than_float_is_refused(bad):
    with pytest.raises(ts.TraceError, match=r"mean: output_dtype=.*float32"):
        _call("mean", output_dtype=bad)


def test_numeric_strings_for_top_k_and_frequency_threshold():
    def fn(i):
        return {"a": ts.compute_and_apply_vocabulary(i["s"], top_k="1"),
                "b": ts.compute_and_apply_vocabulary(i["s"], top_k=1),
                "c": ts.compute_and_apply_vocabulary(i["s"], frequency_threshold="2")}

    out = ts.analyze(fn, ROWS, schema=SCHEMA).transform(ROWS)
    assert out["a"].tolist() == out["b"].tolist() == out["c"].tolist() == [0, -1, 0, -1]
    for bad in ("ten", True, [3]):
        with pytest.raises(ts.TraceError, match="top_k must be None, a number or a numeric"):
            _call("vocabulary", top_k=bad)


def test_elementwise_on_a_scalar_feature_is_the_default():
    def fn(i):
        return {"e": ts.scale_to_0_1(i["x"], elementwise=True), "d": ts.scale_to_0_1(i["x"]),
                "be": ts.bucketize(i["x"], 2, elementwise=True)}

    out = ts.analyze(fn, ROWS, schema=SCHEMA).transform(ROWS)
    assert out["e"].tolist() == out["d"].tolist()
    with pytest.raises(ts.TraceError, match="elementwise=True on a vector feature"):
        _trace_call(lambda i: ts.scale_to_0_1(ts.one_hot(i["k"], 3), elementwise=True))


def test_epsilon_is_accepted_and_noted_once(monkeypatch):
    monkeypatch.setattr(tft_args, "_epsilon_noted", False)

    def fn(i):
        return {"a": ts.bucketize(i["x"], 2, epsilon=0.01),
                "b": ts.bucketize(i["x"], 2),
                "c": ts.apply_buckets(i["x"], ts.quantiles(i["x"], 2, 0.01))}

    with pytest.warns(UserWarning, match="epsilon=0.01 is ignored: tskew computes exact") as seen:
        out = ts.analyze(fn, ROWS, schema=SCHEMA).transform(ROWS)
    assert len([w for w in seen if "epsilon" in str(w.message)]) == 1
    assert out["a"].tolist() == out["b"].tolist() == out["c"].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _call("bucketize", epsilon=0.5)  # said once per process: no more warnings
    with pytest.raises(ts.TraceError, match="epsilon= must be a number"):
        _call("bucketize", epsilon="small")


@pytest.mark.parametrize("op, tft_value", [("mean", "0"), ("var", "0"), ("min", r"\+inf"),
                                           ("max", "-inf")])
def test_all_missing_column_error_says_what_tft_returns(op, tft_value):
    rows = {"x": [None, math.nan, None]}

    def fn(i):
        return {"o": ts.fill_missing(i["x"], 0.0) + ts.cast(getattr(ts, op)(i["x"]), "float32")}

    with pytest.raises(ts.AnalyzeError, match=rf"{op} of x saw no values.*TFT would return "
                                              rf"{tft_value} here.*ts.fill_missing"):
        ts.analyze(fn, rows, schema={"x": ts.float32()})


def test_filling_an_all_missing_column_gives_tfts_values():
    rows = {"x": [None, None, None]}

    def fn(i):
        x = ts.fill_missing(i["x"], 0.0)
        return {"z": ts.scale_to_z_score(x), "m": x + ts.cast(ts.mean(x), "float32"),
                "b": ts.apply_buckets(x, ts.quantiles(x, 3))}

    out = ts.analyze(fn, rows, schema={"x": ts.float32()}).transform({"x": [5.0, None]})
    assert out["z"].tolist() == [5.0, 0.0]  # TFT: z-score passes x through
    assert out["m"].tolist() == [5.0, 0.0]


def test_empty_training_data_error_says_what_tft_returns():
    with pytest.raises(ts.AnalyzeError, match=r"empty training data.*TFT would return "
                                              r"mean/var/sum/size 0"):
        ts.analyze(lambda i: {"o": i["x"] - ts.mean(i["x"])}, {"x": []},
                   schema={"x": ts.float32(False)})


def test_readme_porting_section_names_every_refused_parameter():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Porting from TFT")[1].split("\n## ")[0]
    for param in [*tft_args.TFT_ONLY, "weights", "vocab_filename", "store_frequency"]:
        assert f"`{param}" in section, param
