"""tskew.exporters.tft_layout: the written layout as the real tensorflow_transform reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tft = pytest.importorskip("tensorflow_transform")
tf = pytest.importorskip("tensorflow")

from tskew.errors import SchemaError, TraceError  # noqa: E402
from tskew.exporters.tft_layout import write_tft_layout  # noqa: E402

RAW_SPECS = {
    "x": tf.TensorSpec([None], tf.float32),
    "n": tf.TensorSpec([None], tf.int64),
    "s": tf.TensorSpec([None], tf.string),
}
OUTPUT_SPECS = {
    "y": tf.TensorSpec([None], tf.float32),
    "n_out": tf.TensorSpec([None], tf.int64),
    "s_hash": tf.TensorSpec([None], tf.int64),
    "n_onehot": tf.TensorSpec([None, 3], tf.float32),
}
BUCKETS = 100


@tf.function
def transform(inputs):
    """y = 2x + 1, n passed through, s hashed, one_hot(n mod 3) as a [batch, 3] output."""
    return {
        "y": inputs["x"] * 2.0 + 1.0,
        "n_out": inputs["n"],
        "s_hash": tf.strings.to_hash_bucket_fast(inputs["s"], BUCKETS),
        "n_onehot": tf.one_hot(inputs["n"] % 3, 3, dtype=tf.float32),
    }


def raw_batch() -> dict:
    return {
        "x": tf.constant([0.0, 1.5, -2.0]),
        "n": tf.constant([4, 0, 8], tf.int64),
        "s": tf.constant(["a", "bb", ""]),
    }


def expected(raw: dict) -> dict:
    """The oracle in numpy (the hash eagerly from the same TF kernel TFT would run)."""
    x, n = raw["x"].numpy(), raw["n"].numpy()
    return {
        "y": x * 2.0 + 1.0,
        "n_out": n,
        "s_hash": tf.strings.to_hash_bucket_fast(raw["s"], BUCKETS).numpy(),
        "n_onehot": np.eye(3, dtype=np.float32)[n % 3],
    }


def assert_outputs(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for name, value in want.items():
        actual = np.asarray(got[name])
        assert actual.dtype == value.dtype, name
        np.testing.assert_array_equal(actual, value, err_msg=name)


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    write_tft_layout(tmp_path, transform, RAW_SPECS, OUTPUT_SPECS)
    return tmp_path


def test_files_written(layout: Path) -> None:
    assert (layout / "transform_fn" / "saved_model.pb").is_file()
    assert (layout / "transformed_metadata" / "schema.pbtxt").is_file()
    assert (layout / "metadata" / "schema.pbtxt").is_file()
    assert [p.name for p in layout.iterdir() if p.name.startswith(".tskew")] == []


def test_feature_specs(layout: Path) -> None:
    out = tft.TFTransformOutput(str(layout))
    assert out.transformed_feature_spec() == {
        "y": tf.io.FixedLenFeature([], tf.float32),
        "n_out": tf.io.FixedLenFeature([], tf.int64),
        "s_hash": tf.io.FixedLenFeature([], tf.int64),
        "n_onehot": tf.io.FixedLenFeature([3], tf.float32),
    }
    assert out.raw_feature_spec() == {
        "x": tf.io.FixedLenFeature([], tf.float32),
        "n": tf.io.FixedLenFeature([], tf.int64),
        "s": tf.io.FixedLenFeature([], tf.string),
    }


def test_transform_raw_features(layout: Path) -> None:
    out = tft.TFTransformOutput(str(layout))
    assert not out._exported_as_v1  # TFT must take its TF2 path
    raw = raw_batch()
    assert_outputs(out.transform_raw_features(raw), expected(raw))


def test_transform_features_layer_eager_and_in_function(layout: Path) -> None:
    layer = tft.TFTransformOutput(str(layout)).transform_features_layer()
    raw = raw_batch()
    assert_outputs(layer(raw), expected(raw))

    # How TFX uses it: inside a traced serving / input function, on another batch size.
    @tf.function
    def serve(features):
        return layer(features)

    one = {k: v[:1] for k, v in raw.items()}
    got = serve(one)
    assert_outputs(got, expected(one))
    assert serve.get_concrete_function(one).structured_outputs["n_onehot"].shape[1] == 3


def test_unfed_raw_feature_drops_only_its_outputs(layout: Path) -> None:
    out = tft.TFTransformOutput(str(layout))
    raw = raw_batch()
    del raw["s"]
    got = out.transform_raw_features(raw)
    assert sorted(got) == ["n_onehot", "n_out", "y"]
    np.testing.assert_array_equal(got["y"].numpy(), expected(raw_batch())["y"])


def test_concrete_function_keeps_per_output_pruning(tmp_path: Path) -> None:
    concrete = transform.get_concrete_function(RAW_SPECS)
    write_tft_layout(tmp_path, concrete, RAW_SPECS, OUTPUT_SPECS)
    out = tft.TFTransformOutput(str(tmp_path))
    raw = raw_batch()
    assert_outputs(out.transform_raw_features(raw), expected(raw))
    del raw["x"]
    assert sorted(out.transform_raw_features(raw)) == ["n_onehot", "n_out", "s_hash"]


def test_vocabulary_table_created_while_tracing_is_saved_with_its_asset(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a\nbb\nccc\n")

    @tf.function
    def lookup(inputs):
        table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                str(vocab),
                tf.string,
                tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER,
            ),
            default_value=-1,
        )
        return {"id": table.lookup(inputs["s"])}

    specs = {"s": tf.TensorSpec([None], tf.string)}
    lookup.get_concrete_function(specs)  # an earlier trace must not hide the table
    target = tmp_path / "out"
    write_tft_layout(target, lookup, specs, {"id": tf.TensorSpec([None], tf.int64)})
    vocab.unlink()  # the SavedModel must carry its own copy as an asset
    assert [p.name for p in (target / "transform_fn" / "assets").iterdir()] == ["vocab.txt"]
    got = tft.TFTransformOutput(str(target)).transform_raw_features(
        {"s": tf.constant(["ccc", "zz", "a"])}
    )
    np.testing.assert_array_equal(got["id"].numpy(), [2, -1, 0])


@pytest.mark.parametrize("as_concrete", [False, True])
def test_captured_table_passed_as_trackable(tmp_path: Path, as_concrete: bool) -> None:
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(["a", "b"]), tf.constant([10, 20], tf.int64)
        ),
        default_value=0,
    )
    specs = {"s": tf.TensorSpec([None], tf.string)}
    fn = tf.function(lambda inputs: {"v": table.lookup(inputs["s"])})
    write_tft_layout(
        tmp_path,
        fn.get_concrete_function(specs) if as_concrete else fn,
        specs,
        {"v": tf.TensorSpec([None], tf.int64)},
        trackables=[table],
    )
    got = tft.TFTransformOutput(str(tmp_path)).transform_raw_features(
        {"s": tf.constant(["b", "?"])}
    )
    np.testing.assert_array_equal(got["v"].numpy(), [20, 0])


def test_rewrite_replaces_previous_layout(layout: Path) -> None:
    write_tft_layout(
        layout,
        lambda inputs: {"z": inputs["x"] - 1.0},
        {"x": tf.TensorSpec([None], tf.float32)},
        {"z": tf.TensorSpec([None], tf.float32)},
    )
    out = tft.TFTransformOutput(str(layout))
    assert out.transformed_feature_spec() == {"z": tf.io.FixedLenFeature([], tf.float32)}
    assert sorted(out.raw_feature_spec()) == ["x"]
    got = out.transform_raw_features({"x": tf.constant([3.0])})
    np.testing.assert_array_equal(got["z"].numpy(), [2.0])


def test_odd_feature_names_round_trip(tmp_path: Path) -> None:
    names = ["a b", 'q"uote', "slash/é"]
    write_tft_layout(
        tmp_path,
        lambda inputs: {name: inputs["x"] + float(i) for i, name in enumerate(names)},
        {"x": tf.TensorSpec([None], tf.float32)},
        {name: tf.TensorSpec([None], tf.float32) for name in names},
    )
    out = tft.TFTransformOutput(str(tmp_path))
    assert sorted(out.transformed_feature_spec()) == sorted(names)
    got = out.transform_raw_features({"x": tf.constant([1.0])})
    assert [float(got[name][0]) for name in names] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("fn", "outputs", "error", "match"),
    [
        (lambda i: {"y": i["x"]}, {"y": tf.TensorSpec([None], tf.float64)}, SchemaError, "float64"),
        (
            lambda i: {"y": i["x"]},
            {"y": tf.TensorSpec([None], tf.int64)},
            TraceError,
            "dtype float32",
        ),
        (
            lambda i: {"y": i["x"]},
            {"y": tf.TensorSpec([None, 2], tf.float32)},
            TraceError,
            "static shape",
        ),
        (
            lambda i: {"y": tf.reshape(i["x"], [-1, tf.size(i["x"]) // tf.shape(i["x"])[0]])},
            {"y": tf.TensorSpec([None, 1], tf.float32)},
            TraceError,
            "ensure_shape",
        ),
        (
            lambda i: {"y": tf.stack([i["x"]] * 3, axis=1)},
            {"y": tf.TensorSpec([None], tf.float32)},
            TraceError,
            "static shape",
        ),
        (lambda i: i["x"], {"y": tf.TensorSpec([None], tf.float32)}, TraceError, "dict"),
        (lambda i: {"y": i["x"]}, {"w": tf.TensorSpec([None], tf.float32)}, SchemaError, "missing"),
        (
            lambda i: {"y": i["x"]},
            {"y": tf.TensorSpec([None, None], tf.float32)},
            SchemaError,
            "unknown non-batch",
        ),
        (
            lambda i: {"y": i["x"]},
            {"y": tf.TensorSpec([], tf.float32)},
            SchemaError,
            "batch dimension",
        ),
    ],
)
def test_bad_specs_are_rejected(tmp_path: Path, fn, outputs, error, match) -> None:
    with pytest.raises(error, match=match):
        write_tft_layout(tmp_path, fn, {"x": tf.TensorSpec([None], tf.float32)}, outputs)
    assert list(tmp_path.iterdir()) == []


def test_float64_raw_feature_is_rejected(tmp_path: Path) -> None:
    # TransformFeaturesLayer (a Keras model) would autocast it to float32 at call time.
    with pytest.raises(SchemaError, match="float64"):
        write_tft_layout(
            tmp_path,
            lambda i: {"y": tf.cast(i["d"], tf.float32)},
            {"d": tf.TensorSpec([None], tf.float64)},
            {"y": tf.TensorSpec([None], tf.float32)},
        )


def test_concrete_function_with_fixed_batch_is_rejected(tmp_path: Path) -> None:
    concrete = tf.function(lambda i: {"y": i["x"]}).get_concrete_function(
        {"x": tf.TensorSpec([2], tf.float32)}
    )
    with pytest.raises(TraceError, match="any batch size"):
        write_tft_layout(
            tmp_path,
            concrete,
            {"x": tf.TensorSpec([None], tf.float32)},
            {"y": tf.TensorSpec([None], tf.float32)},
        )


def test_module_import_does_not_import_tensorflow() -> None:
    code = (
        "import sys, tskew.exporters.tft_layout\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported eagerly'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
