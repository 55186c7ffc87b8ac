"""The serving half of `tskew demo`: model training, SavedModel export, serving raw rows.

Kept apart from `tskew.demos.flights` because it needs TensorFlow (the ``demo`` extra installs it).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import tskew as ts

LATE_MINUTES = 15
POLICY = ts.policy.threshold(0.5, labels=("on time", f"late >{LATE_MINUTES} min"))


def build_model(tfn: ts.TransformFn):
    """A small Keras model over the transformed features (named inputs = feature names)."""
    import keras

    vocab = tfn.statistics.outputs
    inputs, parts = {}, []
    for name in ("dep_delay_z", "air_time_01", "log_distance_z", "cancelled"):
        inputs[name] = keras.Input(shape=(), name=name)
        parts.append(keras.layers.Reshape((1,))(inputs[name]))
    for name in ("carrier_id", "distance_bucket", "dep_hour_bucket"):
        inputs[name] = keras.Input(shape=(), name=name, dtype="int64")
        # +2: ids run to the training maximum, plus one spare for an unseen carrier (OOV id).
        size = int(vocab[name].max) + 2
        parts.append(keras.layers.Embedding(size, 4)(inputs[name]))
    inputs["origin_onehot"] = keras.Input(shape=(3,), name="origin_onehot")
    parts.append(inputs["origin_onehot"])
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()(parts))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def serve_july(tfn: ts.TransformFn, flights: pd.DataFrame, path: Path, echo: Callable) -> None:
    """Train on transformed January-June, export with the transform, serve July raw rows."""
    try:
        import keras
    except ImportError:  # pragma: no cover - the demo extra installs TensorFlow
        echo("\n(TensorFlow is not installed: skipping the model and serving part)")
        return
    keras.utils.set_random_seed(0)
    train = flights[(flights["month"] <= 6) & flights["arr_delay"].notna()]
    features = tfn.transform(train[list(tfn.input_schema)])
    labels = (train["arr_delay"] > LATE_MINUTES).to_numpy(np.float32)
    model = build_model(tfn)
    started = time.perf_counter()
    inputs = {name: np.stack(features[name].to_numpy()) for name in model.input}
    history = model.fit(inputs, labels, batch_size=2048, epochs=3, verbose=0)
    echo(
        f"\ntrained a Keras model on {len(train):,} transformed January-June flights in "
        f"{time.perf_counter() - started:.1f} s (predicts arrival > {LATE_MINUTES} min late; "
        f"training accuracy {history.history['accuracy'][-1]:.3f}, "
        f"share late {labels.mean():.3f})"
    )

    tfn.to_saved_model(path, model=model, postprocess=POLICY)
    echo(f"exported transform + model + policy {POLICY.description} to {path.resolve()}")

    july = flights[flights["month"] == 7]
    # A random handful, two late departures and a cancelled flight (missing values served too).
    late = july[july["dep_delay"] > 60].sample(2, random_state=7)
    cancelled = july[july["dep_time"].isna()].head(1)
    july = pd.concat([july.sample(4, random_state=7), late, cancelled])
    raw = july[list(tfn.input_schema)]
    from tskew.exporters.saved_model import serving_inputs

    feed = serving_inputs(tfn, raw, outputs=list(model.input))  # what the model's inputs read
    served = _serve_without_tskew(path, {k: v.tolist() for k, v in feed.items()})
    local = tfn.transform(raw)
    probability = np.asarray(model({n: np.stack(local[n].to_numpy()) for n in model.input}))
    onnx_labels, onnx_probability = _serve_onnx(
        tfn, model, path.with_name(path.name.replace("_saved_model", ".onnx")), feed, echo
    )

    echo("\nseven raw July flights, served three ways:")
    shown = raw[["carrier", "origin", "dest", "hour", "dep_delay", "distance"]].copy()
    shown["P(late) numpy+keras"] = probability[:, 0].round(4)
    shown["SavedModel"] = served
    if onnx_labels is not None:
        shown["ONNX"] = onnx_labels
    shown["actual arr_delay"] = july["arr_delay"].to_numpy()
    echo(shown.to_string())
    want = list(POLICY.apply(probability)["predictions"])
    echo(
        f"SavedModel labels (served in a process without tskew) equal numpy transform + "
        f"Keras + policy: {want == served}"
    )
    if onnx_labels is not None:
        diff = float(np.abs(onnx_probability - probability[:, 0]).max())
        echo(
            f"ONNX labels equal them too: {want == onnx_labels}; largest P(late) difference "
            f"ONNX vs Keras: {diff:.2g} (the transform is bit-identical; the network's float "
            "math runs in two runtimes)"
        )


def _serve_onnx(tfn: ts.TransformFn, model, path: Path, feed: dict, echo: Callable):
    """Export transform + model (+ policy) as ONNX and run it in onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover - the demo extra installs onnxruntime
        echo("(onnxruntime is not installed: skipping the ONNX export)")
        return None, None
    started = time.perf_counter()
    labelled = tfn.to_onnx(path, model=model, postprocess=POLICY)
    scores = tfn.to_onnx(path.with_name(path.stem + "_scores.onnx"), model=model)
    echo(
        f"exported the same transform + model (+ policy) as ONNX to {labelled.resolve()} "
        f"({time.perf_counter() - started:.1f} s, via tf2onnx for the Keras part)"
    )
    (labels,) = ort.InferenceSession(str(labelled)).run(None, feed)
    (probability,) = ort.InferenceSession(str(scores)).run(None, feed)
    return list(labels), probability


_SERVE = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    path, feed = sys.argv[1], json.loads(sys.stdin.read())
    serve = tf.saved_model.load(path).signatures["serving_default"]
    specs = serve.structured_input_signature[1]
    out = serve(**{k: tf.constant(v, specs[k].dtype) for k, v in feed.items()})["predictions"]
    assert "tskew" not in sys.modules
    print(json.dumps([v.decode() for v in out.numpy()]))
    """
)


def _serve_without_tskew(path: Path, feed: dict) -> list[str]:
    import json

    done = subprocess.run(
        [sys.executable, "-c", _SERVE, str(path)],
        input=json.dumps(feed),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
