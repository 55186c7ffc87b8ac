"""The skew detector end to end: drift found, no false alarms, bad input reported, CLI exits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tskew as ts
from tskew import cli

RNG = np.random.default_rng(7)
N = 4000


def preprocessing_fn(i):
    return {
        "fare_z": ts.scale_to_z_score(ts.impute(i["fare"], "median")),
        "company_id": ts.compute_and_apply_vocabulary(i["company"], top_k=3, num_oov_buckets=1),
        "trips_bucket": ts.bucketize(i["trips"], 4),
    }


def _frame(n: int, shift: float = 0.0, companies=("a", "b", "c", "d")) -> pd.DataFrame:
    fare = RNG.normal(10.0 + shift, 2.0, n)
    fare[RNG.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "fare": fare,
            "company": RNG.choice(list(companies), n, p=None),
            "trips": RNG.integers(0, 50, n),
        }
    )


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, _frame(N))


def test_same_distribution_passes_without_false_alarms(tfn):
    report = ts.skew_report(tfn, _frame(N))
    assert report.passed, report.render("text", color=False)
    assert {f.verdict for f in report.feature_list} == {"ok"}
    names = {"fare", "company", "trips", "fare_z", "company_id", "trips_bucket"}
    assert set(report.features) == names


def test_numeric_shift_and_new_category_are_errors(tfn):
    report = ts.skew_report(tfn, _frame(N, shift=3.0, companies=("a", "b", "zz")))
    assert not report.passed
    fare = report.features["fare"]
    assert fare.metric("kolmogorov_smirnov").verdict == "error"
    assert fare.metric("jensen_shannon_divergence").value > 0.1
    assert fare.metric("kolmogorov_smirnov").value == pytest.approx(0.55, abs=0.08)
    company = report.features["company"]
    assert company.metric("unseen_share").value == pytest.approx(1 / 3, abs=0.05)
    assert company.metric("linf_distance").verdict == "error"
    # The transformed output shows it too: "zz" is out of the vocabulary.
    assert report.features["company_id"].metric("oov_share").value > 0.2
    assert ("fare", "kolmogorov_smirnov") in {(f, m) for f, m, _ in report.drifting(limit=20)}


def test_small_samples_report_insufficient_data_not_alarms(tfn):
    report = ts.skew_report(tfn, _frame(10, shift=5.0))
    assert report.features["fare"].verdict == "insufficient_data"
    assert report.passed


def test_schema_problems_and_dtype_violations_with_locations(tfn, tmp_path):
    frame = _frame(500)
    frame["debug_id"] = 1
    frame = frame.drop(columns=["trips"]).astype({"fare": object})
    frame.loc[3, "fare"] = "twelve"
    path = tmp_path / "serving.csv"
    frame.to_csv(path, index=False)
    report = ts.skew_report(tfn, str(path))
    assert report.missing_features == ["trips"] and not report.passed
    assert report.unexpected_features == ["debug_id"]
    assert report.dtype_violations == {"fare": 1}
    assert report.bad_record_examples[0]["source"] == f"{path}:5"  # header is line 1
    assert "twelve" in report.bad_record_examples[0]["reason"]
    # The row with the bad fare still counts for company.
    assert report.features["company"].serving_rows == 500
    assert report.features["fare"].metric("dtype_violation_share").value == pytest.approx(1 / 500)


def test_tf_serving_rest_bodies_and_broken_lines(tfn, tmp_path):
    rows = _frame(300).to_dict("records")
    lines = [json.dumps({"instances": rows[:100]}, allow_nan=True)]
    columns = {k: [r[k] for r in rows[100:200]] for k in rows[0]}
    lines.append(json.dumps({"inputs": columns}, allow_nan=True))
    lines.append("{not json")
    lines += [json.dumps(r, allow_nan=True) for r in rows[200:]]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = ts.skew_report(tfn, str(path))
    assert report.rows["serving"] == 300
    assert report.rows["bad_records"] == 1
    assert report.bad_record_examples[0]["source"] == f"{path}:3"
    assert report.features["trips"].serving_rows == 300


def test_thresholds_toml_overrides_and_errors(tfn, tmp_path):
    drifted = _frame(N, shift=3.0)
    toml = tmp_path / "skew.toml"
    toml.write_text(
        "min_serving_rows = 50\n"
        "[defaults]\nkolmogorov_smirnov = { warn = 0.9, error = 0.95 }\n"
        "[features.fare]\njensen_shannon_divergence = 'off'\npsi = 'off'\n"
        "wasserstein_normalized = { error = 5.0 }\nshare_outside_training_range = 'off'\n"
        "[features.fare_z]\njensen_shannon_divergence = 'off'\npsi = 'off'\n"
        "wasserstein_normalized = 'off'\nshare_outside_training_range = 'off'\n"
        "[features.trips_bucket]\npsi = 'off'\n"
    )
    report = ts.skew_report(tfn, drifted, str(toml))
    fare = report.features["fare"]
    assert {m.name for m in fare.metrics} >= {"kolmogorov_smirnov", "wasserstein_normalized"}
    assert "psi" not in {m.name for m in fare.metrics}
    assert fare.metric("kolmogorov_smirnov").verdict == "ok"
    toml.write_text("[defaults]\nnot_a_metric = { error = 1 }\n")
    with pytest.raises(ts.SchemaError, match="unknown metric"):
        ts.skew_report(tfn, drifted, str(toml))


def test_cli_exit_codes_and_formats(tfn, tmp_path, capsys):
    artifact = tfn.save(tmp_path / "artifact")
    same, drifted = tmp_path / "same.parquet", tmp_path / "drifted.parquet"
    _frame(N).to_parquet(same)
    _frame(N, shift=3.0).to_parquet(drifted)
    assert cli.main(["skew-report", "--artifact", str(artifact), "--serving", str(same)]) == 0
    assert "PASSED" in capsys.readouterr().out
    html = tmp_path / "report.html"
    args = ["skew-report", "--artifact", str(artifact), "--serving", str(drifted)]
    assert cli.main([*args, "--format", "html", "--output", str(html)]) == 1
    assert "feature-fare" in html.read_text()
    capsys.readouterr()
    assert cli.main([*args, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["passed"] is False
    assert cli.main([*args[:3], "--serving", str(tmp_path / "nope-*.csv")]) == 2
    assert "nope" in capsys.readouterr().err


def test_artifacts_without_a_skew_baseline_are_refused(tfn):
    import copy

    old = copy.copy(tfn)
    old.statistics = copy.deepcopy(tfn.statistics)
    old.statistics.inputs["fare"].percentiles = []  # as analyzed by an older tskew
    with pytest.raises(ts.ArtifactError, match="'fare' has no skew baseline"):
        ts.skew_report(old, _frame(200), artifact="artifacts/old")
    with pytest.raises(ts.ArtifactError, match="no skew baseline"):
        ts.SkewMonitor(old)
