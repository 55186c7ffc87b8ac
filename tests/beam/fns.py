"""Preprocessing functions shared by the Beam tests and the CLI test (importable by name)."""

import tskew as ts


def taxi_fn(inputs):
    """Three analysis phases: median -> z-score -> quantiles of the z-score."""
    fare = ts.impute(inputs["fare"], strategy="median")
    miles_z = ts.scale_to_z_score(ts.impute(inputs["trip_miles"], "median"))
    return {
        "fare_z": ts.scale_to_z_score(fare),
        "miles_b": ts.bucketize(miles_z, 4),
        "company_id": ts.compute_and_apply_vocabulary(
            ts.fill_missing(inputs["company"], ""), top_k=50, num_oov_buckets=1
        ),
        "hour_x_day": ts.hash_strings(
            ts.cross([inputs["trip_start_hour"], inputs["trip_start_day"]]), hash_buckets=100
        ),
        "tip_share": ts.clip(ts.fill_missing(inputs["tips"], 0.0) / (fare + 1.0), 0.0, 1.0),
    }


def words_fn(inputs):
    return {
        "id": ts.compute_and_apply_vocabulary(inputs["w"], num_oov_buckets=2),
        "n": ts.scale_to_z_score(inputs["n"]),
    }


def rows_fn(inputs):
    """words_fn for a nullable ``n``."""
    return {
        "id": ts.compute_and_apply_vocabulary(inputs["w"], num_oov_buckets=2),
        "n": ts.scale_to_z_score(ts.fill_missing(inputs["n"], 0.0)),
    }
