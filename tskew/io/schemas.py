"""What users pass as ``schema=``, resolved into a `Schema`.

A `Schema`, a mapping of name -> `FeatureType` or dtype name, or a tensorflow_metadata
schema: a ``Schema`` proto or the path of one (TFX's ``schema.pbtxt``; binary for .pb),
converted by `tskew.tfmd.schema.schema_from_tfmd` (needs tensorflow-metadata). The
resolution lives here, above both `tskew.schema` and `tskew.tfmd`, so the core types
do not depend on the interop.

Example:
    >>> as_schema({"n": "int64"})
    Schema(n: int64?)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tskew.errors import SchemaError
from tskew.schema import Schema
from tskew.tfmd.schema import is_tfmd_schema, schema_from_tfmd

SchemaLike = Schema | Mapping | str | os.PathLike


def as_schema(schema: SchemaLike | Any) -> Schema:
    """Normalise what users pass as ``schema=`` into a `Schema`.

    Raises:
        SchemaError: ``schema`` is none of the accepted forms, or a TFMD schema file that
            is missing or unreadable.
    """
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, Mapping):
        return Schema(schema)
    if isinstance(schema, str | os.PathLike) or is_tfmd_schema(schema):
        return schema_from_tfmd(schema)
    raise SchemaError(
        f"cannot use a {type(schema).__name__} as a schema; pass a ts.Schema, a dict of "
        "name -> dtype, a tensorflow_metadata Schema proto or the path of its text proto (.pbtxt)"
    )


__all__ = ["SchemaLike", "as_schema"]
