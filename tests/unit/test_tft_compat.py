"""TFX users' code on a tskew export: the real ``tft.TFTransformOutput`` reads its TFT layout."""

from __future__ import annotations

import numpy as np
import pytest

import tskew as ts

tf = pytest.importorskip("tensorflow")
tft = pytest.importorskip("tensorflow_transform")

TRAIN = {
    "fare": [3.5, 10.0, 52.0, 7.25, None],
    "company": ["Flash Cab", "", "Taxi Affiliation", "Flash Cab", "日本\ttab"],
    "trips": [1, 4, 2, 9, 3],
    "shared": [True, False, False, True, False],
}


def preprocessing_fn(i):
    fare = ts.impute(i["fare"], "mean")
    return {
        "fare_z": ts.scale_to_z_score(fare),  # float64 in tskew, float32 in TFT's schema
        "company_id": ts.compute_and_apply_vocabulary(i["company"], num_oov_buckets=2),
        "trips_bucket": ts.bucketize(i["trips"], 3),
        "trips_onehot": ts.one_hot(ts.bucketize(i["trips"], 3), 3),
        "shared": ts.cast(i["shared"], "int64"),
        "fare_missing": ts.is_missing(i["fare"]),
        "company_lower": ts.lower(i["company"]),
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tfn = ts.analyze(preprocessing_fn, TRAIN)
    path = tfn.to_saved_model(tmp_path_factory.mktemp("tft") / "export", tft_layout=True)
    return tfn, tft.TFTransformOutput(str(path))


def test_transformed_feature_spec(exported):
    _, output = exported
    spec = output.transformed_feature_spec()
    assert spec["fare_z"] == tf.io.FixedLenFeature([], tf.float32)
    assert spec["company_id"] == tf.io.FixedLenFeature([], tf.int64)
    assert spec["trips_onehot"] == tf.io.FixedLenFeature([3], tf.float32)
    assert spec["fare_missing"] == tf.io.FixedLenFeature([], tf.int64)
    assert spec["company_lower"] == tf.io.FixedLenFeature([], tf.string)
    raw = output.raw_feature_spec()
    assert raw["fare"] == tf.io.VarLenFeature(tf.float32)  # nullable: may be absent
    assert raw["trips"] == tf.io.FixedLenFeature([], tf.int64)


def test_transform_raw_features_matches_numpy(exported):
    tfn, output = exported
    probe = {
        "fare": [None, 12.5, 0.0],
        "company": ["Flash Cab", "never seen", "ÄÖ"],
        "trips": [0, 4, 100],
        "shared": [False, True, True],
    }
    present = [(row, 0) for row, v in enumerate(probe["fare"]) if v is not None]
    raw = {
        "fare": tf.sparse.SparseTensor(
            [list(p) for p in present],
            tf.constant([probe["fare"][r] for r, _ in present], tf.float32),
            [3, 1],
        ),
        "company": tf.constant(probe["company"]),
        "trips": tf.constant(probe["trips"], tf.int64),
        "shared": tf.constant([int(v) for v in probe["shared"]], tf.int64),
    }
    got = {k: v.numpy() for k, v in output.transform_raw_features(raw).items()}
    want = tfn.transform(probe)
    for name, values in want.items():
        values = np.stack(values) if values.dtype == object and name.endswith("onehot") else values
        if name == "company_lower":
            assert [v.decode() for v in got[name]] == list(values)
        elif name == "fare_missing":
            assert got[name].tolist() == values.astype(np.int64).tolist()
        else:
            expected = values.astype(got[name].dtype)  # TFT's float is float32
            np.testing.assert_array_equal(got[name], expected, err_msg=name)
    layer = output.transform_features_layer()
    assert set(layer(raw)) == set(want)
