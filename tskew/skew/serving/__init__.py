"""Serving data for the skew detector: files, tables and TF Serving request logs, read leniently.

`reading` turns CSV, Parquet, JSONL (plain rows or TF Serving REST bodies), DataFrames and
Arrow into raw chunks; `prediction_log` reads TF Serving ``PredictionLog`` TFRecord files
(framing and CRCs by `tskew.io.tfrecord`).
"""
