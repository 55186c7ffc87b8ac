"""SkewMonitor: exact counts under threads, row and time windows, push alerts, same reports."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import tskew as ts

RNG = np.random.default_rng(3)


def preprocessing_fn(i):
    return {
        "fare_z": ts.scale_to_z_score(ts.fill_missing(i["fare"], 0.0)),
        "company_id": ts.compute_and_apply_vocabulary(i["company"], num_oov_buckets=1),
    }


def _batch(n: int, shift: float = 0.0) -> dict:
    return {"fare": RNG.normal(10 + shift, 2, n), "company": RNG.choice(["a", "b", "c"], n)}


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, _batch(5000))


def test_eight_threads_lose_no_observation(tfn):
    monitor = ts.SkewMonitor(tfn, window=10**9)
    batches = [_batch(97) for _ in range(8 * 25)]

    def worker(part):
        for b in part:
            monitor.observe(b)

    threads = [threading.Thread(target=worker, args=(batches[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = monitor.report()
    assert report.rows["serving"] == 8 * 25 * 97
    assert report.features["fare"].serving_rows == 8 * 25 * 97
    want = ts.skew_report(tfn, pd.concat([pd.DataFrame(b) for b in batches]))
    assert report.features["company"].metric("linf_distance").value == pytest.approx(
        want.features["company"].metric("linf_distance").value, abs=0
    )


def test_row_windows_split_batches_exactly_and_push_once(tfn):
    alerts = []
    monitor = ts.SkewMonitor(tfn, window=1000, on_error=alerts.append)
    monitor.observe(_batch(2500))  # 1000 + 1000 + 500 open
    monitor.observe(_batch(600, shift=4.0))  # closes the third window (500 + 500), drifted
    assert [r.rows["serving"] for r in monitor.closed] == [1000, 1000, 1000]
    assert [r.passed for r in monitor.closed] == [True, True, False]
    assert len(alerts) == 1 and not alerts[0].passed
    assert monitor.report().rows["serving"] == 100


def test_time_windows_with_a_fake_clock(tfn):
    now = [0.0]
    monitor = ts.SkewMonitor(tfn, window=60, by="time", clock=lambda: now[0])
    monitor.observe(_batch(300))
    now[0] = 30.0
    monitor.observe(_batch(300))
    now[0] = 61.0
    monitor.observe(_batch(200))  # a new window starts with these rows
    assert [r.rows["serving"] for r in monitor.closed] == [600]
    assert monitor.report().rows["serving"] == 200


def test_mid_window_checks_and_transformed_outputs(tfn):
    alerts = []
    monitor = ts.SkewMonitor(
        tfn, window=10**6, check_every=500, outputs=True, on_error=alerts.append
    )
    raw = pd.DataFrame(_batch(1000, shift=5.0))
    monitor.observe(raw, transformed=tfn.transform(raw))
    assert len(alerts) == 1  # fired at the first check, not again for the same features
    report = monitor.report()
    assert report.features["fare_z"].verdict == "error"
    assert report.features["fare_z"].serving_rows == 1000


def test_bad_arguments(tfn):
    with pytest.raises(ValueError, match="window"):
        ts.SkewMonitor(tfn, window=0)
    with pytest.raises(ValueError, match="by"):
        ts.SkewMonitor(tfn, by="minutes")
    monitor = ts.SkewMonitor(tfn, outputs=True)
    with pytest.raises(ts.DataError, match="rows"):
        monitor.observe(_batch(10), transformed=tfn.transform(_batch(5)))
