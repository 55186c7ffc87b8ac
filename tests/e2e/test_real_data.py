"""End to end on real data: the Chicago taxi CSV and UCI Adult, checked against pandas."""

from __future__ import annotations

import math

import mmh3
import numpy as np
import pandas as pd
import pytest

import tskew as ts
from tests.conftest import shared_file


def taxi_fn(inputs):
    """The issue's example preprocessing_fn, verbatim."""
    fare = ts.impute(inputs["fare"], strategy="median")
    return {
        "fare_z": ts.scale_to_z_score(fare),
        "miles_bucket": ts.bucketize(ts.fill_missing(inputs["trip_miles"], 0.0), num_buckets=10),
        "company_id": ts.compute_and_apply_vocabulary(
            ts.fill_missing(inputs["company"], ""), top_k=50, num_oov_buckets=1
        ),
        "hour_x_day": ts.hash_strings(
            ts.cross([inputs["trip_start_hour"], inputs["trip_start_day"]]), hash_buckets=100
        ),
        "tip_share": ts.clip(ts.fill_missing(inputs["tips"], 0.0) / (fare + 1.0), 0.0, 1.0),
    }


def tfft_vocab(series: pd.Series, top_k: int) -> list[str]:
    """Reference vocabulary: count desc, ties by value desc (TFT's rule)."""
    counts = series.value_counts()
    by_value = sorted(counts.index, key=lambda k: k.encode(), reverse=True)
    return sorted(by_value, key=lambda k: -counts[k])[:top_k]  # stable sort keeps ties


@pytest.fixture(scope="module")
def taxi(tmp_path_factory):
    path = shared_file("chicago_taxi/data.csv")
    tfn = ts.analyze(taxi_fn, str(path))
    return path, tfn


def test_taxi_statistics_match_pandas(taxi):
    path, tfn = taxi
    df = pd.read_csv(path)
    assert tfn.statistics.num_rows == len(df) == 15002
    fare = df["fare"].dropna().to_numpy()
    median = np.sort(fare)[len(fare) // 2]
    filled = df["fare"].fillna(median).to_numpy()
    stats = tfn.statistics.inputs["fare"]
    assert stats.missing == df["fare"].isna().sum()
    assert stats.mean == math.fsum(fare) / len(fare)
    # the z-score uses the exact mean/var of the imputed fare
    out = tfn.transform(df)
    z = out["fare_z"].to_numpy()
    want = (filled - math.fsum(filled) / len(filled)) / np.std(filled)
    np.testing.assert_allclose(z, want, rtol=1e-12, atol=1e-12)
    # quantile boundaries are exact: position (k*n)//10 of the sorted filled miles
    miles = np.sort(df["trip_miles"].fillna(0.0).to_numpy())
    bounds = [miles[(k * len(miles)) // 10] for k in range(1, 10)]
    want_bucket = np.searchsorted(bounds, df["trip_miles"].fillna(0.0), side="right")
    assert (out["miles_bucket"].to_numpy() == want_bucket).all()
    vocab = tfft_vocab(df["company"].fillna(""), 50)
    ids = out["company_id"].to_numpy()
    company = df["company"].fillna("")
    in_vocab = company.isin(vocab).to_numpy()
    assert (ids[in_vocab] == [vocab.index(c) for c in company[in_vocab]]).all()
    assert (ids[~in_vocab] == 50).all()
    crosses = df["trip_start_hour"].astype(str) + "_X_" + df["trip_start_day"].astype(str)
    assert (
        out["hour_x_day"].to_numpy()
        == [mmh3.hash(c.encode(), 0, signed=False) % 100 for c in crosses]
    ).all()
    assert out["tip_share"].between(0.0, 1.0).all()


def test_taxi_save_load_transform_identical(taxi, tmp_path):
    path, tfn = taxi
    loaded = ts.load(tfn.save(tmp_path / "taxi"))
    df = pd.read_csv(path).sample(2000, random_state=0)
    pd.testing.assert_frame_equal(loaded.transform(df), tfn.transform(df))
    assert "fare_z" in str(loaded)


ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "label",
]


def read_adult(name: str) -> pd.DataFrame:
    path = shared_file(f"adult/{name}")
    skip = 1 if name == "adult.test" else 0
    df = pd.read_csv(
        path, names=ADULT_COLUMNS, sep=",", skipinitialspace=True, na_values=["?"], skiprows=skip
    )
    df["label"] = df["label"].str.rstrip(".")
    return df


def adult_fn(inputs):
    return {
        "age_z": ts.scale_to_z_score(inputs["age"]),
        "hours_b": ts.bucketize(inputs["hours_per_week"], 5),
        "gain_log": ts.log1p(inputs["capital_gain"]),
        "education_id": ts.compute_and_apply_vocabulary(inputs["education"]),
        "occupation_id": ts.compute_and_apply_vocabulary(
            ts.impute(inputs["occupation"], "most_frequent"), num_oov_buckets=2
        ),
        "country_x_sex": ts.hash_strings(
            ts.cross([ts.fill_missing(inputs["native_country"], "?"), inputs["sex"]]), 64
        ),
        "label": ts.cast(inputs["label"] == ">50K", "int64"),
    }


def test_adult_train_and_transform_test_set(tmp_path):
    train, test = read_adult("adult.data"), read_adult("adult.test")
    tfn = ts.analyze(adult_fn, train)
    assert tfn.statistics.num_rows == 32561
    age = train["age"].to_numpy()
    assert tfn.statistics.inputs["age"].mean == math.fsum(age) / len(age)
    assert tfn.statistics.inputs["occupation"].missing == train["occupation"].isna().sum()
    out = ts.load(tfn.save(tmp_path / "adult")).transform(test)
    assert len(out) == 16281 and list(out.index) == list(test.index)
    vocab = tfft_vocab(train["education"], 100)
    assert (out["education_id"] == [vocab.index(e) for e in test["education"]]).all()
    assert out["label"].sum() == (test["label"] == ">50K").sum()
    mode = train["occupation"].value_counts().idxmax()
    assert tfn.transform(
        pd.DataFrame({**{c: test[c].iloc[:1] for c in tfn.input_schema}, "occupation": [None]})
    )["occupation_id"].iloc[0] == tfft_vocab(train["occupation"].fillna(mode), 100).index(mode)
