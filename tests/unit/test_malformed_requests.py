"""Every backend refuses a malformed request instead of broadcasting it (issue 13, item 13).

Every input of a request (each feature and each ``<name>__missing`` mask) must be a
``[batch]`` vector of the same length. A length-1 mask or string column against a
batch of 3, a scalar, or a ``[1, n]`` tensor fail on the SavedModel (loaded from
disk), on ONNX Runtime and on the numpy executor alike; well-formed requests of any
length (0 included) still agree with numpy bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew.errors import DataError

tf = pytest.importorskip("tensorflow")
ort = pytest.importorskip("onnxruntime")

from tskew.exporters.onnx_export import export_onnx  # noqa: E402


def fn(i):
    return {"y": ts.fill_missing(i["x"], -1.0), "id": ts.compute_and_apply_vocabulary(i["k"])}


TRAIN = {"x": [1.0, None, 3.0], "k": ["a", "b", "a"]}
SCHEMA = {"x": ts.float64(), "k": ts.string(nullable=False)}
NAMES = ["x", "x__missing", "k"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tfn = ts.analyze(fn, TRAIN, SCHEMA)
    d = tmp_path_factory.mktemp("served")
    signature = tf.saved_model.load(str(tfn.to_saved_model(d / "m"))).signatures["serving_default"]
    session = ort.InferenceSession(str(export_onnx(tfn, d / "t.onnx")))
    return tfn, signature, session


def _column(name: str, n: int) -> np.ndarray:
    if name == "x":
        return np.arange(n, dtype=np.float64)
    if name == "x__missing":
        return np.arange(n) % 2 == 1
    return np.array(["a", "b", "zz"] * n, dtype=object)[:n]


def _request(lengths: dict[str, int]) -> dict[str, np.ndarray]:
    return {name: _column(name, lengths[name]) for name in NAMES}


def _tf_call(signature, request):
    dtypes = {"x": tf.float64, "x__missing": tf.bool, "k": tf.string}
    args = {k: tf.constant(v.tolist() if v.dtype == object else v, dtypes[k])
            for k, v in request.items()}  # fmt: skip
    return {k: v.numpy() for k, v in signature(**args).items()}


def _numpy_call(tfn, request):
    x = [None if m else v for v, m in zip(request["x"], request["x__missing"], strict=False)]
    if len(request["x"]) != len(request["x__missing"]):
        x = list(request["x"])  # the numpy API has no mask: a shorter mask is a shorter column
    return tfn.transform({"x": x, "k": list(request["k"])})


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(0, 4),
    wrong=st.sampled_from(NAMES),
    other=st.integers(0, 5),
)
def test_inputs_of_different_lengths_fail_everywhere(served, n, wrong, other):
    tfn, signature, session = served
    lengths = {name: n for name in NAMES}
    lengths[wrong] = other
    request = _request(lengths)
    if other == n:  # well-formed: every backend serves it, identically
        expected = _numpy_call(tfn, request)
        got_tf = _tf_call(signature, request)
        got_onnx = dict(zip(["y", "id"], session.run(["y", "id"], request), strict=True))
        for name in ("y", "id"):
            assert expected[name].tobytes() == got_tf[name].tobytes() == got_onnx[name].tobytes()
        return
    with pytest.raises(tf.errors.InvalidArgumentError, match="one value per row"):
        _tf_call(signature, request)
    with pytest.raises(Exception, match="one value per row") as err:
        session.run(["y", "id"], request)
    assert "onnxruntime" in type(err.value).__module__
    if wrong != "x__missing":
        with pytest.raises(DataError, match="one value per row"):
            _numpy_call(tfn, request)


@pytest.mark.parametrize("shape", [(), (1, 3)])
def test_scalar_and_matrix_inputs_fail_everywhere(served, shape):
    tfn, signature, session = served
    request = _request({name: 3 for name in NAMES})
    request["x"] = np.zeros(shape)
    with pytest.raises(tf.errors.InvalidArgumentError):
        _tf_call(signature, request)
    with pytest.raises(Exception, match="rank") as err:
        session.run(["y", "id"], request)
    assert "onnxruntime" in type(err.value).__module__
    x = 0.0 if shape == () else np.zeros(shape)
    with pytest.raises(DataError, match="1-D"):
        tfn.transform({"x": x, "k": ["a", "b", "c"]})


def test_one_row_request_against_one_feature_only(tmp_path):
    """A graph without a hash or vocabulary: the rank check itself must fire (not an op)."""
    tfn = ts.analyze(lambda i: {"y": ts.fill_missing(i["x"], 0.0)}, {"x": [1.0, None]})
    signature = tf.saved_model.load(str(tfn.to_saved_model(tmp_path / "m"))).signatures[
        "serving_default"
    ]
    with pytest.raises(tf.errors.InvalidArgumentError):
        signature(x=tf.constant(2.0, tf.float64), x__missing=tf.constant(False))
    with pytest.raises(tf.errors.InvalidArgumentError):
        signature(x=tf.constant([[2.0]], tf.float64), x__missing=tf.constant([[False]]))
    out = signature(x=tf.constant([2.0], tf.float64), x__missing=tf.constant([False]))
    assert out["y"].numpy().tolist() == [2.0]


def test_wide_outputs_transform_in_smaller_batches():
    from tskew.transform_fn import MAX_BATCH_VALUES, rows_per_batch

    tfn = ts.analyze(lambda i: {"h": ts.one_hot(i["n"], 4096)}, {"n": [1, 2]},
                     {"n": ts.int64(False)})  # fmt: skip
    assert rows_per_batch(tfn.graph) * 4096 <= MAX_BATCH_VALUES
    out = tfn.transform({"n": [1, 4095, 7]})["h"]
    assert out.shape == (3, 4096) and out.sum() == 3
