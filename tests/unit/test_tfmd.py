"""tensorflow_metadata interop: TFMD schemas as ts.Schema, the baseline as a TFMD statistics proto
that the real TFDV loads, infers a schema from and validates (in its own venv, when present)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import tskew as ts
from tests.conftest import shared_file
from tskew import tfmd
from tskew.errors import DataError, SchemaError
from tskew.io import open_source, tfrecord
from tskew.io.schemas import as_schema

pytest.importorskip("tensorflow_metadata")
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

ROOT = Path(__file__).resolve().parents[2]
TFDV_PYTHON = ROOT / "benchmarks" / ".venv-tfdv" / "bin" / "python"
TAXI_SCHEMA = "chicago_taxi/schema.pbtxt"
TAXI_CSV = "chicago_taxi/data.csv"
STRINGS = ("company", "payment_type")


def _taxi_fn(inputs):
    """Every taxi column as an input; numeric ones passed through, strings as vocabulary ids."""
    out = {}
    for name, col in inputs.items():
        if name in STRINGS:
            out[name + "_id"] = ts.compute_and_apply_vocabulary(ts.fill_missing(col, ""), top_k=20)
        else:
            out[name] = ts.fill_missing(col, 0)
    out["cash"] = ts.fill_missing(inputs["payment_type"], "") == "Cash"
    return out


def _hostile():
    """NaN, +-inf, nulls, bools, empty strings, zeros: every branch of the mapping."""
    data = {
        "f": [1.0, 2.0, None, math.nan, math.inf, 0.0, 0.0, -math.inf, 5.5],
        "b": [True, False, True, None, True, True, False, True, True],
        "i": [1, 2, 3, 3, None, 0, 7, 3, -4],
        "s": ["a", "bb", None, "a", "ccc", "a", "", "é", "a"],
    }

    def fn(i):
        return {
            "y": ts.fill_missing(i["f"], 0.0) * 2.0,
            "bb": ts.fill_missing(i["b"], False),
            "ii": ts.fill_missing(i["i"], 0),
            "id": ts.compute_and_apply_vocabulary(ts.fill_missing(i["s"], "")),
        }

    return ts.analyze(fn, data)


# ----------------------------------------------------------------------------------- schema


def test_taxi_schema_pbtxt_as_ts_schema():
    path = shared_file(TAXI_SCHEMA)
    for given in (path, str(path), tfmd.load_tfmd_schema(path)):
        schema = as_schema(given)
        assert len(schema) == 18
        assert schema["company"] == ts.string(nullable=True)  # presence without min_fraction
        assert schema["payment_type"] == ts.string(nullable=False)  # min_fraction: 1.0
        assert schema["fare"] == ts.float32(nullable=False)  # TFT parses FLOAT as float32
        assert schema["dropoff_latitude"] == ts.float32(nullable=True)
        assert schema["trip_start_hour"] == ts.int64(nullable=False)
        assert schema["pickup_census_tract"] == ts.int64(nullable=True)  # min_count: 0 only
    assert tfmd.schema_from_tfmd(path, float_dtype="float64")["fare"] == ts.float64(False)


def test_schema_mapping_environments_and_unsupported_features():
    proto = text_format.Parse(
        """
        default_environment: "TRAINING"
        default_environment: "SERVING"
        feature { name: "n" type: INT presence { min_fraction: 1.0 } }
        feature { name: "flag" type: INT bool_domain {} }
        feature { name: "yes_no" type: BYTES bool_domain { true_value: "yes" } }
        feature { name: "tf" type: BYTES bool_domain { true_value: "true" false_value: "false" } }
        feature { name: "x" type: FLOAT shape { dim { size: 1 } } presence { min_fraction: 0.5 } }
        feature { name: "label" type: FLOAT not_in_environment: "SERVING" }
        feature { name: "old" type: FLOAT lifecycle_stage: DEPRECATED }
        feature { name: "vec" type: FLOAT value_count { min: 3 max: 3 } }
        feature { name: "img" type: BYTES image_domain {} }
        feature { name: "st" type: STRUCT }
        sparse_feature { name: "sp" index_feature { name: "i" } value_feature { name: "v" } }
        """,
        schema_pb2.Schema(),
    )
    with pytest.warns(UserWarning, match="'vec'.*'img'.*'st'.*'sp' \\(sparse feature\\)"):
        schema = tfmd.schema_from_tfmd(proto)
    assert schema == ts.Schema(
        {
            "n": ts.int64(False),
            "flag": ts.bool_(),
            "yes_no": ts.string(),
            "tf": ts.bool_(),
            "x": ts.float32(),
            "label": ts.float32(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "label" not in tfmd.schema_from_tfmd(proto, environment="SERVING")
        assert "label" in tfmd.schema_from_tfmd(proto, environment="TRAINING")


def test_as_schema_errors(tmp_path):
    with pytest.raises(SchemaError, match="no such schema file"):
        as_schema(tmp_path / "missing.pbtxt")
    bad = tmp_path / "bad.pbtxt"
    bad.write_text("feature { nme: 'x' }")
    with pytest.raises(SchemaError, match="not a tensorflow_metadata Schema text proto"):
        as_schema(bad)
    with pytest.raises(SchemaError, match="cannot use a int as a schema"):
        as_schema(3)
    assert as_schema({"a": "int64"}) == ts.Schema({"a": "int64"})


def test_analyze_and_open_source_take_a_pbtxt_path():
    schema_path, csv = shared_file(TAXI_SCHEMA), shared_file(TAXI_CSV)
    # The TFX schema says pickup_community_area is present in every example (min_fraction 1),
    # and two rows of this CSV lack it: an error by default, two skipped records on request.
    with pytest.raises(DataError, match="line 2: feature 'pickup_community_area' is missing"):
        ts.analyze(_taxi_fn, csv, schema=schema_path)
    tfn = ts.analyze(_taxi_fn, csv, schema=str(schema_path), on_bad_record="skip")
    assert tfn.statistics.bad_records == 2 and tfn.statistics.num_rows == 15000
    assert tfn.input_schema == as_schema(schema_path)
    assert tfn.statistics.inputs["pickup_census_tract"].missing == 14999
    source = open_source(csv, tfmd.load_tfmd_schema(schema_path), on_bad_record="skip")
    assert source.schema["trip_seconds"] == ts.int64(nullable=True)


# ------------------------------------------------------------------------------- statistics


def test_statistics_proto_round_trip(tmp_path):
    tfn = _hostile()
    proto = tfmd.to_statistics_proto(tfn.statistics, "hostile")
    (dataset,) = proto.datasets
    assert dataset.name == "hostile" and dataset.num_examples == 9
    by_name = {f.name: f for f in dataset.features}
    assert list(by_name) == ["f", "b", "i", "s"] + [
        "transformed/" + k for k in ("y", "bb", "ii", "id")
    ]
    types = {k: statistics_pb2.FeatureNameStatistics.Type.Name(v.type) for k, v in by_name.items()}
    assert types == {
        "f": "FLOAT",
        "b": "INT",
        "i": "INT",
        "s": "STRING",
        "transformed/y": "FLOAT",
        "transformed/bb": "INT",
        "transformed/ii": "INT",
        "transformed/id": "INT",
    }

    f = by_name["f"].num_stats
    assert (f.common_stats.num_non_missing, f.common_stats.num_missing) == (8, 1)
    assert f.common_stats.tot_num_values == 8 and f.common_stats.max_num_values == 1
    assert f.min == -math.inf and f.max == math.inf and f.num_zeros == 2
    standard, quantiles = f.histograms
    assert standard.type == statistics_pb2.Histogram.STANDARD and standard.num_nan == 1
    assert (standard.buckets[0].low_value, standard.buckets[0].sample_count) == (-math.inf, 1)
    assert (standard.buckets[-1].high_value, standard.buckets[-1].sample_count) == (math.inf, 1)
    assert sum(b.sample_count for b in standard.buckets) == 7  # NaN and null are not in buckets
    assert quantiles.type == statistics_pb2.Histogram.QUANTILES and len(quantiles.buckets) == 10
    assert all(b.sample_count == pytest.approx(0.7) for b in quantiles.buckets)
    lows = [b.low_value for b in quantiles.buckets]
    assert lows == sorted(lows) and lows[0] == -math.inf and quantiles.buckets[-1].high_value > 5

    b = by_name["b"].num_stats  # True x6, False x2, one null
    assert (b.mean, b.num_zeros, b.min, b.max, b.median) == (0.75, 2, 0, 1, 1)
    assert b.std_dev == pytest.approx(np.std([1] * 6 + [0] * 2))
    assert [x.sample_count for x in b.histograms[0].buckets] == [2] + [0] * 8 + [6]

    i = by_name["i"].num_stats
    assert (i.min, i.max, i.median, i.num_zeros) == (-4, 7, 3, 1)
    assert i.mean == pytest.approx(np.mean([1, 2, 3, 3, 0, 7, 3, -4]))

    s = by_name["s"].string_stats
    assert s.unique == 5 and s.common_stats.num_missing == 1
    assert [(v.value, v.frequency) for v in s.top_values][:1] == [("a", 4.0)]
    assert [(r.low_rank, r.label, r.sample_count) for r in s.rank_histogram.buckets][:2] == [
        (0, "a", 4.0),
        (1, "é", 1.0),
    ]
    assert s.avg_length == pytest.approx((4 * 1 + 2 + 3 + 0 + 2) / 8)  # UTF-8 bytes: "é" is 2

    for fmt, suffix in (("tfrecord", ".tfrecord"), ("binary", ".pb"), ("text", ".pbtxt")):
        path = tfmd.write_statistics(tfn, tmp_path / f"stats{suffix}", name="hostile")
        assert tfmd.read_statistics(path) == proto, fmt
    framed = (tmp_path / "stats.tfrecord").read_bytes()
    assert tfrecord.unframe(framed) == proto.SerializeToString(deterministic=True)
    assert (tmp_path / "stats.pbtxt").read_text().startswith("datasets {")

    only_in = tfmd.to_statistics_proto(tfn, features="inputs").datasets[0]
    only_out = tfmd.to_statistics_proto(tfn, features="outputs").datasets[0]
    assert [x.name for x in only_in.features] == ["f", "b", "i", "s"]
    assert [x.name for x in only_out.features] == ["y", "bb", "ii", "id"]


def test_statistics_proto_of_the_taxi_artifact():
    tfn = ts.analyze(_taxi_fn, shared_file(TAXI_CSV))
    proto = tfmd.to_statistics_proto(tfn.statistics)
    by_name = {f.name: f for f in proto.datasets[0].features}
    assert len(by_name) == 18 + 19
    company = by_name["company"].string_stats
    stats = tfn.statistics.inputs["company"]
    assert company.unique == stats.num_distinct
    assert company.common_stats.num_missing == stats.missing == 5140
    fare = by_name["fare"].num_stats
    assert fare.mean == tfn.statistics.inputs["fare"].mean
    assert fare.median == tfn.statistics.inputs["fare"].quantiles[5]
    ids = by_name["transformed/company_id"].num_stats
    assert ids.max == tfn.statistics.outputs["company_id"].max
    assert ids.common_stats.num_non_missing == tfn.statistics.num_rows


def test_tfrecord_matches_tensorflow_writer(tmp_path):
    tf = pytest.importorskip("tensorflow")
    tfn = _hostile()
    proto = tfmd.to_statistics_proto(tfn)
    ours = tfmd.write_statistics(tfn, tmp_path / "ours.tfrecord")
    theirs = tmp_path / "theirs.tfrecord"
    with tf.io.TFRecordWriter(str(theirs)) as writer:
        writer.write(proto.SerializeToString(deterministic=True))
    assert ours.read_bytes() == theirs.read_bytes()
    (record,) = [r.numpy() for r in tf.data.TFRecordDataset(str(ours))]
    assert statistics_pb2.DatasetFeatureStatisticsList.FromString(record) == proto


# ------------------------------------------------------------------------------ real TFDV

_TFDV_SCRIPT = textwrap.dedent(
    """
    import json, math, sys
    import pandas as pd
    import tensorflow_data_validation as tfdv
    from google.protobuf import text_format
    from tensorflow_data_validation.utils import display_util
    from tensorflow_metadata.proto.v0 import schema_pb2

    args = json.loads(sys.argv[1])
    out = {}
    for key, files in args["stats"].items():
        loaded = tfdv.load_statistics(files["tfrecord"])
        assert loaded == tfdv.load_statistics(files["text"]) == tfdv.load_stats_binary(
            files["binary"]), key
        schema = tfdv.infer_schema(loaded)
        anomalies = tfdv.validate_statistics(loaded, schema)
        display_util.get_statistics_html(loaded)  # the Facets Overview page TFDV renders
        out[key] = {
            "features": [f.name for f in loaded.datasets[0].features],
            "num_examples": loaded.datasets[0].num_examples,
            "schema": {f.name: schema_pb2.FeatureType.Name(f.type) for f in schema.feature},
            "anomalies": {k: v.description for k, v in anomalies.anomaly_info.items()},
            "schema_text": text_format.MessageToString(schema),
        }
    # TFDV's own statistics of the same CSV, for the exact fields.
    own = tfdv.generate_statistics_from_dataframe(pd.read_csv(args["csv"]))
    exact = {}
    for f in own.datasets[0].features:
        name = f.path.step[0] if f.HasField("path") else f.name
        kind = f.WhichOneof("stats")
        st = getattr(f, kind)
        row = {"kind": kind, "non_missing": st.common_stats.num_non_missing,
               "missing": st.common_stats.num_missing}
        if kind == "num_stats":
            row.update(mean=st.mean, std=st.std_dev, min=st.min, max=st.max, zeros=st.num_zeros)
        else:
            row.update(unique=st.unique, top=st.top_values[0].value,
                       top_count=st.top_values[0].frequency, avg_length=st.avg_length)
        exact[name] = row
    out["tfdv_own"] = exact
    print("RESULT" + json.dumps(out))
    """
)


def test_real_tfdv_loads_infers_and_validates(tmp_path):
    if not TFDV_PYTHON.exists():
        pytest.skip(
            f"no TFDV venv at {TFDV_PYTHON}: TFDV is not a tskew dependency and is not installed "
            "in CI; build it with `bash benchmarks/tfdv_env.sh` to run this check"
        )
    csv = shared_file(TAXI_CSV)
    artifacts = {"taxi": ts.analyze(_taxi_fn, csv), "hostile": _hostile()}
    files = {}
    for key, tfn in artifacts.items():
        files[key] = {
            fmt: str(tfmd.write_statistics(tfn, tmp_path / f"{key}.{fmt}", format=fmt))
            for fmt in tfmd.FORMATS
        }
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [str(TFDV_PYTHON), "-c", _TFDV_SCRIPT, json.dumps({"stats": files, "csv": str(csv)})],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.split("RESULT", 1)[1])

    for key, tfn in artifacts.items():
        got = result[key]
        assert got["anomalies"] == {}, key  # TFDV accepts its own inference from our stats
        assert got["num_examples"] == tfn.statistics.num_rows
        expected = list(tfn.statistics.inputs) + [
            "transformed/" + k for k in tfn.statistics.outputs
        ]
        assert got["features"] == expected
        for name, st in tfn.statistics.inputs.items():
            want = "BYTES" if st.dtype == "string" else "FLOAT" if "float" in st.dtype else "INT"
            assert got["schema"][name] == want, (key, name)

    # The schema TFDV infers from our statistics maps back to the schema tskew inferred.
    taxi_schema = artifacts["taxi"].input_schema
    inferred = text_format.Parse(result["taxi"]["schema_text"], schema_pb2.Schema())
    back = tfmd.schema_from_tfmd(inferred)
    assert {name: back[name] for name in taxi_schema} == dict(taxi_schema.items())

    # The exact fields agree with the statistics TFDV computes itself from the same rows.
    taxi = artifacts["taxi"].statistics.inputs
    ours = {
        f.name: f
        for f in tfmd.to_statistics_proto(artifacts["taxi"], features="inputs").datasets[0].features
    }
    for name, theirs in result["tfdv_own"].items():
        mine = ours[name]
        kind = mine.WhichOneof("stats")
        assert kind == theirs["kind"], name
        st = getattr(mine, kind)
        assert st.common_stats.num_non_missing == theirs["non_missing"], name
        assert st.common_stats.num_missing == theirs["missing"], name
        if kind == "num_stats":
            if theirs["non_missing"] == 0:
                continue
            for field in ("mean", "std", "min", "max"):
                value = getattr(st, "std_dev" if field == "std" else field)
                assert value == pytest.approx(theirs[field], rel=1e-9, abs=1e-9), (name, field)
            if tfmd._num_zeros(taxi[name]) is not None:
                assert st.num_zeros == theirs["zeros"], name
        else:
            assert st.unique == theirs["unique"], name
            assert (st.top_values[0].value, st.top_values[0].frequency) == (
                theirs["top"],
                theirs["top_count"],
            )
            assert st.avg_length == pytest.approx(theirs["avg_length"], rel=1e-6), name


def test_missing_tensorflow_metadata_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_metadata.proto.v0", None)
    with pytest.raises(ImportError, match="pip install tensorflow-metadata"):
        tfmd.to_statistics_proto(_hostile())
    with pytest.raises(ImportError, match="tensorflow-metadata package"):
        as_schema("schema.pbtxt")


def test_beam_readers_and_analyze_take_a_tfmd_schema():
    pytest.importorskip("apache_beam")
    import tskew.beam as tsb

    schema_path = shared_file(TAXI_SCHEMA)
    reader = tsb.ReadCsv(str(shared_file(TAXI_CSV)), schema=schema_path, max_bad_fraction=0.01)
    assert reader.schema == as_schema(schema_path)
    assert tsb.AnalyzeDataset(_taxi_fn, tfmd.load_tfmd_schema(schema_path)).schema == reader.schema


def test_cli_exports_the_statistics_proto(tmp_path, capsys):
    pytest.importorskip("tensorflow_metadata")
    from tskew import cli
    from tskew.tfmd import read_statistics

    tfn = ts.analyze(lambda i: {"y": ts.scale_to_z_score(i["x"])}, {"x": [1.0, 2.0, 4.0]})
    artifact = tfn.save(tmp_path / "a")
    out = tmp_path / "stats.tfrecord"
    assert cli.main(["export", str(artifact), "--statistics", str(out)]) == 0
    assert "TFMD proto" in capsys.readouterr().out
    names = [f.name for f in read_statistics(out).datasets[0].features]
    assert "x" in names
