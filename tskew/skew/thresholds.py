"""Skew thresholds: a default per metric, per-feature overrides, warn and error levels.

A TOML file looks like::

    min_serving_rows = 200              # fewer present values: "insufficient data"

    [defaults]
    psi = { warn = 0.1, error = 0.25 }

    [features.fare]
    jensen_shannon_divergence = { warn = 0.2, error = 0.4 }
    psi = "off"                         # not judged for this feature

A metric whose value exceeds ``error`` fails the report; above ``warn`` it warns.
Mistakes are errors naming the key, never ignored: an unknown top-level key, metric
or (once the thresholds meet a TransformFn, see `Thresholds.check_features`) feature;
a level that is not a finite number (``nan``, ``true``, a string); ``warn`` above
``error``.

Example:
    >>> t = Thresholds.from_toml_text('[features.fare]\\npsi = { error = 0.5 }')
    >>> t.levels("fare", "psi"), t.levels("tips", "psi")
    ((0.1, 0.5), (0.1, 0.25))
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
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
TOP_LEVEL_KEYS = ("defaults", "features", "min_serving_rows")
Levels = tuple[float | None, float | None]


@dataclass
class Thresholds:
    """Warn/error levels per metric, with per-feature overrides.

    Built in code, the same checks as for a TOML file apply (known metrics, finite
    numbers, ``warn <= error``, ``min_serving_rows`` an int >= 0); ``source`` names
    where the thresholds came from in error messages.
    """

    defaults: dict[str, Levels | None] = field(default_factory=lambda: dict(DEFAULTS))
    features: dict[str, dict[str, Levels | None]] = field(default_factory=dict)
    min_serving_rows: int = MIN_SERVING_ROWS
    source: str = field(default="thresholds", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.defaults, Mapping):
            raise SchemaError(f"{self.source}: defaults must map metric names to levels")
        if not isinstance(self.features, Mapping):
            raise SchemaError(f"{self.source}: features must map feature names to metrics")
        for metric, levels in self.defaults.items():
            _check_levels(metric, levels, f"{self.source} [defaults] {metric}")
        for feature, metrics in self.features.items():
            if not isinstance(metrics, Mapping):
                raise SchemaError(
                    f"{self.source}: [features.{feature}] must be a table of metrics, "
                    f"got {metrics!r}"
                )
            for metric, levels in metrics.items():
                _check_levels(metric, levels, f"{self.source} [features.{feature}] {metric}")
        rows = self.min_serving_rows
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise SchemaError(
                f"{self.source}: min_serving_rows must be an integer >= 0, got {rows!r}"
            )

    def levels(self, feature: str, metric: str) -> Levels | None:
        """(warn, error) for ``metric`` on ``feature``; None when switched off."""
        override = self.features.get(feature, {})
        if metric in override:
            return override[metric]
        return self.defaults.get(metric, (None, None))

    def check_features(self, known: Iterable[str], what: str = "the TransformFn") -> None:
        """Refuse per-feature thresholds for features ``what`` does not have.

        Raises:
            SchemaError: naming the first unknown ``[features.<name>]`` and the known ones.
        """
        known = sorted(set(known))
        for feature in self.features:
            if feature not in known:
                raise SchemaError(
                    f"{self.source}: [features.{feature}]: {what} has no feature "
                    f"{feature!r}; known features: {', '.join(known)}. Fix the name or "
                    "remove the table"
                )

    @classmethod
    def resolve(cls, thresholds: Thresholds | str | Path | None) -> Thresholds:
        """``thresholds`` as given, read from a TOML path, or the defaults for None."""
        if isinstance(thresholds, Thresholds):
            return thresholds
        if thresholds is None:
            return cls()
        if not isinstance(thresholds, str | Path):
            raise SchemaError(
                "thresholds must be a Thresholds, a TOML file path or None, got "
                f"{type(thresholds).__name__}"
            )
        return cls.from_toml(thresholds)

    @classmethod
    def from_toml(cls, path: str | Path) -> Thresholds:
        path = Path(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as err:
            raise SchemaError(f"thresholds file {path}: {err.strerror or err}") from None
        except UnicodeDecodeError as err:
            line = path.read_bytes()[: err.start].count(b"\n") + 1
            raise SchemaError(
                f"thresholds file {path}:{line}: not valid UTF-8 ({err.reason} at byte "
                f"{err.start}); save the file as UTF-8"
            ) from None
        return cls.from_toml_text(text, str(path))

    @classmethod
    def from_toml_text(cls, text: str, source: str = "thresholds") -> Thresholds:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SchemaError(f"{source}: not valid TOML: {err}") from None
        unknown = set(doc) - set(TOP_LEVEL_KEYS)
        if unknown:
            raise SchemaError(
                f"{source}: unknown keys {sorted(unknown)}; expected {', '.join(TOP_LEVEL_KEYS)}"
            )
        defaults: dict[str, Levels | None] = dict(DEFAULTS)
        for metric, spec in _table(doc, "defaults", source).items():
            where = f"{source} [defaults] {metric}"
            defaults[metric] = _levels(spec, DEFAULTS.get(metric), metric, where)
        features: dict[str, dict[str, Levels | None]] = {}
        for feature, metrics in _table(doc, "features", source).items():
            if not isinstance(metrics, dict):
                raise SchemaError(
                    f"{source}: [features.{feature}] must be a table of metrics, got {metrics!r}"
                )
            features[feature] = {
                metric: _levels(
                    spec, defaults.get(metric), metric, f"{source} [features.{feature}] {metric}"
                )
                for metric, spec in metrics.items()
            }
        return cls(defaults, features, doc.get("min_serving_rows", MIN_SERVING_ROWS), source)


def _table(doc: dict, key: str, source: str) -> dict:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        what = "metric" if key == "defaults" else "feature"
        raise SchemaError(
            f"{source}: {key} must be a table ([{key}] with one entry per {what}), got {value!r}"
        )
    return value


def _levels(spec: Any, default: Levels | None, metric: str, where: str) -> Levels | None:
    """One TOML level spec (``"off"`` or ``{ warn = x, error = y }``) over ``default``."""
    _check_metric(metric, where)
    if isinstance(spec, str) and spec == "off":
        return None
    if not isinstance(spec, dict) or not spec or set(spec) - {"warn", "error"}:
        raise SchemaError(f'{where}: expected {{ warn = x, error = y }} or "off", got {spec!r}')
    for name in ("warn", "error"):
        if name in spec:
            _check_number(spec[name], f"{where}.{name}")
    warn, error = default or (None, None)
    levels = (spec.get("warn", warn), spec.get("error", error))
    _check_levels(metric, levels, where, inherited=default is not None)
    return levels


def _check_metric(metric: str, where: str) -> None:
    if metric not in DEFAULTS:
        raise SchemaError(f"{where}: unknown metric; known metrics: {', '.join(sorted(DEFAULTS))}")


def _check_levels(metric: str, levels: Any, where: str, inherited: bool = False) -> None:
    """``levels``: None ("off") or a (warn, error) pair of finite numbers or None, warn <= error."""
    _check_metric(metric, where)
    if levels is None:
        return
    if not isinstance(levels, tuple | list) or len(levels) != 2:
        raise SchemaError(f"{where}: expected (warn, error) or None for off, got {levels!r}")
    warn, error = levels
    _check_number(warn, f"{where}.warn")
    _check_number(error, f"{where}.error")
    if warn is not None and error is not None and warn > error:
        hint = " (one of them is the default; set both)" if inherited else ""
        raise SchemaError(
            f"{where}: warn {warn} is above error {error}{hint}; warn must be <= error"
        )


def _check_number(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise SchemaError(f'{where} must be a finite number, got {value!r}; use "off" to disable')
