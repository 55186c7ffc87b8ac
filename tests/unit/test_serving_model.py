"""A model and a policy attached to the exported SavedModel: raw features -> served outputs.

Every served value is compared with the same computation done by hand in numpy:
the transform by the numpy executor, the model by calling it directly, the policy
by `Policy.apply`.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tskew as ts

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

NAN, INF = float("nan"), float("inf")
TRAIN = {
    "distance": [100.0, 250.0, 1000.0, 2500.0, 400.0],
    "carrier": ["UA", "AA", "UA", "DL", "B6"],
    "delay": [3, None, -5, 40, 12],
}
RAW = {
    "distance": np.array([150.0, 5000.0, 0.0]),
    "carrier": np.array(["UA", "ZZ", ""], object),
    "delay": np.array([1, 0, 7]),
    "delay__missing": np.array([False, True, False]),
}


def preprocessing_fn(i):
    return {
        "distance_z": ts.scale_to_z_score(ts.cast(i["distance"], "float32")),
        "carrier_id": ts.compute_and_apply_vocabulary(i["carrier"], num_oov_buckets=1),
        "delay": ts.cast(ts.impute(i["delay"], "median"), "float32"),
    }


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, TRAIN)


def _numpy_transformed(tfn) -> dict[str, np.ndarray]:
    delay = [
        None if m else int(v) for v, m in zip(RAW["delay"], RAW["delay__missing"], strict=True)
    ]
    return tfn.transform(
        {"distance": RAW["distance"], "carrier": list(RAW["carrier"]), "delay": delay}
    )


def _keras_model(outputs: int = 1) -> keras.Model:
    inputs = {
        "distance_z": keras.Input(shape=(), name="distance_z"),
        "delay": keras.Input(shape=(), name="delay"),
        "carrier_id": keras.Input(shape=(), name="carrier_id", dtype="int64"),
    }
    carrier = keras.layers.Embedding(8, 2)(inputs["carrier_id"])
    dense = keras.layers.Concatenate()(
        [
            keras.layers.Reshape((1,))(inputs["distance_z"]),
            keras.layers.Reshape((1,))(inputs["delay"]),
            carrier,
        ]
    )
    activation = "sigmoid" if outputs == 1 else "softmax"
    return keras.Model(inputs, keras.layers.Dense(outputs, activation=activation)(dense))


def _serve(path, signature="serving_default") -> dict[str, np.ndarray]:
    from tskew.exporters.signature import signature_inputs

    loaded = tf.saved_model.load(str(path))
    wanted = signature_inputs(path, signature)  # only what the served outputs depend on
    feed = {
        k: tf.constant(v.tolist() if v.dtype == object else v)
        for k, v in RAW.items()
        if k in wanted
    }
    return {k: v.numpy() for k, v in loaded.signatures[signature](**feed).items()}


def _direct_predictions(model, transformed) -> np.ndarray:
    feed = {k: np.asarray(transformed[k]) for k in ("distance_z", "delay", "carrier_id")}
    return np.asarray(model(feed, training=False))


def test_keras_model_and_policy_match_numpy(tfn, tmp_path):
    model = _keras_model()
    policy = ts.policy.clip(min=0.25) | ts.policy.threshold(0.5, ("on time", "late"))
    path = tfn.to_saved_model(tmp_path / "m", model=model, postprocess=policy)
    transformed = _numpy_transformed(tfn)
    want = policy.apply(_direct_predictions(model, transformed))["predictions"]
    got = _serve(path)["predictions"].astype(str)
    assert got.tolist() == want.tolist()
    # transform_features still returns the transformed features, bit for bit.
    features = _serve(path, "transform_features")
    for name, values in transformed.items():
        assert np.array_equal(features[name], values), name


def test_model_without_policy_serves_raw_predictions(tfn, tmp_path):
    model = _keras_model()
    path = tfn.to_saved_model(tmp_path / "m", model=model)
    want = _direct_predictions(model, _numpy_transformed(tfn))[:, 0]
    np.testing.assert_allclose(_serve(path)["predictions"], want, rtol=1e-6)


def test_top_k_labels_on_a_softmax(tfn, tmp_path):
    model = _keras_model(outputs=3)
    policy = ts.policy.top_k_labels(["low", "mid", "high"], k=2)
    path = tfn.to_saved_model(tmp_path / "m", model=model, postprocess=policy)
    want = policy.apply(_direct_predictions(model, _numpy_transformed(tfn)))["predictions"]
    assert _serve(path)["predictions"].astype(str).tolist() == want.tolist()


def test_tf_keras_model_and_savedmodel_dir(tfn, tmp_path):
    tf_keras = pytest.importorskip("tf_keras")
    inputs = {n: tf_keras.Input(shape=(), name=n) for n in ("distance_z", "delay")}
    stacked = tf_keras.layers.Lambda(lambda d: tf.stack([d["distance_z"], d["delay"]], 1))(inputs)
    legacy = tf_keras.Model(inputs, tf_keras.layers.Dense(1)(stacked))
    path = tfn.to_saved_model(tmp_path / "legacy", model=legacy)
    # The model reads distance_z and delay: carrier is not a serving input.
    loaded = tf.saved_model.load(str(path))
    assert sorted(loaded.signatures["serving_default"].structured_input_signature[1]) == [
        "delay",
        "delay__missing",
        "distance",
    ]
    transformed = _numpy_transformed(tfn)
    feed = {k: transformed[k] for k in ("distance_z", "delay")}
    want = np.asarray(legacy(feed))[:, 0]
    np.testing.assert_allclose(_serve(path)["predictions"], want, rtol=1e-6)

    # The same model as a SavedModel directory (Keras 3 export) attached by path.
    model = _keras_model()
    model.export(str(tmp_path / "keras_export"), verbose=False)
    path = tfn.to_saved_model(tmp_path / "by_path", model=tmp_path / "keras_export")
    want = _direct_predictions(model, transformed)[:, 0]
    np.testing.assert_allclose(_serve(path)["predictions"], want, rtol=1e-6)


def test_examples_signature_treats_absent_feature_as_missing(tfn, tmp_path):
    model = _keras_model()
    path = tfn.to_saved_model(tmp_path / "m", model=model)
    examples = []
    for k in range(3):
        feature = {
            "distance": tf.train.Feature(float_list=tf.train.FloatList(value=[RAW["distance"][k]])),
            "carrier": tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[RAW["carrier"][k].encode()])
            ),
        }
        if not RAW["delay__missing"][k]:
            feature["delay"] = tf.train.Feature(
                int64_list=tf.train.Int64List(value=[RAW["delay"][k]])
            )
        examples.append(
            tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
        )
    loaded = tf.saved_model.load(str(path))
    got = loaded.signatures["serving_tf_example"](examples=tf.constant(examples))
    np.testing.assert_array_equal(got["predictions"].numpy(), _serve(path)["predictions"])


@pytest.mark.parametrize(
    "policy",
    [
        ts.policy.clip(min=0.0, max=1.0),
        ts.policy.threshold(0.0, ("neg", "pos")),
        ts.policy.map_labels(["a", "b", "c"]),
    ],
    ids=["clip", "threshold", "map_labels_ids"],
)
def test_policy_lowering_matches_numpy_on_hostile_scores(policy):
    from tskew.exporters.tensorflow import Lowering, TfCol

    scores = np.array([NAN, INF, -INF, -0.0, 0.0, 1.5, -3.0, 2.9, 3.4e38], np.float32)
    graph = policy.trace("float32", None)
    got = Lowering(graph)({"predictions": TfCol(tf.constant(scores))})["predictions"].numpy()
    want = policy.apply(scores)["predictions"]
    if want.dtype == object:
        got = got.astype(str).astype(object)
    np.testing.assert_array_equal(got, want)


def test_top_k_lowering_matches_numpy_on_ties_and_nan():
    from tskew.exporters.tensorflow import Lowering, TfCol

    scores = np.array(
        [[0.2, 0.2, 0.6], [NAN, 0.1, 0.1], [NAN, NAN, NAN], [-INF, NAN, -INF], [1, 0, 1]],
        np.float32,
    )
    for policy in (ts.policy.top_k_labels(["x", "y", "z"], k=3), ts.policy.map_labels("xyz")):
        graph = policy.trace("float32", 3)
        got = Lowering(graph)({"predictions": TfCol(tf.constant(scores))})["predictions"]
        want = policy.apply(scores)["predictions"]
        assert got.numpy().astype(str).tolist() == want.tolist()


def test_attach_errors_name_the_problem(tfn, tmp_path):
    nope = keras.Input(shape=(), name="nope")
    bad = keras.Model({"nope": nope}, keras.layers.Dense(1)(keras.layers.Reshape((1,))(nope)))
    with pytest.raises(ts.ArtifactError, match="nope"):
        tfn.to_saved_model(tmp_path / "a", model=bad)
    with pytest.raises(ts.ArtifactError, match="needs a model"):
        tfn.to_saved_model(tmp_path / "b", postprocess=ts.policy.clip(min=0.0))
    with pytest.raises(ts.ArtifactError, match="not a SavedModel"):
        tfn.to_saved_model(tmp_path / "c", model=tmp_path)
    with pytest.raises(ts.TraceError, match="labels"):
        ts.policy.top_k_labels(["a", "b"]).trace("float32", 3)


def test_cli_export_with_keras_file_and_policy(tfn, tmp_path):
    artifact = tfn.save(tmp_path / "artifact")
    model = _keras_model()
    model.save(tmp_path / "model.keras")
    out = tmp_path / "served"
    done = subprocess.run(
        [sys.executable, "-m", "tskew", "export", str(artifact), "--saved-model", str(out),
         "--model", str(tmp_path / "model.keras"), "--threshold", "0.5", "--labels", "ok,late",
         "--tft-layout"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote SavedModel" in done.stdout
    want = ts.policy.threshold(0.5, ("ok", "late")).apply(
        _direct_predictions(model, _numpy_transformed(tfn))
    )["predictions"]
    assert _serve(out)["predictions"].astype(str).tolist() == want.tolist()
    assert (out / "transform_fn" / "saved_model.pb").exists()
