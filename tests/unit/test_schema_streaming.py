"""Schema declaration/inference, and bounded memory while streaming a big file."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import tskew as ts


def test_schema_declared_and_inferred():
    schema = ts.Schema({"fare": ts.float32(), "n": ts.int64(nullable=False), "s": "string"})
    assert schema["fare"] == ts.FeatureType(ts.DType.FLOAT32, True)
    assert list(schema) == ["fare", "n", "s"]
    assert ts.Schema.from_json(schema.to_json()) == schema
    inferred = ts.Schema.infer(pa.table({"a": [1, None], "b": [1.5, 2.5], "c": [True, False]}))
    assert inferred == ts.Schema({"a": ts.int64(True), "b": ts.float64(False),
                                  "c": ts.bool_(False)})
    with pytest.raises(ts.SchemaError, match="unknown dtype 'float128'"):
        ts.Schema({"x": "float128"})
    with pytest.raises(ts.SchemaError, match=r"unknown feature 'far'.*'fare'"):
        schema["far"]
    assert "far" not in schema and "fare" in schema
    assert schema.get("far") is None and schema.get("fare") == ts.float32()


def test_declared_schema_overrides_inference_and_is_enforced():
    tfn = ts.analyze(lambda i: {"y": ts.fill_missing(i["x"], 0.0) * 2.0},
                     pd.DataFrame({"x": [1.0, 2.0]}), schema={"x": ts.float32()})
    assert tfn.input_schema["x"] == ts.float32()
    assert tfn.output_schema["y"].dtype is ts.DType.FLOAT32


def _write_csv(path, rows: int) -> None:
    rng = np.random.default_rng(0)
    pacsv.write_csv(pa.table({
        "x": rng.integers(0, 1000, rows).astype(np.float64),
        "s": pa.array(rng.integers(0, 50, rows).astype(str)),
    }), path)


def _peak_analyzing(path) -> int:
    def fn(i):
        x = ts.impute(i["x"], "median")
        return {"z": ts.scale_to_z_score(x), "b": ts.bucketize(x, 10),
                "id": ts.compute_and_apply_vocabulary(i["s"])}

    tracemalloc.start()
    tfn = ts.analyze(fn, str(path), batch_size=5_000, workers=1, cache_bytes=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert tfn.statistics.num_rows == int(path.stem)
    return peak


def test_streaming_a_large_csv_keeps_memory_bounded(tmp_path):
    """Accumulators hold one count per distinct value, not the rows: four times the
    rows must not need (much) more memory while streaming with cache_bytes=0."""
    small, big = tmp_path / "100000.csv", tmp_path / "400000.csv"
    _write_csv(small, 100_000)
    _write_csv(big, 400_000)
    peak_small, peak_big = _peak_analyzing(small), _peak_analyzing(big)
    assert peak_big < 1.5 * peak_small, (peak_small, peak_big)
    assert peak_big < big.stat().st_size / 2
