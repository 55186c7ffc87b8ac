"""ONNX export: a checked model that onnxruntime runs without tskew, merged with a model."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

import tskew as ts

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TRAIN = {
    "distance": [100.0, 250.0, 1000.0, 2500.0, 400.0],
    "carrier": ["UA", "AA", "UA", "DL", "日本"],
    "delay": [3, None, -5, 40, 12],
}
PROBE = {"distance": [150.0, 5000.0, 0.0], "carrier": ["UA", "ZZ", ""], "delay": [1, None, 7]}


def preprocessing_fn(i):
    return {
        "distance_z": ts.scale_to_z_score(ts.cast(i["distance"], "float32")),
        "carrier_id": ts.compute_and_apply_vocabulary(i["carrier"], num_oov_buckets=2),
        "delay": ts.cast(ts.impute(i["delay"], "median"), "float32"),  # named like its input
    }


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, TRAIN)


def _feed(tfn):
    from tskew.exporters.saved_model import serving_inputs

    return serving_inputs(tfn, PROBE)


def _linear_onnx_model(path):
    """predictions = 0.5 * distance_z + 0.25 * delay + 0.125 * carrier_id, as a [n, 1] tensor."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Cast", ["carrier_id"], ["carrier_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["distance_z", "w0"], ["a"]),
        helper.make_node("Mul", ["delay", "w1"], ["b"]),
        helper.make_node("Mul", ["carrier_f", "w2"], ["c"]),
        helper.make_node("Sum", ["a", "b", "c"], ["s"]),
        helper.make_node("Unsqueeze", ["s", "axis"], ["score"]),
    ]
    inits = [
        helper.make_tensor("w0", TensorProto.FLOAT, [], [0.5]),
        helper.make_tensor("w1", TensorProto.FLOAT, [], [0.25]),
        helper.make_tensor("w2", TensorProto.FLOAT, [], [0.125]),
        helper.make_tensor("axis", TensorProto.INT64, [1], [1]),
    ]
    inputs = [
        helper.make_tensor_value_info("distance_z", TensorProto.FLOAT, ["n"]),
        helper.make_tensor_value_info("delay", TensorProto.FLOAT, ["n"]),
        helper.make_tensor_value_info("carrier_id", TensorProto.INT64, ["n"]),
    ]
    output = helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n", 1])
    graph = helper.make_graph(nodes, "linear", inputs, [output], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)
    return lambda t: (
        np.float32(0.5) * t["distance_z"]
        + np.float32(0.25) * t["delay"]
        + np.float32(0.125) * t["carrier_id"].astype(np.float32)
    )


_RUN_WITHOUT_TSKEW = """
import json, sys
import numpy as np, onnxruntime as ort
path, feed = sys.argv[1], json.loads(sys.stdin.read())
session = ort.InferenceSession(path)
types = {i.name: i.type for i in session.get_inputs()}
kinds = {"tensor(double)": np.float64, "tensor(float)": np.float32, "tensor(int64)": np.int64,
         "tensor(bool)": np.bool_, "tensor(string)": object}
out = session.run(None, {k: np.array(v, dtype=kinds[types[k]]) for k, v in feed.items()})
assert "tskew" not in sys.modules
print(json.dumps({o.name: v.tolist() for o, v in zip(session.get_outputs(), out)}))
"""


def test_transform_runs_in_onnxruntime_without_tskew(tfn, tmp_path):
    path = tfn.to_onnx(tmp_path / "t.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    feed = {k: v.tolist() for k, v in _feed(tfn).items()}
    done = subprocess.run(
        [sys.executable, "-c", _RUN_WITHOUT_TSKEW, str(path)],
        input=json.dumps(feed), capture_output=True, text=True, check=True,
    )  # fmt: skip
    got = json.loads(done.stdout)
    want = tfn.transform(PROBE)
    assert got["distance_z"] == want["distance_z"].tolist()
    assert got["carrier_id"] == want["carrier_id"].tolist()
    assert got["delay__out"] == want["delay"].tolist()  # an output named like an input


def test_merged_onnx_model_and_policy(tfn, tmp_path):
    score = _linear_onnx_model(tmp_path / "linear.onnx")
    transformed = tfn.transform(PROBE)
    for policy in (None, ts.policy.clip(min=0.0), ts.policy.threshold(0.3, ("low", "high"))):
        path = tfn.to_onnx(tmp_path / "m.onnx", model=tmp_path / "linear.onnx", postprocess=policy)
        session = ort.InferenceSession(str(path))
        assert [o.name for o in session.get_outputs()] == ["predictions"]
        (got,) = session.run(None, _feed(tfn))
        raw = score(transformed)
        want = raw if policy is None else policy.apply(raw)["predictions"]
        assert got.tolist() == want.tolist()


def test_keras_model_through_tf2onnx_matches_savedmodel(tfn, tmp_path):
    keras = pytest.importorskip("keras")
    pytest.importorskip("tf2onnx")
    tf = pytest.importorskip("tensorflow")
    inputs = {
        "distance_z": keras.Input(shape=(), name="distance_z"),
        "delay": keras.Input(shape=(), name="delay"),
        "carrier_id": keras.Input(shape=(), name="carrier_id", dtype="int64"),
    }
    parts = [keras.layers.Reshape((1,))(inputs[n]) for n in ("distance_z", "delay")]
    parts.append(keras.layers.Embedding(8, 2)(inputs["carrier_id"]))
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Concatenate()(parts))
    model = keras.Model(inputs, out)
    policy = ts.policy.top_k_labels(["a", "b", "c"], k=2)
    onnx_path = tfn.to_onnx(tmp_path / "k.onnx", model=model, postprocess=policy)
    (got,) = ort.InferenceSession(str(onnx_path)).run(None, _feed(tfn))
    saved = tfn.to_saved_model(tmp_path / "k_saved", model=model, postprocess=policy)
    serve = tf.saved_model.load(str(saved)).signatures["serving_default"]
    feed = {k: tf.constant(v.tolist() if v.dtype == object else v) for k, v in _feed(tfn).items()}
    served = serve(**feed)["predictions"].numpy().astype(str)
    assert got.tolist() == served.tolist()


def test_unsupported_ops_fail_naming_the_op(tmp_path):
    tfn = ts.analyze(lambda i: {"y": ts.hash_strings(ts.lower(i["s"]), 10)}, {"s": ["A"]})
    with pytest.raises(ts.UnsupportedOpError, match=r"'lower'.*locale"):
        tfn.to_onnx(tmp_path / "x.onnx")
    tfn = ts.analyze(
        lambda i: {"y": ts.fill_missing(ts.cast(i["s"], "float64"), 0.0)}, {"s": ["1"]}
    )
    with pytest.raises(ts.UnsupportedOpError, match="string -> float64"):
        tfn.to_onnx(tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_model_errors_name_the_problem(tfn, tmp_path):
    with pytest.raises(ts.ArtifactError, match="needs a model"):
        tfn.to_onnx(tmp_path / "a.onnx", postprocess=ts.policy.clip(min=0.0))
    with pytest.raises(ts.ArtifactError, match=r"not an \.onnx file"):
        tfn.to_onnx(tmp_path / "a.onnx", model=tmp_path / "missing.onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["fare"], ["y"])], "g",
        [helper.make_tensor_value_info("fare", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])],
    )  # fmt: skip
    bad = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ts.ArtifactError, match="'fare'"):
        tfn.to_onnx(tmp_path / "a.onnx", model=bad)


def test_verify_cli_prints_a_parity_table(tfn, tmp_path, capsys):
    import pandas as pd

    from tskew import cli

    artifact = tfn.save(tmp_path / "artifact")
    # Int64 writes 1, not 1.0; an empty CSV field would be a null carrier.
    frame = pd.DataFrame(PROBE).astype({"delay": "Int64"}).replace({"carrier": {"": "-"}})
    frame.to_csv(tmp_path / "probe.csv", index=False)
    code = cli.main(["verify", str(artifact), "--data", str(tmp_path / "probe.csv")])
    printed, errors = capsys.readouterr()
    assert code == 0, printed + errors
    # TensorFlow is a separate extra: with only onnx installed, verify still compares onnx.
    has_tf = importlib.util.find_spec("tensorflow") is not None
    backends = ["numpy", "onnx"] + (["tensorflow"] if has_tf else [])
    for backend in backends:
        assert any(line.split()[:2] == ["distance_z", backend] for line in printed.splitlines())
    assert "all backends agree" in printed


def test_verify_counts_mismatches_beyond_tolerance():
    from tskew.verify import compare_backend, ulp_distance

    want = np.array([1.0, 2.0, np.nan, 0.0])
    near = np.array([np.nextafter(1.0, 2.0), 2.0, np.nan, -0.0])
    assert compare_backend("y", "onnx", near, want, allowed=1).ok
    assert not compare_backend("y", "onnx", near, want, allowed=0).ok
    far = np.array([1.5, 2.0, 3.0, 0.0])
    result = compare_backend("y", "onnx", far, want, allowed=2)
    assert result.mismatches == 2 and result.max_abs == 0.5
    assert ulp_distance(np.float32([1e-45]), np.float32([-1e-45])).tolist() == [2]
