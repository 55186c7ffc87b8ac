"""Feature skew: a serving path that bypasses the exported transform is caught, row by row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tskew as ts
from tskew import cli
from tskew.errors import DataError
from tskew.skew.feature_skew import feature_skew, float_matches, ulp_distance

N = 2000
COMPANIES = ["a", "b", "c", "d", "e"]


def preprocessing_fn(i):
    return {
        "fare_z": ts.scale_to_z_score(i["fare"]),
        "company_id": ts.compute_and_apply_vocabulary(i["company"], top_k=3, num_oov_buckets=1),
        "trips_bucket": ts.bucketize(i["trips"], 4),
    }


def _raw(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "request_id": [f"r{seed}-{k}" for k in range(n)],
            "fare": rng.lognormal(2.0, 0.6, n).astype(np.float32),
            "company": rng.choice(COMPANIES, n, p=[0.4, 0.3, 0.15, 0.1, 0.05]),
            "trips": rng.integers(0, 50, n),
        }
    )


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, _raw(5000, seed=1).drop(columns="request_id"))


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return _raw(N, seed=2)


def _exported(tfn, raw: pd.DataFrame) -> pd.DataFrame:
    """The features the exported transform gives (what the model should receive)."""
    out = tfn.transform(raw.drop(columns="request_id"))
    out.insert(0, "request_id", raw["request_id"].to_numpy())
    return out


def _hand_written(tfn, raw: pd.DataFrame) -> pd.DataFrame:
    """A re-implementation in the serving code: z-score in float64, a stale vocabulary."""
    stats = tfn.statistics.inputs["fare"]
    fare = raw["fare"].to_numpy(np.float64)
    z = ((fare - stats.mean) / stats.std).astype(np.float32)
    good = _exported(tfn, raw)
    vocabulary = {v: k for k, v in enumerate(["a", "b", "c"])}
    vocabulary["c"] = 3  # off by one: "c" gets the OOV id
    out = good.copy()
    out["fare_z"] = z
    out["company_id"] = [vocabulary.get(c, 3) for c in raw["company"]]
    return out


def test_identical_path_passes(tfn, raw):
    report = feature_skew(tfn, raw, _exported(tfn, raw), "request_id")
    assert report.passed, report.render()
    assert report.rows["joined"] == report.rows["compared"] == N
    assert {f.name: (f.compared, f.matches, f.mismatches) for f in report.features.values()} == {
        name: (N, N, 0) for name in ("fare_z", "company_id", "trips_bucket")
    }
    assert report.not_logged == [] and report.unexpected == []
    assert "PASS" in report.render("text")


def test_hand_written_path_is_caught_with_counts_and_examples(tfn, raw):
    good = _exported(tfn, raw)
    bad = _hand_written(tfn, raw)
    assert good["company_id"].iloc[0] in (0, 1, 2, 3)  # the vocabulary is frequency ordered
    report = feature_skew(tfn, raw, bad.sample(frac=1.0, random_state=0), "request_id")
    assert not report.passed
    want = good["fare_z"].to_numpy(np.float32)
    got = bad["fare_z"].to_numpy(np.float32)
    differ = want.view(np.uint32) != got.view(np.uint32)
    assert 0 < differ.sum() < N  # float64 arithmetic differs in the last bits, sometimes
    fare = report.features["fare_z"]
    assert (fare.compared, fare.mismatches, fare.matches) == (N, differ.sum(), N - differ.sum())
    example = fare.examples[0]
    row = raw.index[raw["request_id"] == example["id"]][0]
    assert differ[row]
    assert np.float32(example["expected"]) == want[row] and np.float32(example["got"]) == got[row]
    assert 1 <= example["ulps"] <= 4
    assert len(fare.examples) == 10
    company = report.features["company_id"]
    assert company.mismatches == (raw["company"] == "c").sum()
    assert all(e["got"] == 3 and e["expected"] != 3 for e in company.examples)
    assert report.features["trips_bucket"].mismatches == 0
    # a few ulps accept the float64 z-score except near 0, where float32's x - mean cancels
    relaxed = feature_skew(tfn, raw, bad, "request_id", ulps=4)
    assert 0 < relaxed.features["fare_z"].mismatches < fare.mismatches / 10
    assert all(abs(e["expected"]) < 0.05 for e in relaxed.features["fare_z"].examples)
    assert relaxed.features["company_id"].mismatches == company.mismatches
    assert feature_skew(tfn, raw, bad, "request_id", atol=1e-5).features["fare_z"].mismatches == 0
    text = report.render("text")
    assert "FAIL" in text and "fare_z" in text and "ulp" in text
    data = json.loads(report.render("json"))
    assert data["passed"] is False
    assert {f["name"]: f["mismatches"] for f in data["features"]}[
        "company_id"
    ] == company.mismatches


def test_ids_on_one_side_missing_and_repeated_are_counted(tfn, raw):
    features = _exported(tfn, raw).iloc[5:].copy()  # the first 5 requests were not logged
    extra = features.iloc[:3].copy()
    extra["request_id"] = ["x1", "x2", "x3"]  # logged features of unknown requests
    repeat = features.iloc[:2].copy()
    repeat["fare_z"] = 99.0  # repeated ids: only the first occurrence counts
    features = pd.concat([features, extra, repeat], ignore_index=True)
    features.loc[10, "request_id"] = None
    raw2 = raw.copy()
    raw2.loc[20, "request_id"] = None
    report = feature_skew(tfn, raw2, features, "request_id")
    rows = report.rows
    assert rows["raw_only"] == 6  # 5 never logged + the row whose features lost their id
    assert rows["features_only"] == 4  # 3 unknown + the one whose raw row lost its id
    assert rows["raw_missing_id"] == 1 and rows["features_missing_id"] == 1
    assert rows["features_duplicate_ids"] == 2 and rows["raw_duplicate_ids"] == 0
    assert rows["joined"] == rows["compared"] == N - 5 - 1 - 1
    assert report.raw_only_ids[:5] == [f"r2-{k}" for k in range(5)]
    assert set(report.features_only_ids) >= {"x1", "x2", "x3"}
    assert report.passed


def test_unreadable_raw_rows_and_numeric_ids(tfn, raw):
    raw2 = raw.copy()
    raw2["request_id"] = np.arange(N)
    raw2["trips"] = raw2["trips"].astype(object)
    raw2.loc[7, "trips"] = "many"  # the transform cannot read this row
    features = _exported(tfn, raw)
    features["request_id"] = [str(k) for k in range(N)]  # "7" joins 7
    report = feature_skew(tfn, raw2.astype({"trips": str}), features, "request_id")
    assert report.rows["raw_unusable"] == 1 and report.rows["joined"] == N
    assert report.rows["compared"] == N - 1
    assert report.unusable_examples[0]["id"] == 7
    assert "trips" in report.unusable_examples[0]["reason"]
    assert report.passed


def test_unconvertible_and_missing_logged_columns(tfn, raw):
    features = _exported(tfn, raw).drop(columns="trips_bucket")
    features["fare_z"] = features["fare_z"].astype(object)
    features.loc[3, "fare_z"] = "oops"
    features["model_version"] = 3
    features = features.astype({"fare_z": str})
    report = feature_skew(tfn, raw, features, "request_id")
    assert report.not_logged == ["trips_bucket"] and report.unexpected == ["model_version"]
    fare = report.features["fare_z"]
    assert fare.mismatches == 1 and fare.examples[0]["got"] == "oops"
    assert "not a valid float32" in fare.examples[0]["reason"]
    with pytest.raises(DataError, match="no column 'rid'"):
        feature_skew(tfn, raw, features, "rid")
    with pytest.raises(DataError, match="none of the TransformFn's outputs"):
        feature_skew(tfn, raw, features[["request_id"]], "request_id")


def test_float_comparison_rules():
    a = np.array([0.0, np.nan, 1.0, np.inf, 1.0], np.float64)
    b = np.array([-0.0, -np.nan, np.nan, np.inf, 1.0 + 2**-52], np.float64)
    assert float_matches(a, b).tolist() == [False, True, False, True, False]
    assert float_matches(a, b, ulps=1).tolist() == [True, True, False, True, True]
    assert ulp_distance(a[[0, 4]], b[[0, 4]]).tolist() == [0, 1]


def test_cli_exit_codes(tfn, raw, tmp_path, capsys):
    artifact = str(tfn.save(tmp_path / "artifact"))
    raw.to_csv(tmp_path / "raw.csv", index=False)
    _exported(tfn, raw).to_parquet(tmp_path / "good.parquet")
    _hand_written(tfn, raw).to_parquet(tmp_path / "bad.parquet")
    base = ["feature-skew", "--artifact", artifact, "--raw", str(tmp_path / "raw.csv")]
    assert (
        cli.main([*base, "--features", str(tmp_path / "good.parquet"), "--id", "request_id"]) == 0
    )
    assert "PASS" in capsys.readouterr().out
    args = [*base, "--features", str(tmp_path / "bad.parquet"), "--id", "request_id"]
    assert cli.main([*args, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["rows"]["compared"] == N and not data["passed"]
    assert cli.main([*args, "--ulps", "4"]) == 1  # the vocabulary bug remains
    capsys.readouterr()
    # unusable input: no id column, no common ids, no such file
    assert cli.main([*base, "--features", str(tmp_path / "good.parquet"), "--id", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    other = _exported(tfn, raw)
    other["request_id"] = "zz" + other["request_id"]
    other.to_parquet(tmp_path / "other.parquet")
    assert (
        cli.main([*base, "--features", str(tmp_path / "other.parquet"), "--id", "request_id"]) == 2
    )
    assert "nothing was compared" in capsys.readouterr().err
    assert (
        cli.main([*base, "--features", str(tmp_path / "none.parquet"), "--id", "request_id"]) == 2
    )


def test_raw_requests_from_a_prediction_log(tfn, raw, tmp_path):
    """The raw side read from TF Serving request logs (the request id in each tf.Example)."""
    pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
    tf = pytest.importorskip("tensorflow")
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    with tf.io.TFRecordWriter(str(tmp_path / "requests.tfrecord")) as writer:
        for start in range(0, 200, 10):
            examples = []
            for row in raw.iloc[start : start + 10].itertuples():
                feature = {
                    "request_id": tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[row.request_id.encode()])
                    ),
                    "fare": tf.train.Feature(float_list=tf.train.FloatList(value=[row.fare])),
                    "company": tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[row.company.encode()])
                    ),
                    "trips": tf.train.Feature(int64_list=tf.train.Int64List(value=[row.trips])),
                }
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                examples.append(example.SerializeToString())
            request = predict_pb2.PredictRequest()
            request.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    report = feature_skew(
        tfn, str(tmp_path / "requests.tfrecord"), _hand_written(tfn, raw.iloc[:200]), "request_id"
    )
    assert report.rows["raw"] == report.rows["compared"] == 200
    assert report.features["company_id"].mismatches == (raw["company"].iloc[:200] == "c").sum()
    assert report.features["trips_bucket"].mismatches == 0
