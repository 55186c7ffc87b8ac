"""Importing TensorFlow without its start-up noise on stderr.

TensorFlow's C++ runtime prints INFO lines when it loads (oneDNN, "Could not find cuda
drivers", absl's "All log messages before absl::InitializeLog()") and, on a machine
without a GPU, an ERROR line "failed call to cuInit" when it first looks for devices.
``TF_CPP_MIN_LOG_LEVEL`` hides later messages, but these are printed before TensorFlow
reads it. So `import_tensorflow` sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless the user chose a
level, and while TensorFlow loads it holds back stderr lines at the levels that setting
hides (level 2: INFO and WARNING, plus the cuInit line); every other line is written
through. Set ``TF_CPP_MIN_LOG_LEVEL=0`` to see everything.

Example:
    >>> noise("I0000 00:00:1796321189.013692   15963 cudart_stub.cc:31] Could not find", 2)
    True
    >>> noise("E0000 00:00:1796321196.127161   15963 some_kernel.cc:52] real trouble", 2)
    False
    >>> noise("I0000 00:00:1796321189.013692   15963 port.cc:153] oneDNN", 0)
    False
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
DEFAULT_LEVEL = "2"  # INFO and WARNING hidden, errors shown
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"
_NO_GPU = "failed call to cuInit"  # an ERROR on every machine without a GPU driver


def noise(line: str, level: int) -> bool:
    """Whether TensorFlow's stderr ``line`` is below the log ``level`` the user wants."""
    if level <= 0:
        return False
    if line.startswith(_ABSL_PREAMBLE):
        return True
    match = _ABSL_LINE.match(line)
    if match is None:
        return False
    severity = "IWEF".index(match.group(1))
    return severity < level or (level >= 2 and _NO_GPU in line)


def import_tensorflow() -> ModuleType:
    """``import tensorflow``, quietly the first time (see the module docstring)."""
    if "tensorflow" in sys.modules:  # imported by the user (or Keras) first
        tf = sys.modules["tensorflow"]
        tf.get_logger().addFilter(_drop_collection_warning)  # once: filters are a set
        return tf
    os.environ.setdefault(LEVEL_VARIABLE, DEFAULT_LEVEL)
    try:
        level = int(os.environ[LEVEL_VARIABLE])
    except ValueError:
        level = 0
    with _held_back_stderr(level):
        import tensorflow as tf

        tf.config.list_physical_devices()  # looks for GPUs now, inside the filter
    tf.get_logger().addFilter(_drop_collection_warning)
    return tf


def _drop_collection_warning(record: logging.LogRecord) -> bool:
    """False for TF's warning that a lookup table cannot go into a TF1 collection.

    ``tf.saved_model.save`` warns once per table ("Issue encountered when serializing
    table_initializer ... probably safe to ignore"): TF2 SavedModels restore tables from
    their own objects, never from that collection, so the line only alarms users.

    Example:
        >>> record = logging.LogRecord("tensorflow", logging.WARNING, "", 0, "Issue "
        ...     "encountered when serializing %s.", ("table_initializer",), None)
        >>> _drop_collection_warning(record)
        False
    """
    message = record.getMessage()
    return not message.startswith("Issue encountered when serializing table_initializer")


@contextlib.contextmanager
def _held_back_stderr(level: int) -> Iterator[None]:
    """Send file descriptor 2 to a temporary file, then write back the lines that are
    not `noise` (C++ writes to the descriptor, so ``sys.stderr`` alone is not enough)."""
    if level <= 0:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [
                line
                for line in held.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not noise(line, level)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
