"""TF Serving request logs (PredictionLog TFRecords) as serving input of the skew detector.

The logs are written with the real ``tensorflow_serving.apis`` protos and
``tf.io.TFRecordWriter``; the reader itself needs only the protos.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip(
    "tensorflow_serving.apis.prediction_log_pb2",
    reason="tensorflow-serving-api (the serving-logs extra) is not installed",
)
tf = pytest.importorskip("tensorflow")

from tensorflow_serving.apis import (  # noqa: E402
    classification_pb2,
    predict_pb2,
    prediction_log_pb2,
    regression_pb2,
)

import tskew as ts  # noqa: E402
from tskew import cli  # noqa: E402
from tskew.errors import DataError  # noqa: E402
from tskew.io.bad_records import BadRecordLog  # noqa: E402
from tskew.io.tfrecord import frame  # noqa: E402
from tskew.skew.serving.prediction_log import (  # noqa: E402
    PredictionLogPath,
    ServingApiMissing,
    read_prediction_log,
)

N = 600
BATCH = 8


def preprocessing_fn(i):
    return {
        "fare_z": ts.scale_to_z_score(ts.impute(i["fare"], "median")),
        "company_id": ts.compute_and_apply_vocabulary(
            ts.fill_missing(i["company"], ""), top_k=3, num_oov_buckets=1
        ),
        "trips_bucket": ts.bucketize(i["trips"], 4),
    }


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # float32-representable fares: tf.Example stores floats as float32
    fare = rng.normal(10.0 + shift, 2.0, n).astype(np.float32).astype(np.float64)
    company = rng.choice(["a", "b", "c", "d"], n).astype(object)
    company[rng.random(n) < 0.05] = None
    frame = pd.DataFrame({"fare": fare, "company": company, "trips": rng.integers(0, 50, n)})
    frame.loc[rng.random(n) < 0.05, "fare"] = None
    return frame


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, _frame(3000, seed=1))


@pytest.fixture(scope="module")
def serving() -> pd.DataFrame:
    return _frame(N, seed=2, shift=0.5)


# ------------------------------------------------------------------ writing logs


def _example(row: dict) -> tf.train.Example:
    feature = {}
    for name, value in row.items():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue  # an absent feature is missing
        if isinstance(value, str):
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        elif isinstance(value, float):
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
        else:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def _rows(frame: pd.DataFrame) -> list[dict]:
    return [
        {
            k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in r.items()
        }
        for r in frame.astype(object).to_dict("records")
    ]


def _predict_examples(frame: pd.DataFrame) -> prediction_log_pb2.PredictionLog:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "taxi"
    request.model_spec.signature_name = "serving_tf_example"
    serialized = [_example(r).SerializeToString() for r in _rows(frame)]
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto(serialized, dtype=tf.string))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def _predict_tensors(frame: pd.DataFrame) -> prediction_log_pb2.PredictionLog:
    """serving_default's named tensors, with tskew's ``<name>__missing`` masks."""
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "serving_default"
    fare_missing = frame["fare"].isna().to_numpy()
    company_missing = frame["company"].isna().to_numpy()
    inputs = {
        "fare": tf.make_tensor_proto(frame["fare"].fillna(0.0).to_numpy(np.float64)),
        "fare__missing": tf.make_tensor_proto(fare_missing),
        "company": tf.make_tensor_proto(
            [c.encode() for c in frame["company"].fillna("")], dtype=tf.string
        ),
        "company__missing": tf.make_tensor_proto(company_missing),
        # [batch, 1] is read as [batch]
        "trips": tf.make_tensor_proto(frame["trips"].to_numpy(np.int64).reshape(-1, 1)),
    }
    for name, proto in inputs.items():
        request.inputs[name].CopyFrom(proto)
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def _classify(frame: pd.DataFrame, context: bool = False) -> prediction_log_pb2.PredictionLog:
    request = classification_pb2.ClassificationRequest()
    rows = _rows(frame)
    if context:  # one shared feature in the context, the rest per example
        shared = {"trips": rows[0]["trips"]}
        assert all(r["trips"] == shared["trips"] for r in rows)
        target = request.input.example_list_with_context
        target.context.CopyFrom(_example(shared))
        target.examples.extend(_example({k: v for k, v in r.items() if k != "trips"}) for r in rows)
    else:
        request.input.example_list.examples.extend(_example(r) for r in rows)
    return prediction_log_pb2.PredictionLog(
        classify_log=prediction_log_pb2.ClassifyLog(request=request)
    )


def _write(path, records, options=None) -> None:
    with tf.io.TFRecordWriter(str(path), options=options) as writer:
        for record in records:
            writer.write(record if isinstance(record, bytes) else record.SerializeToString())


def _values(column: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in column]


def _batches(frame: pd.DataFrame, size: int = BATCH) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


@pytest.fixture(scope="module")
def logs(tmp_path_factory, serving):
    """Three files in glob order: tf.Examples (+ a garbage record), named tensors (GZIP),
    ClassifyLogs ending in a truncated record."""
    folder = tmp_path_factory.mktemp("logs")
    first, second, third = serving.iloc[:200], serving.iloc[200:400], serving.iloc[400:]
    records = [_predict_examples(b) for b in _batches(first)]
    records.insert(5, b"\x0agarbage: not a PredictionLog\xff")
    _write(folder / "a.tfrecord", records)
    _write(folder / "b.tfrecord.gz", [_predict_tensors(b) for b in _batches(second)], "GZIP")
    path = folder / "c.tfrecord"
    _write(path, [_classify(b) for b in _batches(third)])
    last = frame(_classify(third.iloc[:3]).SerializeToString())
    path.write_bytes(path.read_bytes() + last[:-10])  # a truncated last record
    return folder


# ------------------------------------------------------------------ skew_report


def test_skew_report_on_prediction_logs_matches_the_dataframe(tfn, serving, logs):
    report = ts.skew_report(tfn, str(logs / "*.tfrecord*"))
    expected = ts.skew_report(tfn, serving)
    # the garbage record in a.tfrecord is skipped; the truncated one ends c.tfrecord
    assert report.rows == {"training": 3000, "serving": N, "bad_records": 2}
    assert not report.dtype_violations and not report.missing_features
    assert report.unexpected_features == []
    assert report.features["fare"].serving_rows == N
    assert report.features["company_id"].serving_rows == N
    for name, feature in expected.features.items():
        got = report.features[name]
        assert got.to_json() == feature.to_json(), name
    fare = report.features["fare"].metric("kolmogorov_smirnov")
    assert fare.value == expected.features["fare"].metric("kolmogorov_smirnov").value > 0.05
    sources = sorted(e["source"] for e in report.bad_record_examples)
    assert sources[0].endswith("a.tfrecord:6") and sources[1].endswith("c.tfrecord:26")
    reasons = " ".join(e["reason"] for e in report.bad_record_examples)
    assert "not a PredictionLog" in reasons and "truncated record" in reasons


def test_regress_log_and_context_examples(tfn, serving, tmp_path):
    rows = serving.iloc[:16].copy()
    rows["trips"] = 7
    regress = regression_pb2.RegressionRequest()
    regress.input.example_list.examples.extend(_example(r) for r in _rows(rows.iloc[:8]))
    records = [
        prediction_log_pb2.PredictionLog(
            regress_log=prediction_log_pb2.RegressLog(request=regress)
        ),
        _classify(rows.iloc[8:], context=True),
    ]
    _write(tmp_path / "r.tfrecord", records, "ZLIB")
    (table, locate), *rest = list(read_prediction_log(tmp_path / "r.tfrecord"))
    assert rest == [] and table.num_rows == 16
    assert table.column("trips").to_pylist() == [7] * 16
    assert table.column("company").to_pylist() == _values(rows["company"])
    assert locate(0).endswith("r.tfrecord record 1, example 0")
    assert locate(15).endswith("r.tfrecord record 2, example 7")


def test_named_tensors_missing_masks_and_locations(serving, tmp_path):
    batch = serving.iloc[:BATCH]
    _write(tmp_path / "t.tfrecord", [_predict_tensors(batch)] * 2)
    chunks = list(read_prediction_log(tmp_path / "t.tfrecord", chunk_rows=BATCH))
    assert [t.num_rows for t, _ in chunks] == [BATCH, BATCH]
    table, locate = chunks[1]
    assert sorted(table.column_names) == ["company", "fare", "trips"]  # masks applied, dropped
    assert table.column("fare").to_pylist() == _values(batch["fare"])
    assert table.column("company").to_pylist() == _values(batch["company"])
    assert locate(3).endswith("t.tfrecord record 2, example 3")


def test_bool_features_multi_values_and_the_schema_hint(tmp_path):
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "flag": tf.train.Feature(int64_list=tf.train.Int64List(value=[1])),
                "many": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0, 2.0])),
                "empty": tf.train.Feature(float_list=tf.train.FloatList(value=[])),
            }
        )
    )
    request = predict_pb2.PredictRequest()
    request.inputs["examples"].CopyFrom(
        tf.make_tensor_proto([example.SerializeToString()], dtype=tf.string)
    )
    log = prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )
    _write(tmp_path / "x.tfrecord", [log])
    schema = ts.Schema({"flag": "bool"})
    ((plain, _),) = read_prediction_log(tmp_path / "x.tfrecord")
    ((hinted, _),) = read_prediction_log(tmp_path / "x.tfrecord", schema=schema)
    assert plain.column("flag").to_pylist() == [1]
    assert hinted.column("flag").to_pylist() == [True]
    assert hinted.column("many").to_pylist() == [[1.0, 2.0]]  # a dtype violation later
    assert hinted.column("empty").to_pylist() == [None]


def test_damaged_records_are_counted_not_fatal(serving, tmp_path):
    good = _predict_examples(serving.iloc[:4]).SerializeToString()
    path = tmp_path / "d.tfrecord"
    _write(path, [good, good, good])
    data = bytearray(path.read_bytes())
    record = 8 + 4 + len(good) + 4
    data[record + 12 + 10] ^= 0xFF  # a byte inside the second record's data
    path.write_bytes(bytes(data))
    log = BadRecordLog("skip")
    tables = [t for t, _ in read_prediction_log(path, log)]
    assert log.count == 1 and log.examples[0].line == 2
    assert sum(t.num_rows for t in tables) == 8
    assert "CRC" in log.examples[0].reason
    with pytest.raises(DataError, match=r"d.tfrecord line 2: data CRC mismatch"):
        list(read_prediction_log(path))  # no log: the first bad record raises


def test_unsupported_and_empty_records(tmp_path):
    empty = prediction_log_pb2.PredictionLog()
    session = prediction_log_pb2.PredictionLog(session_run_log=prediction_log_pb2.SessionRunLog())
    request = predict_pb2.PredictRequest()
    request.inputs["a"].CopyFrom(tf.make_tensor_proto([1.0, 2.0]))
    request.inputs["b"].CopyFrom(tf.make_tensor_proto([1.0]))
    ragged = prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )
    _write(tmp_path / "u.tfrecord", [empty, session, ragged])
    log = BadRecordLog("skip")
    assert list(read_prediction_log(tmp_path / "u.tfrecord", log)) == []
    reasons = [r.reason for r in log.examples]
    assert log.count == 3 and [r.line for r in log.examples] == [1, 2, 3]
    assert "empty record" in reasons[0] and "session_run_log" in reasons[1]
    assert "different batch sizes" in reasons[2]


def test_missing_protos_give_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorflow_serving.apis.prediction_log_pb2", None)
    monkeypatch.setitem(sys.modules, "tensorflow_serving.apis", None)
    (tmp_path / "x.tfrecord").write_bytes(b"")
    with pytest.raises(ServingApiMissing, match=r"pip install 'tskew\[serving-logs\]'"):
        list(read_prediction_log(tmp_path / "x.tfrecord"))


# ------------------------------------------------------------------ CLI


def test_cli_reads_tfrecord_globs_and_the_forced_format(tfn, logs, tmp_path, capsys):
    artifact = tfn.save(tmp_path / "artifact")
    pattern = str(logs / "*.tfrecord*")
    code = cli.main(
        ["skew-report", "--artifact", str(artifact), "--serving", pattern, "--format", "json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert out["rows"]["serving"] == N and out["rows"]["bad_records"] == 2
    # any file name, with --serving-format prediction_log
    renamed = tmp_path / "requests.log"
    renamed.write_bytes((logs / "a.tfrecord").read_bytes())
    args = ["skew-report", "--artifact", str(artifact), "--serving", str(renamed)]
    assert cli.main(args) == 2  # unknown file type
    assert "--serving-format prediction_log" in capsys.readouterr().err
    code = cli.main([*args, "--serving-format", "prediction_log", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert out["rows"]["serving"] == 200 and out["rows"]["bad_records"] == 1


def test_prediction_log_path_is_a_plain_string_for_the_python_api(tfn, logs, tmp_path):
    renamed = tmp_path / "requests-00000"
    renamed.write_bytes((logs / "b.tfrecord.gz").read_bytes())
    report = ts.skew_report(tfn, PredictionLogPath(str(renamed)))
    assert report.rows["serving"] == 200 and report.serving == str(renamed)
