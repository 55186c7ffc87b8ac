"""The skew report: per-feature metrics with verdicts, serialisable and renderable.

``to_json()`` follows a versioned schema (``schema_version`` 1, documented in the
README): top-level ``passed``, ``rows``, ``schema`` problems, ``bad_record_examples``
and one entry per feature with its ``metrics`` and the distributions drawn in the
HTML page.

Example:
    >>> m = MetricResult("psi", 0.3, 0.1, 0.25)
    >>> m.verdict
    'error'
    >>> f = FeatureSkew("fare", "input", "numeric", "float64", 1000, 900, [m])
    >>> SkewReport([f], rows={"training": 1000, "serving": 900}).passed
    False
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
VERDICTS = ("ok", "insufficient_data", "warn", "error")  # in increasing severity


@dataclass
class MetricResult:
    """One metric of one feature, judged against its thresholds."""

    name: str
    value: float
    warn: float | None = None
    error: float | None = None
    detail: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None or math.isnan(self.value):
            return "ok"
        if self.error is not None and self.value > self.error:
            return "error"
        if self.warn is not None and self.value > self.warn:
            return "warn"
        return "ok"

    def to_json(self) -> dict:
        value = None if self.value is None or math.isnan(self.value) else self.value
        return {
            "name": self.name,
            "value": value,
            "warn": self.warn,
            "error": self.error,
            "verdict": self.verdict,
            "detail": self.detail,
        }


@dataclass
class FeatureSkew:
    """All metrics of one raw input or transformed output."""

    name: str
    role: str  # "input" | "output"
    kind: str  # "numeric" | "categorical"
    dtype: str
    training_rows: int
    serving_rows: int
    metrics: list[MetricResult] = field(default_factory=list)
    insufficient: bool = False
    distribution: dict[str, Any] = field(default_factory=dict)  # "histogram" or "categories"

    @property
    def verdict(self) -> str:
        if self.insufficient:
            return "insufficient_data"
        return max((m.verdict for m in self.metrics), key=VERDICTS.index, default="ok")

    def metric(self, name: str) -> MetricResult:
        return next(m for m in self.metrics if m.name == name)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "kind": self.kind,
            "dtype": self.dtype,
            "verdict": self.verdict,
            "training_rows": self.training_rows,
            "serving_rows": self.serving_rows,
            "metrics": [m.to_json() for m in self.metrics],
            **self.distribution,
        }


@dataclass
class SkewReport:
    """Serving data vs the training baseline, feature by feature."""

    feature_list: list[FeatureSkew]
    rows: dict[str, int] = field(default_factory=dict)
    missing_features: list[str] = field(default_factory=list)
    unexpected_features: list[str] = field(default_factory=list)
    dtype_violations: dict[str, int] = field(default_factory=dict)
    bad_record_examples: list[dict[str, str]] = field(default_factory=list)
    artifact: str = ""
    serving: str = ""

    @property
    def features(self) -> dict[str, FeatureSkew]:
        """Feature name -> its result (an output named like an input: ``output:<name>``)."""
        out: dict[str, FeatureSkew] = {}
        for f in self.feature_list:
            out[f.name if f.name not in out else f"output:{f.name}"] = f
        return out

    @property
    def passed(self) -> bool:
        """No error verdict and no feature missing from the serving data."""
        return not self.missing_features and all(f.verdict != "error" for f in self.feature_list)

    def drifting(self, limit: int = 5) -> list[tuple[str, str, float]]:
        """The worst (feature, metric, value) beyond a warn level, worst verdict first."""
        found = [
            (f.name, m.name, m.value, VERDICTS.index(m.verdict))
            for f in self.feature_list
            for m in f.metrics
            if m.verdict in ("warn", "error")
        ]
        found.sort(key=lambda t: (-t[3], -(t[2] / _level(self, t[0], t[1]))))
        return [(name, metric, value) for name, metric, value, _ in found[:limit]]

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": "tskew",
            "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "artifact": self.artifact,
            "serving": self.serving,
            "passed": self.passed,
            "rows": dict(self.rows),
            "bad_record_examples": list(self.bad_record_examples),
            "schema": {
                "missing_features": list(self.missing_features),
                "unexpected_features": list(self.unexpected_features),
                "dtype_violations": dict(self.dtype_violations),
            },
            "features": [f.to_json() for f in self.feature_list],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False)

    def render(self, fmt: str = "text", color: bool | None = None) -> str:
        """The report as ``text`` (a terminal table), ``json``, ``markdown`` or ``html``."""
        from tskew.skew import render

        if fmt == "json":
            return self.to_json_text()
        renderers = {
            "text": lambda d: render.render_text(d, color=color),
            "markdown": render.render_markdown,
            "html": render.render_html,
        }
        if fmt not in renderers:
            raise ValueError(f"format must be one of text, json, markdown, html; got {fmt!r}")
        return renderers[fmt](self.to_json())

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML page (no network needed to view it)."""
        path = Path(path)
        path.write_text(self.render("html"), encoding="utf-8")
        return path

    def __str__(self) -> str:
        return self.render("text", color=False)


def _level(report: SkewReport, feature: str, metric: str) -> float:
    for f in report.feature_list:
        if f.name == feature:
            m = f.metric(metric)
            level = m.error if m.verdict == "error" else m.warn
            return level if level else 1.0
    return 1.0
