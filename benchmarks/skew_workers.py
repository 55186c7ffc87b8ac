"""One skew-benchmark measurement per process (so peak RSS is its own): prints a JSON line.

Usage (run by ``bench_skew.py``)::

    python skew_workers.py tskew SERVING.parquet ARTIFACT_DIR          # main venv
    python skew_workers.py tskew-profile SERVING.parquet ARTIFACT_DIR  # cProfile, top costs
    python skew_workers.py floor SERVING.parquet BINS.json             # main venv
    python skew_workers.py tfdv-train TRAIN.parquet TFDV_DIR           # TFDV venv, once
    python skew_workers.py tfdv SERVING.parquet TFDV_DIR               # TFDV venv

Imports (including the ones done lazily on first use: pandas by pyarrow's Parquet reader,
``tskew.skew`` by ``ts.skew_report``) and loading the training baseline (tskew artifact, TFDV
statistics + schema, the floor's bins) happen before the clock starts. ``rss_setup_mb`` is
the resident set size just before the clock starts (imports included: TensorFlow's are
large); ``peak_rss_mb`` is the process's own peak (VmHWM).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM).

    Not ``getrusage().ru_maxrss``: Linux carries the parent's peak RSS over fork + exec into
    the child's ru_maxrss, so a child of a big driver process reports the driver's peak.
    """
    hwm = _status_mb("VmHWM")
    return hwm if hwm == hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mb() -> float:
    return _status_mb("VmRSS")


def _emit(mode: str, seconds: float, rows: int, setup_rss: float, **extra) -> None:
    out = {
        "mode": mode,
        "seconds": seconds,
        "rows": rows,
        "rss_setup_mb": round(setup_rss, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        **extra,
    }
    print(json.dumps(out))


# ---------------------------------------------------------------------------------- tskew


def _tskew_metrics(report) -> dict:
    """The TFDV-comparable value of each raw input: L-infinity or Jensen-Shannon."""
    out = {}
    for f in report.feature_list:
        if f.role != "input":
            continue
        for m in f.metrics:
            if m.name in ("linf_distance", "jensen_shannon_divergence"):
                out[f.name] = m.value
    return out


def run_tskew(path: str, artifact: str) -> None:
    import tskew as ts
    import tskew.skew.detect  # skew_report imports it lazily; not timed

    tfn = ts.load(artifact)
    setup = rss_now_mb()
    started = time.perf_counter()
    report = ts.skew_report(tfn, path)
    seconds = time.perf_counter() - started
    _emit(
        "tskew",
        seconds,
        report.rows["serving"],
        setup,
        features=len(report.feature_list),
        values=_tskew_metrics(report),
    )


def run_tskew_profile(path: str, artifact: str, top: int = 25) -> None:
    """cProfile on the skew_report call: the top functions by own time and cumulative time."""
    import cProfile
    import io
    import pstats

    import tskew as ts
    import tskew.skew.detect

    tfn = ts.load(artifact)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    ts.skew_report(tfn, path)
    profiler.disable()
    seconds = time.perf_counter() - started
    text = {}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        text[key] = buf.getvalue()
    stats = pstats.Stats(profiler).stats  # (file, line, func) -> (cc, nc, tt, ct, callers)
    rows = [
        {
            "function": f"{Path(file).name}:{line}({func})",
            "file": file,
            "calls": nc,
            "tottime": tt,
            "cumtime": ct,
        }
        for (file, line, func), (_, nc, tt, ct, _) in stats.items()
    ]
    rows.sort(key=lambda r: -r["cumtime"])
    print(text["tottime"], file=sys.stderr)
    print(text["cumulative"], file=sys.stderr)
    print(json.dumps({"mode": "tskew-profile", "seconds": seconds, "functions": rows[:400]}))


# ---------------------------------------------------------------------------------- floor


def run_floor(path: str, bins_json: str) -> None:
    """The least work: read the Parquet once (row group by row group), histogram the numeric
    features on the training baseline's fixed equal-width bins (plus below/above/missing) and
    count the categories. No comparison logic, no transformed outputs."""
    from collections import Counter

    import numpy as np
    import pandas  # noqa: F401 - pyarrow imports it reading pandas-written Parquet; not timed
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    spec = json.loads(Path(bins_json).read_text())
    numeric, categorical = spec["numeric"], spec["categorical"]
    setup = rss_now_mb()
    started = time.perf_counter()
    hist = {name: np.zeros(len(e) - 1, np.int64) for name, e in numeric.items()}
    outside = {name: [0, 0, 0] for name in numeric}  # below, above, missing
    counts: dict[str, Counter] = {name: Counter() for name in categorical}
    pfile = pq.ParquetFile(path)
    rows = 0
    for rg in range(pfile.metadata.num_row_groups):
        table = pfile.read_row_group(rg, columns=[*numeric, *categorical])
        rows += table.num_rows
        for name, edges in numeric.items():
            col = table.column(name)
            x = col.cast(pa.float64()).fill_null(np.nan).to_numpy()
            lo, hi = edges[0], edges[-1]
            h, _ = np.histogram(x, bins=len(edges) - 1, range=(lo, hi))  # NaN and outside: dropped
            hist[name] += h
            outside[name][0] += int(np.count_nonzero(x < lo))
            outside[name][1] += int(np.count_nonzero(x > hi))
            outside[name][2] += int(np.count_nonzero(np.isnan(x)))
        for name in categorical:
            vc = pc.value_counts(table.column(name))
            counts[name].update(
                dict(
                    zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True)
                )
            )
    seconds = time.perf_counter() - started
    _emit("floor", seconds, rows, setup, distinct={k: len(v) for k, v in counts.items()})


# ----------------------------------------------------------------------------------- TFDV


def _tfdv_files(tfdv_dir: str) -> tuple[Path, Path]:
    return Path(tfdv_dir) / "train_stats.pb", Path(tfdv_dir) / "schema.pbtxt"


def _read_frame(path: str):
    """The Parquet file as a pandas DataFrame TFDV accepts.

    pandas 3 reads strings as Arrow-backed ``str`` columns; ``pd.read_parquet`` leaves them
    chunked, which ``pa.RecordBatch.from_pandas`` (inside generate_statistics_from_dataframe)
    rejects. One-chunk columns work and are TFDV's fastest input (faster than object strings).
    """
    import pyarrow.parquet as pq

    return pq.read_table(path).combine_chunks().to_pandas()


def run_tfdv_train(train_path: str, tfdv_dir: str) -> None:
    """TFDV statistics of the training rows, and the schema with the skew comparators."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    setup = rss_now_mb()
    started = time.perf_counter()
    frame = _read_frame(train_path)
    train_stats = tfdv.generate_statistics_from_dataframe(frame)
    seconds = time.perf_counter() - started
    schema = tfdv.infer_schema(train_stats)
    for feature in schema.feature:
        comparator = feature.skew_comparator
        if feature.type == schema_pb2.BYTES:  # categorical (the 4 string features)
            comparator.infinity_norm.threshold = 0.0  # report every measurement
        else:
            comparator.jensen_shannon_divergence.threshold = 0.0
    stats_file, schema_file = _tfdv_files(tfdv_dir)
    stats_file.parent.mkdir(parents=True, exist_ok=True)
    stats_file.write_bytes(train_stats.SerializeToString())
    tfdv.write_schema_text(schema, str(schema_file))
    _emit("tfdv-train", seconds, len(frame), setup)


def run_tfdv(path: str, tfdv_dir: str) -> None:
    """Read the Parquet into pandas, TFDV statistics, validate with skew comparators."""
    import pyarrow.parquet  # noqa: F401 - imported before the clock, like tskew's pyarrow
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

    stats_file, schema_file = _tfdv_files(tfdv_dir)
    train_stats = statistics_pb2.DatasetFeatureStatisticsList()
    train_stats.ParseFromString(stats_file.read_bytes())
    schema = tfdv.load_schema_text(str(schema_file))
    setup = rss_now_mb()
    started = time.perf_counter()
    frame = _read_frame(path)
    read = time.perf_counter()
    serving_stats = tfdv.generate_statistics_from_dataframe(frame)
    generated = time.perf_counter()
    anomalies = tfdv.validate_statistics(train_stats, schema, serving_statistics=serving_stats)
    seconds = time.perf_counter() - started
    values = {}
    for info in anomalies.drift_skew_info:
        for m in info.skew_measurements:
            kind = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(m.type)
            if kind in ("L_INFTY", "JENSEN_SHANNON_DIVERGENCE"):
                values[info.path.step[0]] = m.value
    _emit(
        "tfdv",
        seconds,
        len(frame),
        setup,
        read_seconds=read - started,
        stats_seconds=generated - read,
        validate_seconds=seconds - (generated - started),
        features=len(serving_stats.datasets[0].features),
        values=values,
    )


def main() -> None:
    mode, data, extra = sys.argv[1:4]
    {
        "tskew": run_tskew,
        "tskew-profile": run_tskew_profile,
        "floor": run_floor,
        "tfdv-train": run_tfdv_train,
        "tfdv": run_tfdv,
    }[mode](data, extra)


if __name__ == "__main__":
    main()
