"""Serving signatures require only the raw features their outputs depend on, under the
features' own names, on every backend (SavedModel, ONNX, TFT's layout).

The taxi case: the transform reads the label (``tips``) to produce a training target,
and the attached model reads two transformed features; serving must not ask for the
label (nor for ``company``, which only a feature the model ignores reads).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import tskew as ts
from tskew.exporters.signature import MANIFEST_PATH, signature_inputs

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

TRAIN = {
    "fare": [5.0, 10.0, 20.0, 7.5, None],
    "trip-miles": [1.0, 2.5, 6.0, 1.2, 0.5],
    "company": ["a", "b", "a", "c", "a"],
    "tips": [1.0, 2.0, 0.0, 1.5, 0.0],
}
REQUEST = {  # what a serving client sends: no label, no company
    "fare": np.array([6.0, 0.0, 30.0]),
    "fare__missing": np.array([False, True, False]),
    "trip-miles": np.array([1.5, 3.0, 10.0]),
}


def preprocessing_fn(i):
    fare = ts.impute(i["fare"], "median")
    return {
        "fare_z": ts.scale_to_z_score(ts.cast(fare, "float32")),
        "miles-01": ts.scale_to_0_1(ts.cast(i["trip-miles"], "float32")),
        "company_id": ts.compute_and_apply_vocabulary(i["company"]),
        "big_tip": ts.cast(ts.fill_missing(i["tips"], 0.0) > fare * 0.2, "int64"),
    }


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, TRAIN)


def _model() -> keras.Model:
    inputs = {n: keras.Input(shape=(), name=n) for n in ("fare_z", "miles-01")}
    stacked = keras.layers.Concatenate()([keras.layers.Reshape((1,))(t) for t in inputs.values()])
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(stacked))


def _want(tfn, model) -> np.ndarray:
    fare = [
        None if m else v for v, m in zip(REQUEST["fare"], REQUEST["fare__missing"], strict=True)
    ]
    raw = {
        "fare": fare,
        "trip-miles": REQUEST["trip-miles"],
        "company": ["a"] * 3,
        "tips": [0.0] * 3,
    }
    out = tfn.transform(raw)
    return np.asarray(model({k: out[k] for k in ("fare_z", "miles-01")}, training=False))[:, 0]


def _example(k: int) -> bytes:
    miles = tf.train.FloatList(value=[REQUEST["trip-miles"][k]])
    feature = {"trip-miles": tf.train.Feature(float_list=miles)}
    if not REQUEST["fare__missing"][k]:
        feature["fare"] = tf.train.Feature(
            float_list=tf.train.FloatList(value=[REQUEST["fare"][k]])
        )
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_saved_model_with_a_model_requires_only_what_the_model_reads(tfn, tmp_path):
    model = _model()
    path = tfn.to_saved_model(tmp_path / "m", model=model)
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    assert signature_inputs(path, "serving_default") == ["fare", "fare__missing", "trip-miles"]
    got = serve(**{k: tf.constant(v) for k, v in REQUEST.items()})["predictions"].numpy()
    np.testing.assert_allclose(got, _want(tfn, model), rtol=1e-6)
    # tf.Examples without the label or company serve the same predictions.
    examples = tf.constant([_example(k) for k in range(3)])
    from_examples = loaded.signatures["serving_tf_example"](examples=examples)["predictions"]
    np.testing.assert_array_equal(from_examples.numpy(), got)
    # transform_features returns every output, big_tip included, so it reads the label.
    assert signature_inputs(path, "transform_features") == [
        "fare", "fare__missing", "trip-miles", "company", "tips",
    ]  # fmt: skip


def test_without_a_model_every_output_is_served(tfn, tmp_path):
    path = tfn.to_saved_model(tmp_path / "t")
    assert signature_inputs(path, "serving_default") == signature_inputs(path, "transform_features")
    assert "tips" in signature_inputs(path, "serving_default")  # big_tip is served


def test_names_are_the_features_own_and_the_manifest_maps_tf_aliases(tfn, tmp_path):
    path = tfn.to_saved_model(tmp_path / "m", model=_model())
    manifest = json.loads((path / MANIFEST_PATH).read_text())
    inputs = manifest["signatures"]["serving_default"]["inputs"]
    assert {i["name"]: i["python_name"] for i in inputs}["trip-miles"] == "trip_miles"
    assert manifest["signatures"]["serving_tf_example"]["raw_features"][1] == {
        "name": "trip-miles", "dtype": "float64", "nullable": False,
    }  # fmt: skip
    # The SignatureDef (what TF Serving and saved_model_cli use) keeps the user's names.
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    signature_def = proto.meta_graphs[0].signature_def
    assert sorted(signature_def["serving_default"].inputs) == [
        "fare", "fare__missing", "trip-miles",
    ]  # fmt: skip
    assert "miles-01" in signature_def["transform_features"].outputs
    # A loaded signature takes the user's names and TF's Python alias alike.
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    by_name = serve(**{k: tf.constant(v) for k, v in REQUEST.items()})["predictions"]
    alias = {"trip_miles" if k == "trip-miles" else k: tf.constant(v) for k, v in REQUEST.items()}
    np.testing.assert_array_equal(serve(**alias)["predictions"].numpy(), by_name.numpy())


def test_names_colliding_after_tf_rewrites_them_are_refused(tmp_path):
    tfn = ts.analyze(lambda i: {"y": i["a-b"] + i["a_b"]}, {"a-b": [1.0], "a_b": [2.0]})
    with pytest.raises(ts.ArtifactError, match="'a-b' and 'a_b' would both be"):
        tfn.to_saved_model(tmp_path / "m")


def test_onnx_with_a_model_requires_only_what_the_model_reads(tfn, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    model = _model()
    path = tfn.to_onnx(tmp_path / "m.onnx", model=model)
    session = ort.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == ["fare", "fare__missing", "trip-miles"]
    (got,) = session.run(["predictions"], dict(REQUEST))
    np.testing.assert_allclose(got, _want(tfn, model), rtol=1e-6)
    # Without a model: every output, so the label too, under the features' own names.
    session = ort.InferenceSession(str(tfn.to_onnx(tmp_path / "t.onnx")))
    assert [i.name for i in session.get_inputs()] == [
        "fare", "fare__missing", "trip-miles", "company", "tips",
    ]  # fmt: skip
    assert "miles-01" in [o.name for o in session.get_outputs()]


def test_tft_layout_serves_the_features_without_the_label(tfn, tmp_path):
    tft = pytest.importorskip("tensorflow_transform")
    path = tfn.to_saved_model(tmp_path / "m", tft_layout=True)
    output = tft.TFTransformOutput(str(path))
    raw = {
        "fare": tf.sparse.from_dense(tf.constant([[6.0], [30.0]], tf.float32)),
        "trip-miles": tf.constant([1.5, 10.0], tf.float32),
        "company": tf.constant(["a", "zz"]),
    }
    got = output.transform_raw_features(raw)
    assert sorted(got) == ["company_id", "fare_z", "miles-01"]  # big_tip needs the label
    want = tfn.transform(
        {"fare": [6.0, 30.0], "trip-miles": [1.5, 10.0], "company": ["a", "zz"], "tips": [0.0, 0.0]}
    )
    np.testing.assert_array_equal(got["miles-01"].numpy(), want["miles-01"])
    np.testing.assert_array_equal(got["company_id"].numpy(), want["company_id"])
