"""The exceptions tskew raises. All derive from `TskewError`.

Messages name the thing at fault (feature, file, line, op), say what was
expected and suggest a fix.
"""

from __future__ import annotations


class TskewError(Exception):
    """Base class of every error tskew raises on purpose."""


class SchemaError(TskewError, ValueError):
    """A feature is unknown, has the wrong type, or a schema is malformed."""


class TraceError(TskewError, TypeError):
    """``preprocessing_fn`` builds an invalid graph (wrong dtype, nullable output, ...)."""


class ArgumentError(TraceError, ValueError):
    """A ``ts.*`` function got an argument value it cannot use (``output_min >= output_max``,
    an unknown strategy). A ValueError, as TFT raises for these, and a `TraceError`."""


class GraphError(TskewError):
    """An IR graph failed verification; a bug in a pass or a hand-built graph."""


class AnalyzeError(TskewError, ValueError):
    """The analyze phase cannot run: empty training data, unusable statistics, ..."""


class DataError(TskewError, ValueError):
    """Input data is malformed: a bad CSV/JSONL record, a type violation, a null
    in a non-nullable feature. The message names the file and line or feature."""


class ArtifactError(TskewError):
    """A saved TransformFn is missing, corrupt, tampered with or from a newer version."""


class UnsupportedOpError(TskewError, NotImplementedError):
    """A backend has no lowering for an op."""

    def __init__(self, op: str, backend: str, detail: str = ""):
        self.op, self.backend = op, backend
        msg = f"op {op!r} has no lowering for backend {backend!r}"
        super().__init__(msg + (f": {detail}" if detail else ""))


class ConfigError(TskewError, ValueError):
    """An argument or setting is invalid (a `SkewMonitor` window, a callback that is not
    callable, ...). The message names the argument, what was given and what is expected."""
