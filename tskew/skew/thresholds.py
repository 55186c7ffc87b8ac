"""Skew thresholds: a default per metric, per-feature overrides, warn and error levels.

A TOML file looks like::

    min_serving_rows = 200              # fewer present values: "insufficient data"

    [defaults]
    psi = { warn = 0.1, error = 0.25 }

    [features.fare]
    jensen_shannon_divergence = { warn = 0.2, error = 0.4 }
    psi = "off"                         # not judged for this feature

A metric whose value exceeds ``error`` fails the report; above ``warn`` it warns.

Example:
    >>> t = Thresholds.from_toml_text('[features.fare]\\npsi = { error = 0.5 }')
    >>> t.levels("fare", "psi"), t.levels("tips", "psi")
    ((0.1, 0.5), (0.1, 0.25))
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tskew.errors import SchemaError

# metric -> (warn, error). The README's metric table documents each one.
DEFAULTS: dict[str, tuple[float | None, float | None]] = {
    "linf_distance": (0.05, 0.1),
    "jensen_shannon_divergence": (0.05, 0.1),
    "psi": (0.1, 0.25),
    "kolmogorov_smirnov": (0.1, 0.2),
    "wasserstein_normalized": (0.1, 0.25),
    "share_outside_training_range": (0.01, 0.05),
    "unseen_share": (0.01, 0.05),
    "oov_share": (0.01, 0.05),
    "missing_rate_change": (0.02, 0.05),
    "dtype_violation_share": (0.0, 0.01),
}
MIN_SERVING_ROWS = 100
Levels = tuple[float | None, float | None]


@dataclass
class Thresholds:
    """Warn/error levels per metric, with per-feature overrides."""

    defaults: dict[str, Levels] = field(default_factory=lambda: dict(DEFAULTS))
    features: dict[str, dict[str, Levels | None]] = field(default_factory=dict)
    min_serving_rows: int = MIN_SERVING_ROWS

    def levels(self, feature: str, metric: str) -> Levels | None:
        """(warn, error) for ``metric`` on ``feature``; None when switched off."""
        override = self.features.get(feature, {})
        if metric in override:
            return override[metric]
        return self.defaults.get(metric, (None, None))

    @classmethod
    def from_toml(cls, path: str | Path) -> Thresholds:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise SchemaError(f"thresholds file {path}: {err.strerror}") from None
        return cls.from_toml_text(text, str(path))

    @classmethod
    def from_toml_text(cls, text: str, source: str = "thresholds") -> Thresholds:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SchemaError(f"{source}: not valid TOML: {err}") from None
        unknown = set(doc) - {"defaults", "features", "min_serving_rows"}
        if unknown:
            raise SchemaError(
                f"{source}: unknown keys {sorted(unknown)}; expected defaults, features, "
                "min_serving_rows"
            )
        out = cls()
        for metric, spec in doc.get("defaults", {}).items():
            out.defaults[metric] = _levels(
                spec, DEFAULTS.get(metric), f"{source} [defaults] {metric}"
            )
        for feature, metrics in doc.get("features", {}).items():
            if not isinstance(metrics, dict):
                raise SchemaError(f"{source}: [features.{feature}] must be a table of metrics")
            out.features[feature] = {
                metric: _levels(
                    spec, out.defaults.get(metric), f"{source} [features.{feature}] {metric}"
                )
                for metric, spec in metrics.items()
            }
        rows = doc.get("min_serving_rows", MIN_SERVING_ROWS)
        if not isinstance(rows, int) or rows < 0:
            raise SchemaError(f"{source}: min_serving_rows must be an int >= 0, got {rows!r}")
        out.min_serving_rows = rows
        return out


def _levels(spec: Any, default: Levels | None, where: str) -> Levels | None:
    if default is None and not (isinstance(spec, str) and spec == "off"):
        raise SchemaError(f"{where}: unknown metric; known metrics: {', '.join(sorted(DEFAULTS))}")
    if spec == "off":
        return None
    if not isinstance(spec, dict) or set(spec) - {"warn", "error"}:
        raise SchemaError(f'{where}: expected {{ warn = x, error = y }} or "off", got {spec!r}')
    warn, error = default or (None, None)
    warn, error = spec.get("warn", warn), spec.get("error", error)
    for name, value in (("warn", warn), ("error", error)):
        if value is not None and not isinstance(value, int | float):
            raise SchemaError(f"{where}: {name} must be a number, got {value!r}")
    return warn, error
