"""A row whose file (or batch) lacks a feature's column counts as missing for that feature,
the same in ts.skew_report, tskew skew-report and SkewMonitor (and Beam, tests/beam)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew import cli
from tskew.skew.detect import SkewState
from tskew.skew.monitor_checks import checked_table

RNG = np.random.default_rng(11)
INPUTS = ("x", "s", "n")


def preprocessing_fn(i):
    return {
        "x_z": ts.scale_to_z_score(ts.fill_missing(i["x"], 0.0)),
        "s_id": ts.compute_and_apply_vocabulary(i["s"], num_oov_buckets=1),
        "n_f": ts.cast(i["n"], "float64"),
    }


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": RNG.normal(0, 1, n),
            "s": RNG.choice(["a", "b", "c"], n),
            "n": RNG.integers(0, 9, n),
        }
    )


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(
        preprocessing_fn,
        _frame(3000),
        schema={"x": ts.float64(), "s": ts.string(False), "n": ts.int64(False)},
    )


def _missing_change(report, name: str) -> float:
    return report.features[name].metric("missing_rate_change").value


def test_a_file_without_the_column_counts_as_missing(tfn, tmp_path, capsys):
    ok, nox = tmp_path / "ok.csv", tmp_path / "nox.csv"
    _frame(300).to_csv(ok, index=False)
    _frame(300).drop(columns=["x"]).to_csv(nox, index=False)
    report = ts.skew_report(tfn, [str(ok), str(nox)])
    assert report.features["x"].serving_rows == 600
    assert _missing_change(report, "x") == pytest.approx(0.5)
    assert report.features["x"].verdict == "error" and not report.passed
    assert report.missing_features == []  # the column exists, in one file

    monitor = ts.SkewMonitor(tfn, window=10**6)
    monitor.observe(pd.read_csv(ok))
    monitor.observe(pd.read_csv(nox))
    assert _missing_change(monitor.report(), "x") == _missing_change(report, "x")
    lone = ts.SkewMonitor(tfn, window=10**6)
    lone.observe(pd.read_csv(nox))  # flushed alone, not concatenated with a file that has x
    assert _missing_change(lone.report(), "x") == pytest.approx(1.0)

    args = ["skew-report", "--artifact", str(tfn.save(tmp_path / "a")), "--format", "json"]
    assert cli.main([*args, "--serving", str(ok), str(nox)]) == 1
    doc = json.loads(capsys.readouterr().out)
    x = next(f for f in doc["features"] if f["name"] == "x")
    assert {m["name"]: m["value"] for m in x["metrics"]}["missing_rate_change"] == 0.5


def test_a_mostly_missing_feature_alarms_instead_of_insufficient_data(tfn):
    frame = _frame(1000).astype({"x": float})
    frame.loc[50:, "x"] = np.nan  # 50 present values: too few to judge the distribution
    feature = ts.skew_report(tfn, frame).features["x"]
    assert feature.verdict == "error"
    assert _missing_change_of(feature) == pytest.approx(0.95)
    assert ts.skew_report(tfn, frame.head(40)).features["x"].verdict == "insufficient_data"


def _missing_change_of(feature) -> float:
    return feature.metric("missing_rate_change").value


chunks = st.lists(
    st.tuples(st.integers(0, 40), st.sets(st.sampled_from(INPUTS))), min_size=1, max_size=8
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunks=chunks)
def test_batch_detector_and_monitor_agree_on_any_mix_of_columns(tfn, chunks):
    """Chunks of random sizes, each without a random subset of the columns."""
    parts = [_frame(n).drop(columns=sorted(dropped)) for n, dropped in chunks]
    state = SkewState(tfn)
    monitor = ts.SkewMonitor(tfn, window=10**6, outputs=True)
    for part in parts:
        state.add(checked_table(part))  # as Arrow (keeping the rows of a column-less frame)
        monitor.observe(part)
    whole = pd.concat(parts, ignore_index=True)  # absent columns become nulls
    for name in INPUTS:
        want = int(whole[name].isna().sum()) if name in whole else len(whole)
        assert state.inputs[name].missing == want
        assert state.inputs[name].count == len(whole)
    batch, live = state.report(), monitor.report()
    for name in INPUTS:
        assert live.features[name].serving_rows == batch.features[name].serving_rows
        a, b = _missing_change(live, name), _missing_change(batch, name)
        assert a == b or (np.isnan(a) and np.isnan(b))
    assert live.features["x_z"].serving_rows == batch.features["x_z"].serving_rows
