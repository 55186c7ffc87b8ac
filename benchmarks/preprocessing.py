"""The benchmark's feature preprocessing, written once for tskew and once for TFT.

Eleven input columns: three z-scores, a 0-1 scaling, two quantile bucketizations,
four vocabularies (two with top-k and an OOV bucket), one cast and division.
"""

from __future__ import annotations


def tskew_fn(inputs):
    import tskew as ts

    dep_delay = ts.fill_missing(inputs["dep_delay"], 0.0)
    arr_delay = ts.fill_missing(inputs["arr_delay"], 0.0)
    air_time = ts.fill_missing(inputs["air_time"], 0.0)
    return {
        "dep_delay_z": ts.scale_to_z_score(dep_delay),
        "arr_delay_z": ts.scale_to_z_score(arr_delay),
        "air_time_01": ts.scale_to_0_1(air_time),
        "distance_b": ts.bucketize(inputs["distance"], num_buckets=10),
        "hour_b": ts.bucketize(inputs["hour"], num_buckets=4),
        "carrier_id": ts.compute_and_apply_vocabulary(inputs["carrier"]),
        "origin_id": ts.compute_and_apply_vocabulary(inputs["origin"]),
        "dest_id": ts.compute_and_apply_vocabulary(inputs["dest"], top_k=50, num_oov_buckets=1),
        "tailnum_id": ts.compute_and_apply_vocabulary(
            ts.fill_missing(inputs["tailnum"], ""), top_k=1000, num_oov_buckets=1
        ),
        "month_x": ts.cast(inputs["month"], "float32") / 12.0,
        "dep_time_z": ts.scale_to_z_score(ts.fill_missing(inputs["dep_time"], 0.0)),
    }


def tft_fn(inputs):
    """The same in TFT; inputs are SparseTensors (0 or 1 value per row)."""
    import tensorflow as tf
    import tensorflow_transform as tft

    def dense(name, default):
        x = inputs[name]
        filled = tft.sparse_tensor_to_dense_with_shape(x, [None, 1], default_value=default)
        filled = tf.squeeze(filled, axis=1)
        # TFT's output specs allow float32 but not float64
        return tf.cast(filled, tf.float32) if filled.dtype == tf.float64 else filled

    dep_delay = dense("dep_delay", 0.0)
    arr_delay = dense("arr_delay", 0.0)
    air_time = dense("air_time", 0.0)
    return {
        "dep_delay_z": tft.scale_to_z_score(dep_delay),
        "arr_delay_z": tft.scale_to_z_score(arr_delay),
        "air_time_01": tft.scale_to_0_1(air_time),
        "distance_b": tft.bucketize(dense("distance", 0), num_buckets=10),
        "hour_b": tft.bucketize(dense("hour", 0), num_buckets=4),
        "carrier_id": tft.compute_and_apply_vocabulary(dense("carrier", b"")),
        "origin_id": tft.compute_and_apply_vocabulary(dense("origin", b"")),
        "dest_id": tft.compute_and_apply_vocabulary(
            dense("dest", b""), top_k=50, num_oov_buckets=1
        ),
        "tailnum_id": tft.compute_and_apply_vocabulary(
            dense("tailnum", b""), top_k=1000, num_oov_buckets=1
        ),
        "month_x": tf.cast(dense("month", 0), tf.float32) / 12.0,
        "dep_time_z": tft.scale_to_z_score(dense("dep_time", 0.0)),
    }


def tft_raw_input(pipeline, path):
    """TFT's fastest input: (RecordBatches read in the pipeline, TensorAdapterConfig).

    The Parquet file holds list columns; every feature is a varlen sparse tensor.
    """
    import apache_beam as beam
    import pyarrow.parquet as pq
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx_bsl.public import tfxio

    class ReadRecordBatches(beam.DoFn):
        def process(self, file_path):
            yield from pq.ParquetFile(file_path).iter_batches(batch_size=1 << 16)

    arrow_schema = pq.read_schema(path)
    representations = {}
    for name in arrow_schema.names:
        rep = schema_pb2.TensorRepresentation()
        rep.varlen_sparse_tensor.column_name = name
        representations[name] = rep
    config = tfxio.TensorAdapterConfig(arrow_schema, representations)
    raw = pipeline | beam.Create([str(path)]) | beam.ParDo(ReadRecordBatches())
    return raw, config
