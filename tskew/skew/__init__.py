"""Skew detection: serving data compared with the training statistics an artifact carries.

Three parts, each its own layer:

* detection (this package's modules): `detect` (`skew_report`, `SkewState`), the streaming
  `accumulate` counts, `metrics`, `thresholds`, the `report` data, `monitor`
  (`SkewMonitor`, its argument checks in `monitor_checks`) and `feature_skew`;
* `serving`: reading serving data and TF Serving request logs;
* `render`: the report as text, Markdown or HTML (one module per format).

The public names below are loaded on first use, so importing one part does not load the rest
(`feature_skew` is not among them: it is also the name of its module).

Example:
    >>> import tskew.skew as skew
    >>> skew.SkewReport is skew.report.SkewReport
    True
"""

from __future__ import annotations

from tskew.lazy import lazy_exports

_PUBLIC = {
    "skew_report": "tskew.skew.detect",
    "SkewState": "tskew.skew.detect",
    "SkewReport": "tskew.skew.report",
    "FeatureSkew": "tskew.skew.report",
    "MetricResult": "tskew.skew.report",
    "Thresholds": "tskew.skew.thresholds",
    "SkewMonitor": "tskew.skew.monitor",
    "read_prediction_log": "tskew.skew.serving.prediction_log",
    "PredictionLogPath": "tskew.skew.serving.prediction_log",
    "render_text": "tskew.skew.render",
    "render_markdown": "tskew.skew.render",
    "render_html": "tskew.skew.render",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_exports('tskew.skew', _PUBLIC, globals())
