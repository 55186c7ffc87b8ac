"""The tensorflow_metadata protos, imported only when a TFMD proto is built or parsed.

Example:
    >>> BINARY_SUFFIXES
    ('.pb', '.bin')
"""

from __future__ import annotations

from types import ModuleType

# File suffixes that say how a proto is stored (anything else: a TFRecord or, for
# schemas, text).
TEXT_SUFFIXES = (".pbtxt", ".textproto", ".txt", ".prototxt")
BINARY_SUFFIXES = (".pb", ".bin")


def load_pb2(module: str) -> ModuleType:
    """``tensorflow_metadata.proto.v0.<module>`` ("statistics_pb2" or "schema_pb2").

    Raises:
        ImportError: tensorflow-metadata is not installed; the message names the package.
    """
    try:
        if module == "statistics_pb2":
            from tensorflow_metadata.proto.v0 import statistics_pb2 as pb2
        else:
            from tensorflow_metadata.proto.v0 import schema_pb2 as pb2
    except ImportError as err:
        raise ImportError(
            "tensorflow_metadata interop needs the tensorflow-metadata package "
            f"(pip install tensorflow-metadata); importing it failed: {err}"
        ) from err
    return pb2
