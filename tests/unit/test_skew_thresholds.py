"""Thresholds: every TOML mistake is an error naming the key, never silently ignored."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew.skew.thresholds import DEFAULTS, Thresholds


@pytest.fixture(scope="module")
def tfn():
    rng = np.random.default_rng(5)
    fn = lambda i: {"fare_z": ts.scale_to_z_score(i["fare"])}
    return ts.analyze(fn, {"fare": rng.normal(10, 2, 1000)})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("psy = 'off'\n", r"unknown keys \['psy'\]"),
        ("[defaults]\npsy = 'off'\n", r"\[defaults\] psy: unknown metric"),
        ("[features.fare]\npsy = 'off'\n", r"\[features.fare\] psy: unknown metric"),
        ("[features.fare]\npsy = { error = 1 }\n", r"\[features.fare\] psy: unknown metric"),
        ("[defaults]\npsi = { warn = nan }\n", r"\[defaults\] psi.warn must be a finite number"),
        ("[defaults]\npsi = { error = inf }\n", r"psi.error must be a finite number.*off"),
        ("[defaults]\npsi = { warn = 0.3, error = 0.2 }\n", r"psi: warn 0.3 is above error 0.2"),
        ("[features.fare]\npsi = { error = 0.05 }\n", r"warn 0.1 is above error 0.05.*default"),
        ("[defaults]\npsi = { warn = true }\n", r"psi.warn must be a number, got True"),
        ("[features.fare]\npsi = { error = false }\n", r"psi.error must be a number, got False"),
        ("[defaults]\npsi = { error = '0.2' }\n", r"psi.error must be a number, got '0.2'"),
        ("[defaults]\npsi = {}\n", r"psi: expected \{ warn = x, error = y \}"),
        ("[defaults]\npsi = { warn = 0.1, eror = 0.2 }\n", r"psi: expected \{ warn"),
        ("[defaults]\npsi = 'of'\n", r"psi: expected .* or \"off\", got 'of'"),
        ("defaults = 5\n", r"defaults must be a table \(\[defaults\]"),
        ("features = 5\n", r"features must be a table \(\[features\]"),
        ("features = { fare = 5 }\n", r"\[features.fare\] must be a table of metrics"),
        ("min_serving_rows = true\n", r"min_serving_rows must be an integer >= 0, got True"),
        ("min_serving_rows = -1\n", r"min_serving_rows must be an integer >= 0"),
        ("min_serving_rows = 1.5\n", r"min_serving_rows must be an integer >= 0"),
        ("[defaults\n", "not valid TOML"),
    ],
)
def test_toml_mistakes_are_rejected_naming_the_key(text, match):
    with pytest.raises(ts.SchemaError, match=match) as err:
        Thresholds.from_toml_text(text, "skew.toml")
    assert str(err.value).startswith("skew.toml")


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "skew.toml"
    path.write_bytes(b"min_serving_rows = 10\n# caf\xe9\n")
    with pytest.raises(ts.SchemaError, match=r"skew.toml:2: not valid UTF-8"):
        Thresholds.from_toml(path)
    with pytest.raises(ts.SchemaError, match="No such file"):
        Thresholds.from_toml(tmp_path / "absent.toml")


def test_unknown_features_are_rejected_wherever_thresholds_meet_a_transform_fn(tfn, tmp_path):
    path = tmp_path / "skew.toml"
    path.write_text("[features.fair]\npsi = 'off'\n")
    data = {"fare": np.linspace(5, 15, 200)}
    match = r"skew.toml: \[features.fair\]: .* no feature 'fair'; known features: fare, fare_z"
    with pytest.raises(ts.SchemaError, match=match):
        ts.skew_report(tfn, data, path)
    with pytest.raises(ts.SchemaError, match=match):
        ts.SkewMonitor(tfn, thresholds=path)
    # outputs are features too
    ok = Thresholds.from_toml_text("[features.fare_z]\npsi = 'off'\n")
    assert "psi" not in {m.name for m in ts.skew_report(tfn, data, ok).features["fare_z"].metrics}


def test_thresholds_built_in_code_are_checked_too():
    with pytest.raises(ts.SchemaError, match=r"\[defaults\] psy: unknown metric"):
        Thresholds(defaults={"psy": (0.1, 0.2)})
    with pytest.raises(ts.SchemaError, match=r"warn 0.5 is above error 0.2"):
        Thresholds(features={"fare": {"psi": (0.5, 0.2)}})
    with pytest.raises(ts.SchemaError, match="warn must be a finite number"):
        Thresholds(defaults={"psi": (math.nan, 0.2)})
    with pytest.raises(ts.SchemaError, match="min_serving_rows"):
        Thresholds(min_serving_rows=True)


def test_off_everywhere_and_a_metric_switched_back_on_for_one_feature():
    t = Thresholds.from_toml_text(
        "[defaults]\npsi = 'off'\n[features.fare]\npsi = { error = 0.5 }\n"
    )
    assert t.levels("tips", "psi") is None
    assert t.levels("fare", "psi") == (None, 0.5)


levels = st.one_of(st.none(), st.floats(-1e6, 1e6), st.integers(-1000, 1000))


@settings(max_examples=200, deadline=None)
@given(
    metric=st.sampled_from(sorted(DEFAULTS)), warn=levels, error=levels, per_feature=st.booleans()
)
def test_any_spec_is_either_used_as_written_or_rejected(metric, warn, error, per_feature):
    spec = ", ".join(f"{k} = {v!r}" for k, v in (("warn", warn), ("error", error)) if v is not None)
    table = "[features.fare]" if per_feature else "[defaults]"
    text = f"{table}\n{metric} = {{ {spec} }}\n"
    default_warn, default_error = DEFAULTS[metric]
    want = (default_warn if warn is None else warn, default_error if error is None else error)
    if not spec or want[0] > want[1]:
        with pytest.raises(ts.SchemaError, match=metric):
            Thresholds.from_toml_text(text)
        return
    assert Thresholds.from_toml_text(text).levels("fare", metric) == want
