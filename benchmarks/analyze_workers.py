"""One measurement per process (so peak RSS is its own): prints a JSON line.

Usage: ``python analyze_workers.py MODE PATH`` with MODE one of tskew-analyze,
tskew-transform, floor, tft-analyze, tft-transform.
The TFT modes run under the TFT venv's interpreter. Imports happen before the
clock starts; pipeline construction, tracing and all passes are timed.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_tskew(path: str, transform: bool) -> int:
    from preprocessing import tskew_fn

    import tskew as ts
    import tskew.analysis

    if transform:
        _, out = ts.analyze_and_transform(tskew_fn, path)
        return out.num_rows
    return ts.analyze(tskew_fn, path).statistics.num_rows


def run_tskew_beam(path: str, transform: bool) -> int:
    import tempfile

    import apache_beam as beam
    from preprocessing import tskew_fn

    import tskew as ts
    import tskew.beam as tsb

    with tempfile.TemporaryDirectory() as tmp:
        with beam.Pipeline() as pipeline:
            raw = pipeline | tsb.ReadParquet(path)
            if transform:
                transformed, tfn = raw | tsb.AnalyzeAndTransformDataset(tskew_fn)
                _ = transformed | beam.Map(lambda batch: batch.num_rows)
            else:
                tfn = raw | tsb.AnalyzeDataset(tskew_fn)
            tfn | tsb.WriteTransformFn(f"{tmp}/artifact")
            tsb.seal(pipeline)
        return ts.load(f"{tmp}/artifact").statistics.num_rows


def run_floor(path: str) -> int:
    """The least work that computes the same statistics: one read, one reduction each."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for name in ("dep_delay", "arr_delay", "dep_time"):
        x = table.column(name).fill_null(0.0).to_numpy()
        x.mean(), x.var()
    air = table.column("air_time").fill_null(0.0).to_numpy()
    air.min(), air.max()
    for name, buckets in (("distance", 10), ("hour", 4)):
        x = np.sort(table.column(name).to_numpy())
        [x[(k * len(x)) // buckets] for k in range(1, buckets)]
    for name in ("carrier", "origin", "dest", "tailnum"):
        pc.value_counts(table.column(name).fill_null(""))
    return table.num_rows


def run_tft(path: str, transform: bool) -> int:
    import tempfile

    import apache_beam as beam
    import pyarrow.parquet as pq
    import tensorflow_transform.beam as tft_beam
    from preprocessing import tft_fn, tft_raw_input

    with (
        tempfile.TemporaryDirectory() as tmp,
        beam.Pipeline() as pipeline,
        tft_beam.Context(temp_dir=tmp, force_tf_compat_v1=False),
    ):
        raw, config = tft_raw_input(pipeline, path)
        if transform:
            (transformed, _), _ = (raw, config) | tft_beam.AnalyzeAndTransformDataset(
                tft_fn, output_record_batches=True
            )
            _ = transformed | beam.Map(lambda item: item[0].num_rows)
        else:
            _ = (raw, config) | tft_beam.AnalyzeDataset(tft_fn)
    return pq.ParquetFile(path).metadata.num_rows


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    runners = {
        "tskew-analyze": lambda: run_tskew(path, False),
        "tskew-transform": lambda: run_tskew(path, True),
        "tskew_beam-analyze": lambda: run_tskew_beam(path, False),
        "tskew_beam-transform": lambda: run_tskew_beam(path, True),
        "floor": lambda: run_floor(path),
        "tft-analyze": lambda: run_tft(path, False),
        "tft-transform": lambda: run_tft(path, True),
    }
    if mode.startswith("tft"):
        import tensorflow  # noqa: F401 - TF import time is not part of the measurement
        import tensorflow_transform  # noqa: F401
    started = time.perf_counter()
    rows = runners[mode]()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"mode": mode, "seconds": seconds, "rows": rows, "peak_rss_mb": round(peak_rss_mb(), 1)}
        )
    )


if __name__ == "__main__":
    main()
