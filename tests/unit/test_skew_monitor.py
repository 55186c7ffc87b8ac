"""SkewMonitor: exact counts under threads, row and time windows, push alerts, same reports."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew.skew.thresholds import Thresholds

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


# ---------------------------------------------------------------- issue 13: arguments
JOIN_TIMEOUT = 60  # seconds: a deadlocked monitor fails the test instead of hanging it


@pytest.mark.parametrize(
    "window", [100.5, 0.5, 0, -3, float("nan"), float("inf"), True, "100", None, [10]]
)
def test_row_windows_must_be_positive_whole_numbers(tfn, window):
    with pytest.raises(ts.ConfigError, match="window"):
        ts.SkewMonitor(tfn, window=window)


@pytest.mark.parametrize("window", [float("nan"), float("inf"), -1.0, 0, timedelta(0)])
def test_time_windows_must_be_positive_finite_seconds(tfn, window):
    with pytest.raises(ts.ConfigError, match="window"):
        ts.SkewMonitor(tfn, window=window, by="time")


def test_whole_float_row_windows_and_fractional_seconds_are_accepted(tfn):
    assert ts.SkewMonitor(tfn, window=1e3).window == 1000
    assert ts.SkewMonitor(tfn, window=0.5, by="time").window == 0.5
    assert ts.SkewMonitor(tfn, window=timedelta(milliseconds=1500)).by == "time"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"by": "minutes"}, "by"),
        ({"by": None}, "by"),
        ({"on_error": "page me"}, "on_error"),
        ({"check_every": 0}, "check_every"),
        ({"check_every": 2.5}, "check_every"),
        ({"check_every": True}, "check_every"),
        ({"outputs": "yes"}, "outputs"),
        ({"clock": 5.0}, "clock"),
        ({"clock": lambda: "noon"}, "clock"),
        ({"clock": lambda: float("nan")}, "clock"),
    ],
)
def test_every_constructor_argument_is_checked(tfn, kwargs, match):
    with pytest.raises(ts.ConfigError, match=match):
        ts.SkewMonitor(tfn, **kwargs)


def test_the_transform_fn_and_thresholds_are_checked(tfn, tmp_path):
    with pytest.raises(ts.ConfigError, match="tfn must be a TransformFn"):
        ts.SkewMonitor("artifacts/taxi")
    with pytest.raises(ts.SchemaError, match="thresholds must be"):
        ts.SkewMonitor(tfn, thresholds=5)
    toml = tmp_path / "t.toml"
    toml.write_text("[features.fair]\npsi = 'off'\n")
    with pytest.raises(ts.SchemaError, match=r"\[features.fair\].*no feature 'fair'"):
        ts.SkewMonitor(tfn, thresholds=toml)


def test_a_fractional_window_can_no_longer_spin(tfn):
    """window=100.5 used to loop forever in observe, holding the lock."""
    done = threading.Event()

    def observe():
        with contextlib.suppress(ts.ConfigError):
            ts.SkewMonitor(tfn, window=100.5).observe(_batch(300))
        done.set()

    thread = threading.Thread(target=observe, daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    assert done.is_set()


# --------------------------------------------------------------- issue 13: observe()
@pytest.mark.parametrize(
    ("batch", "match"),
    [
        ({"fare": "notalist"}, "feature 'fare' is a str"),
        ({"fare": b"12"}, "feature 'fare' is a bytes"),
        ({"fare": 12.5}, "feature 'fare' is a float"),
        ({"fare": {"a": 1}}, "feature 'fare' is a dict"),
        ({"fare": np.float64(1.0)}, "feature 'fare'"),
        ({"fare": np.zeros((3, 2))}, "feature 'fare' is a 2-dimensional"),
        ({"fare": [1.0, 2.0], "company": ["a"]}, "feature 'company' has 1 values but 'fare' has 2"),
        ({1: [1.0]}, "feature names must be strings"),
        ("serving.csv", "not paths"),
        (42, "cannot read data of type int"),
    ],
)
def test_observe_rejects_what_is_not_a_batch_naming_the_feature(tfn, batch, match):
    monitor = ts.SkewMonitor(tfn, window=10)
    with pytest.raises(ts.DataError, match=match):
        monitor.observe(batch)
    assert monitor.report().rows["serving"] == 0  # nothing half-counted
    assert not monitor.closed


def test_observe_checks_transformed_columns_at_once(tfn):
    monitor = ts.SkewMonitor(tfn, outputs=True)
    raw = pd.DataFrame(_batch(20))
    out = tfn.transform(raw)
    with pytest.raises(ts.DataError, match="output 'company_id' is missing"):
        monitor.observe(raw, transformed=out.drop(columns=["company_id"]))
    with pytest.raises(ts.DataError, match="column 'fare_zz' is not an output"):
        monitor.observe(raw, transformed=out.assign(fare_zz=1.0))
    with pytest.raises(
        ts.DataError,
        match=r"output 'fare_z' has Arrow type .*string; the TransformFn makes float64",
    ):
        monitor.observe(raw, transformed=out.assign(fare_z="x"))
    with pytest.raises(ts.DataError, match="feature 'fare_z' is a str"):
        monitor.observe(raw, transformed={"fare_z": "x", "company_id": [1] * 20})
    with pytest.raises(ts.ConfigError, match="outputs=True"):
        ts.SkewMonitor(tfn).observe(raw, transformed=out)
    monitor.observe(raw, transformed=out)
    report = monitor.report()  # no KeyError: what was accepted can be reported
    assert report.rows["serving"] == 20 and report.features["fare_z"].serving_rows == 20


def test_batches_with_and_without_transformed_outputs_mix(tfn):
    monitor = ts.SkewMonitor(tfn, outputs=True)
    raw = pd.DataFrame(_batch(30))
    monitor.observe(raw, transformed=tfn.transform(raw))
    monitor.observe(raw)
    monitor.observe(raw, transformed=tfn.transform(raw))
    assert monitor.report().features["company_id"].serving_rows == 90


# ------------------------------------------------------------- issue 13: callbacks
class _Reentrant:
    """on_error that calls back into the monitor (report and observe)."""

    def __init__(self):
        self.monitor = None
        self.calls = 0
        self._lock = threading.Lock()  # callbacks of different threads may run at once

    def __call__(self, report):
        with self._lock:
            self.calls += 1
            first = self.calls == 1
        self.monitor.report()
        if first:
            self.monitor.observe(_batch(7))


def _run_threads(target, parts) -> None:
    threads = [threading.Thread(target=target, args=(p,), daemon=True) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck: the monitor deadlocked"


def _accounted(monitor) -> int:
    closed = [r.rows["serving"] for r in monitor.closed]
    assert all(rows == monitor.window for rows in closed), closed
    return sum(closed) + monitor.report().rows["serving"]


def test_on_error_may_call_report_and_observe(tfn):
    callback = _Reentrant()
    monitor = ts.SkewMonitor(tfn, window=200, on_error=callback)
    callback.monitor = monitor
    batches = [_batch(50, shift=6.0) for _ in range(24)]
    _run_threads(lambda part: [monitor.observe(b) for b in part], [batches[k::4] for k in range(4)])
    assert callback.calls == len(monitor.closed) == 24 * 50 // 200
    assert _accounted(monitor) == 24 * 50 + 7


def test_a_raising_on_error_neither_loses_nor_double_counts_rows(tfn):
    def explode(report):
        raise RuntimeError("pager down")

    monitor = ts.SkewMonitor(tfn, window=200, on_error=explode)
    raised = []

    def worker(part):
        for b in part:
            try:
                monitor.observe(b)
            except RuntimeError as err:
                raised.append(err)

    batches = [_batch(100, shift=6.0) for _ in range(16)]
    _run_threads(worker, [batches[k::4] for k in range(4)])
    assert [r.rows["serving"] for r in monitor.closed] == [200] * 8  # not 200, 200, 200, ...
    assert len(raised) == 8 and all(str(e) == "pager down" for e in raised)
    assert monitor.report().rows["serving"] == 0


def test_every_alert_is_pushed_before_a_callback_error_surfaces(tfn):
    seen = []

    def flaky(report):
        seen.append(report.serving)
        raise RuntimeError("flaky")

    monitor = ts.SkewMonitor(tfn, window=100, on_error=flaky)
    with pytest.raises(RuntimeError, match="flaky"):
        monitor.observe(_batch(350, shift=6.0))  # closes three windows in one call
    assert len(seen) == 3 and len(monitor.closed) == 3
    assert monitor.report().rows["serving"] == 50


def test_time_window_closed_by_report_pushes_outside_the_lock(tfn):
    now = [0.0]
    callback = _Reentrant()
    monitor = ts.SkewMonitor(tfn, window=60, by="time", clock=lambda: now[0], on_error=callback)
    callback.monitor = monitor
    monitor.observe(_batch(300, shift=6.0))
    now[0] = 61.0
    done = threading.Event()
    thread = threading.Thread(target=lambda: (monitor.report(), done.set()), daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    assert done.is_set() and callback.calls == 1
    assert [r.rows["serving"] for r in monitor.closed] == [300]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    window=st.integers(20, 120),  # at most 90 windows: monitor.closed keeps 100
    sizes=st.lists(st.integers(0, 150), min_size=1, max_size=12),
    behaviour=st.sampled_from(["none", "raise", "reenter"]),
    check_every=st.none() | st.integers(1, 80),
)
def test_each_row_belongs_to_exactly_one_window(tfn, window, sizes, behaviour, check_every):
    callback = _Reentrant() if behaviour == "reenter" else None

    def explode(report):
        raise RuntimeError("boom")

    on_error = {"none": None, "raise": explode, "reenter": callback}[behaviour]
    few_rows = Thresholds(min_serving_rows=5)  # so that small windows alert too
    monitor = ts.SkewMonitor(
        tfn, window=window, on_error=on_error, check_every=check_every, thresholds=few_rows
    )
    if callback:
        callback.monitor = monitor
    raised = []

    def observe_all(_):
        for n in sizes:
            try:
                monitor.observe(_batch(n, shift=6.0))
            except RuntimeError:
                raised.append(n)

    _run_threads(observe_all, [None])  # in a thread: a deadlock fails instead of hanging
    assert not raised or behaviour == "raise"
    extra = 7 if callback and callback.calls else 0
    assert _accounted(monitor) == sum(sizes) + extra
    assert len(monitor.closed) == (sum(sizes) + extra) // window
    if behaviour != "none" and monitor.closed:
        assert raised or callback.calls  # the callback did run
