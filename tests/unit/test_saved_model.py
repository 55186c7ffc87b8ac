"""The exported SavedModel stands alone: it loads and serves without tskew installed.

* A fresh Python process that never imports tskew loads the SavedModel and runs all
  three signatures (``serving_default``, ``transform_features``, ``serving_tf_example``,
  the last with tf.train.Example protos built there); outputs equal the numpy executor's.
* ``saved_model_cli show --all`` lists the three signatures.
* Feature names a TF signature cannot take fail at export with an error naming them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts
from tests.conformance.test_conformance import assert_same_bits, run_numpy
from tskew.errors import ArtifactError

tf = pytest.importorskip("tensorflow")

from tskew.exporters.saved_model import export_saved_model  # noqa: E402

SIGNATURES = ("serving_default", "transform_features", "serving_tf_example")
SCHEMA = {
    "f": ts.float64(),  # nullable
    "g": ts.float32(nullable=False),
    "n": ts.int64(),
    "s": ts.string(),
    "b": ts.bool_(nullable=False),
    "k": ts.string(nullable=False),
}
TRAIN = {
    "f": [1.5, None, -2.0, 8.0],
    "g": [0.5, 1.0, 2.0, 4.0],
    "n": [3, 1, None, 7],
    "s": ["UA", "AA", "UA", None],
    "b": [True, False, True, True],
    "k": ["Ab", "İx", "ẞ", "z"],
}
# Values survive tf.Example's float_list (float32), so float64 features stay exact.
ROWS = [
    {"f": 2.5, "g": 0.25, "n": 5, "s": "UA", "b": True, "k": "ABC"},
    {"f": None, "g": -1.5, "n": None, "s": None, "b": False, "k": "İẞΣ😀"},
    {"f": -0.0, "g": 3.0, "n": -(2**62), "s": "never seen", "b": True, "k": ""},
]


def preprocessing_fn(i):
    return {
        "f_filled": ts.fill_missing(i["f"], -1.0),
        "f_missing": ts.is_missing(i["f"]),
        "g_z": ts.scale_to_z_score(i["g"]),
        "n_bucket": ts.bucketize(ts.fill_missing(i["n"], 0), 3),
        "s_id": ts.compute_and_apply_vocabulary(ts.fill_missing(i["s"], ""), num_oov_buckets=1),
        "b_int": ts.cast(i["b"], "int64"),
        "k_hash": ts.hash_strings(ts.lower(i["k"]), 100),
    }


def _table(rows: list[dict]) -> pa.Table:
    return pa.table(
        {name: pa.array([r[name] for r in rows], t.dtype.arrow) for name, t in SCHEMA.items()}
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[ts.TransformFn, Path]:
    rows = [dict(zip(TRAIN, v, strict=True)) for v in zip(*TRAIN.values(), strict=True)]
    tfn = ts.analyze(preprocessing_fn, _table(rows))
    path = export_saved_model(tfn, tmp_path_factory.mktemp("sm") / "model")
    return tfn, path


# The child process: TF and numpy only. It writes every signature's outputs to an .npz and
# the errors it was asked to provoke to a JSON file.
CHILD = textwrap.dedent(
    """
    import json, sys


    class NoTskew:  # refuses `import tskew`: the SavedModel must serve without it

        attempts = []

        def find_spec(self, name, path=None, target=None):
            if name == "tskew" or name.startswith("tskew."):
                self.attempts.append(name)
                raise ImportError("tskew is blocked in this process")
            return None


    blocker = NoTskew()
    sys.meta_path.insert(0, blocker)
    try:
        import tskew  # noqa: F401
        blocked = False
    except ImportError:
        blocked = True
    blocker.attempts.clear()

    import numpy as np
    import tensorflow as tf

    path, rows_json, out_npz, out_json = sys.argv[1:5]
    rows = json.loads(rows_json)
    dtypes = {"f": tf.float64, "g": tf.float32, "n": tf.int64, "s": tf.string,
              "b": tf.bool, "k": tf.string}
    nullable = {"f", "n", "s"}
    filler = {"f": 0.0, "g": 0.0, "n": 0, "s": "", "b": False, "k": ""}
    loaded = tf.saved_model.load(path)
    report = {"signatures": sorted(loaded.signatures.keys())}

    feeds = {}
    for name, dtype in dtypes.items():
        values = [filler[name] if r[name] is None else r[name] for r in rows]
        feeds[name] = tf.constant(values, dtype)
        if name in nullable:
            feeds[name + "__missing"] = tf.constant([r[name] is None for r in rows])

    def example(row):
        feature = {}
        for name, value in row.items():
            if value is None:
                continue  # absent = missing
            if dtypes[name] == tf.string:
                f = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
            elif dtypes[name] in (tf.float32, tf.float64):
                f = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
            else:
                f = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
            feature[name] = f
        ex = tf.train.Example(features=tf.train.Features(feature=feature))
        return ex.SerializeToString()

    outputs = {}
    for sig in ("serving_default", "transform_features"):
        for name, t in loaded.signatures[sig](**feeds).items():
            outputs[sig + "/" + name] = t.numpy()
    serialized = tf.constant([example(r) for r in rows])
    for name, t in loaded.signatures["serving_tf_example"](examples=serialized).items():
        outputs["serving_tf_example/" + name] = t.numpy()
    np.savez(out_npz, **outputs)

    no_k = dict(rows[0])
    no_k["k"] = None
    try:
        loaded.signatures["serving_tf_example"](examples=tf.constant([example(no_k)]))
        report["absent_non_nullable"] = None
    except tf.errors.InvalidArgumentError as err:
        report["absent_non_nullable"] = err.message
    report["tskew_imported"] = any(m == "tskew" or m.startswith("tskew.") for m in sys.modules)
    report["tskew_import_attempts"] = blocker.attempts
    report["blocker_works"] = blocked
    with open(out_json, "w") as fh:
        json.dump(report, fh)
    """
)


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


@pytest.fixture(scope="module")
def served(exported, tmp_path_factory):
    _, path = exported
    work = tmp_path_factory.mktemp("child")
    script = work / "serve.py"
    script.write_text(CHILD)
    out_npz, out_json = work / "out.npz", work / "report.json"
    proc = subprocess.run(
        [sys.executable, str(script), str(path), json.dumps(ROWS), str(out_npz), str(out_json)],
        cwd=work,  # not the project root: `import tskew` would fail here
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    with np.load(out_npz, allow_pickle=True) as npz:
        outputs = {k: npz[k] for k in npz.files}
    return outputs, json.loads(out_json.read_text())


def test_child_lists_three_signatures_and_never_imports_tskew(served):
    _, report = served
    assert set(SIGNATURES) <= set(report["signatures"])
    assert report["blocker_works"] is True  # `import tskew` really fails in the child
    assert report["tskew_import_attempts"] == []  # loading and serving never tried it
    assert report["tskew_imported"] is False  # 'tskew' not in sys.modules


@pytest.mark.parametrize("signature", SIGNATURES)
def test_every_signature_in_child_matches_numpy(exported, served, signature):
    tfn, _ = exported
    outputs, _ = served
    want = run_numpy(tfn, _table(ROWS))
    for name, values in want.items():
        got = outputs[f"{signature}/{name}"]
        if got.dtype == object:
            got = np.array([v.decode("utf-8") for v in got], object)
        assert got.dtype == values.dtype, f"{signature}/{name}: {got.dtype} != {values.dtype}"
        assert_same_bits(got, values, f"{signature}/{name}")
    # missing values really arrived as missing, in every signature
    assert outputs[f"{signature}/f_missing"].tolist() == [False, True, False]
    assert outputs[f"{signature}/f_filled"].tolist() == [2.5, -1.0, -0.0]


def test_absent_non_nullable_feature_names_the_feature(served):
    _, report = served
    message = report["absent_non_nullable"]
    assert message is not None, "an Example without the non-nullable 'k' was accepted"
    # TF prints the assertion's string data with its quotes escaped: feature \'k\'
    assert re.search(r"feature \\?'k\\?' is absent from a tf.Example", message), message
    assert "non-nullable" in message


def test_saved_model_cli_lists_the_three_signatures(exported):
    _, path = exported
    cli = Path(sys.executable).parent / "saved_model_cli"
    if not cli.exists():
        pytest.skip(f"{cli} is not installed")
    proc = subprocess.run(
        [str(cli), "show", "--all", "--dir", str(path)],
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    for signature in SIGNATURES:
        assert f"signature_def['{signature}']" in proc.stdout
    # the inputs the README documents: raw features, masks, serialized examples
    for name in ("f", "f__missing", "k", "examples"):
        assert f"inputs['{name}']" in proc.stdout
    assert "inputs['k__missing']" not in proc.stdout  # non-nullable: no mask


@pytest.mark.parametrize(
    "name",
    ["fare amount", "_private", "-dash", "naïve", "a,b", "x:0", "tab\tname", ">gt"],
)
def test_feature_name_tf_cannot_take_is_a_clear_tskew_error(name, tmp_path):
    tfn = ts.analyze(
        lambda i: {"y": ts.fill_missing(i[name], 0.0) * 2.0},
        pa.table({name: pa.array([1.0, None], pa.float64())}),
    )
    with pytest.raises(ArtifactError) as info:
        export_saved_model(tfn, tmp_path / "m")
    message = str(info.value)
    assert repr(name) in message and "rename it" in message
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_name_colliding_with_a_missing_mask_is_a_clear_tskew_error(tmp_path):
    table = pa.table(
        {
            "x": pa.array([1.0, None], pa.float64()),
            "x__missing": pa.array([False, True]),
        }
    )
    tfn = ts.analyze(lambda i: {"y": ts.where(i["x__missing"], 0.0, 1.0)}, table)
    tfn_both = ts.analyze(
        lambda i: {
            "y": ts.fill_missing(i["x"], 0.0),
            "z": ts.cast(ts.fill_missing(i["x__missing"], False), "int64"),
        },
        table,
    )
    export_saved_model(tfn, tmp_path / "ok")  # only x__missing is read: no clash
    with pytest.raises(ArtifactError, match="x__missing"):
        export_saved_model(tfn_both, tmp_path / "clash")


@pytest.mark.parametrize("name", ["fare_amount", "Fare.Amount", "a/b", "a-b", "x>y", "0day"])
def test_names_tf_accepts_export_and_serve(name, tmp_path):
    tfn = ts.analyze(
        lambda i: {"y": ts.fill_missing(i[name], 0.0) * 2.0},
        pa.table({name: pa.array([1.0, None], pa.float64())}),
    )
    loaded = tf.saved_model.load(str(export_saved_model(tfn, tmp_path / "m")))
    out = loaded.signatures["serving_default"](
        **{
            name: tf.constant([3.0, 9.0], tf.float64),
            name + "__missing": tf.constant([False, True]),
        }
    )
    assert out["y"].numpy().tolist() == [6.0, 0.0]
