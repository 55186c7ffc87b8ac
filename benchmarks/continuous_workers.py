"""One continuous-benchmark measurement per process (so peak RSS is its own): prints a JSON line.

Usage (run by ``bench_continuous.py``): ``python continuous_workers.py MODE PATH`` with MODE one
of tskew, tskew_beam, sklearn, polars, floor, generate (main venv; generate takes a row
count) or tft (TFT venv; PATH is then the
list-column copy that TFXIO reads). Imports happen before the clock starts; reading the
Parquet file, pipeline construction, tracing and all passes are timed.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

FLOATS = [f"x{i}" for i in range(8)]


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss can carry the parent's over exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------- preprocessing_fn


def tskew_fn(inputs):
    import tskew as ts

    out = {f"{x}_z": ts.scale_to_z_score(inputs[x]) for x in FLOATS}
    out["x0_b"] = ts.bucketize(inputs["x0"], num_buckets=10)
    out["x1_01"] = ts.scale_to_0_1(inputs["x1"])
    out["s_id"] = ts.compute_and_apply_vocabulary(inputs["s"], top_k=1000)
    return out


def tft_fn(inputs):
    """The same in TFT; inputs are SparseTensors holding exactly one value per row."""
    import tensorflow as tf
    import tensorflow_transform as tft

    def dense(name, default):
        x = tft.sparse_tensor_to_dense_with_shape(inputs[name], [None, 1], default_value=default)
        return tf.squeeze(x, axis=1)

    # Analyzers see float64; outputs are cast to float32 (TFT's output specs refuse float64).
    out = {f"{x}_z": tf.cast(tft.scale_to_z_score(dense(x, 0.0)), tf.float32) for x in FLOATS}
    out["x0_b"] = tft.bucketize(dense("x0", 0.0), num_buckets=10)
    out["x1_01"] = tf.cast(tft.scale_to_0_1(dense("x1", 0.0)), tf.float32)
    out["s_id"] = tft.compute_and_apply_vocabulary(dense("s", b""), top_k=1000)
    return out


# ---------------------------------------------------------------------------- contenders


def run_tskew(path: str) -> int:
    import tskew as ts

    return ts.analyze(tskew_fn, path).statistics.num_rows


def run_tskew_beam(path: str) -> int:
    import tempfile

    import apache_beam as beam

    import tskew as ts
    import tskew.beam as tsb

    with tempfile.TemporaryDirectory() as tmp:
        with beam.Pipeline() as pipeline:
            raw = pipeline | tsb.ReadParquet(path)
            tfn = raw | tsb.AnalyzeDataset(tskew_fn)
            tfn | tsb.WriteTransformFn(f"{tmp}/artifact")
            tsb.seal(pipeline)
        return ts.load(f"{tmp}/artifact").statistics.num_rows


def run_tft(path: str) -> int:
    import tempfile

    import apache_beam as beam
    import pyarrow.parquet as pq
    import tensorflow_transform.beam as tft_beam
    from preprocessing import tft_raw_input

    with (
        tempfile.TemporaryDirectory() as tmp,
        beam.Pipeline() as pipeline,
        tft_beam.Context(temp_dir=tmp, force_tf_compat_v1=False),
    ):
        raw, config = tft_raw_input(pipeline, path)
        _ = (raw, config) | tft_beam.AnalyzeDataset(tft_fn)
    return pq.ParquetFile(path).metadata.num_rows


def run_sklearn(path: str) -> int:
    import pandas as pd
    from sklearn.preprocessing import (
        KBinsDiscretizer,
        MinMaxScaler,
        OrdinalEncoder,
        StandardScaler,
    )

    frame = pd.read_parquet(path)
    StandardScaler().fit(frame[FLOATS])
    KBinsDiscretizer(n_bins=10, strategy="quantile", encode="ordinal").fit(frame[["x0"]])
    MinMaxScaler().fit(frame[["x1"]])
    OrdinalEncoder(max_categories=1000).fit(frame[["s"]])
    return len(frame)


def run_polars(path: str) -> int:
    import polars as pl

    frame = pl.read_parquet(path)
    rows = frame.height
    cuts = [(k * rows) // 10 for k in range(1, 10)]  # exact quantiles: one sort, 9 picks
    frame.select(
        *[pl.col(x).mean().alias(f"{x}_mean") for x in FLOATS],
        *[pl.col(x).std().alias(f"{x}_std") for x in FLOATS],
        pl.col("x0").sort().gather(cuts).implode().alias("x0_q"),
        pl.col("x1").min().alias("x1_min"),
        pl.col("x1").max().alias("x1_max"),
    )
    frame["s"].value_counts(sort=True).head(1000)
    return rows


def run_floor(path: str) -> int:
    """Reads the same columns once, one cheap reduction each (numpy sum; string lengths)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for x in FLOATS:
        sum(chunk.to_numpy().sum() for chunk in table.column(x).chunks)  # no concatenation
    pc.sum(pc.binary_length(table.column("s")))
    return table.num_rows


def run_generate(rows: str) -> int:
    """Writes the benchmark file (``--big`` runs this to measure the generation's memory)."""
    from continuous_data import continuous

    continuous(int(rows))
    return int(rows)


RUNNERS = {
    "generate": run_generate,
    "tskew": run_tskew,
    "tskew_beam": run_tskew_beam,
    "tft": run_tft,
    "sklearn": run_sklearn,
    "polars": run_polars,
    "floor": run_floor,
}

# Imported before the clock starts, so import time is not measured.
PRELOAD = {
    "generate": ["numpy", "pyarrow.parquet"],
    "tskew": ["tskew", "pyarrow.parquet", "pandas"],
    "tskew_beam": ["tskew", "tskew.beam", "apache_beam", "pandas"],
    "tft": ["tensorflow", "tensorflow_transform", "tensorflow_transform.beam", "apache_beam"],
    "sklearn": ["pandas", "pyarrow.parquet", "sklearn.preprocessing"],
    "polars": ["polars"],
    "floor": ["pyarrow.parquet", "pyarrow.compute", "numpy"],
}


def main() -> None:
    import importlib

    mode, path = sys.argv[1], sys.argv[2]
    for module in PRELOAD[mode]:
        importlib.import_module(module)
    setup_rss = peak_rss_mb()
    started = time.perf_counter()
    rows = RUNNERS[mode](path)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": seconds,
                "rows": rows,
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "setup_rss_mb": round(setup_rss, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
