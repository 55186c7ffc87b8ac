"""Raw feature types and the `Schema` that names them.

A feature has one of five dtypes (float32, float64, int64, string, bool) and is
nullable or not. A non-nullable feature that receives a null at transform time
is an error, so ``preprocessing_fn`` may rely on it being present.

Example:
    >>> import tskew as ts
    >>> schema = ts.Schema({"fare": ts.float32(), "company": "string"})
    >>> schema["fare"]
    float32?
    >>> print(schema)
    Schema(fare: float32?, company: string?)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pyarrow as pa

from tskew.errors import SchemaError


class DType(str, Enum):
    """The value types a column can hold."""

    FLOAT32 = "float32"
    FLOAT64 = "float64"
    INT64 = "int64"
    STRING = "string"
    BOOL = "bool"

    def __str__(self) -> str:
        return self.value

    @property
    def is_float(self) -> bool:
        return self in (DType.FLOAT32, DType.FLOAT64)

    @property
    def is_numeric(self) -> bool:
        return self in (DType.FLOAT32, DType.FLOAT64, DType.INT64)

    @property
    def numpy(self) -> np.dtype:
        """The numpy dtype that holds this type's values in the executor."""
        return _NUMPY[self]

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self]


_NUMPY = {
    DType.FLOAT32: np.dtype(np.float32),
    DType.FLOAT64: np.dtype(np.float64),
    DType.INT64: np.dtype(np.int64),
    DType.STRING: np.dtype(object),
    DType.BOOL: np.dtype(bool),
}
_ARROW = {
    DType.FLOAT32: pa.float32(),
    DType.FLOAT64: pa.float64(),
    DType.INT64: pa.int64(),
    DType.STRING: pa.string(),
    DType.BOOL: pa.bool_(),
}


@dataclass(frozen=True)
class FeatureType:
    """A dtype plus whether nulls may occur.

    Example:
        >>> FeatureType(DType.INT64, nullable=False)
        int64
    """

    dtype: DType
    nullable: bool = True

    def __repr__(self) -> str:
        return f"{self.dtype}{'?' if self.nullable else ''}"

    def to_json(self) -> dict:
        return {"dtype": self.dtype.value, "nullable": self.nullable}

    @classmethod
    def from_json(cls, obj: Mapping) -> FeatureType:
        return cls(as_dtype(obj["dtype"]), bool(obj["nullable"]))


def float32(nullable: bool = True) -> FeatureType:
    """A 32-bit float feature, nullable unless ``nullable=False``."""
    return FeatureType(DType.FLOAT32, nullable)


def float64(nullable: bool = True) -> FeatureType:
    """A 64-bit float feature, nullable unless ``nullable=False``."""
    return FeatureType(DType.FLOAT64, nullable)


def int64(nullable: bool = True) -> FeatureType:
    """A 64-bit integer feature, nullable unless ``nullable=False``."""
    return FeatureType(DType.INT64, nullable)


def string(nullable: bool = True) -> FeatureType:
    """A UTF-8 string feature, nullable unless ``nullable=False``."""
    return FeatureType(DType.STRING, nullable)


def bool_(nullable: bool = True) -> FeatureType:
    """A boolean feature, nullable unless ``nullable=False``."""
    return FeatureType(DType.BOOL, nullable)


def as_dtype(value: DType | FeatureType | str) -> DType:
    """Accept a DType, a FeatureType or a dtype name.

    Example:
        >>> as_dtype("float32")
        <DType.FLOAT32: 'float32'>
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, FeatureType):
        return value.dtype
    try:
        return DType(str(value))
    except ValueError:
        names = ", ".join(d.value for d in DType)
        raise SchemaError(f"unknown dtype {value!r}; expected one of: {names}") from None


def arrow_to_dtype(arrow_type: pa.DataType, feature: str) -> DType:
    """Map an Arrow type to the tskew dtype that holds it, or raise naming the feature."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_float32(arrow_type) or pa.types.is_float16(arrow_type):
        return DType.FLOAT32
    if pa.types.is_float64(arrow_type):
        return DType.FLOAT64
    if pa.types.is_integer(arrow_type):
        return DType.INT64
    if pa.types.is_boolean(arrow_type):
        return DType.BOOL
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return DType.STRING
    if pa.types.is_null(arrow_type):
        raise SchemaError(
            f"feature {feature!r} has only missing values, so its type cannot be inferred; "
            "declare it in the schema, e.g. schema={" + repr(feature) + ": ts.float64()}"
        )
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        raise SchemaError(
            f"feature {feature!r} has Arrow type {arrow_type}; tskew features are "
            "float32, float64, int64, string or bool: convert timestamps to int64 "
            "(e.g. epoch seconds) or to strings before analyzing"
        )
    raise SchemaError(
        f"feature {feature!r} has unsupported Arrow type {arrow_type}; expected a float, "
        "integer, boolean or string column"
    )


class Schema(Mapping[str, FeatureType]):
    """An ordered mapping from raw feature name to `FeatureType`.

    Args:
        features: name -> FeatureType, DType or dtype name (a bare dtype is nullable).

    Example:
        >>> s = Schema({"a": "int64", "b": float32(nullable=False)})
        >>> list(s), s["b"].nullable
        (['a', 'b'], False)
    """

    def __init__(self, features: Mapping[str, FeatureType | DType | str]):
        self._features: dict[str, FeatureType] = {}
        for name, ftype in features.items():
            if not isinstance(name, str) or not name:
                raise SchemaError(f"feature names must be non-empty strings, got {name!r}")
            if not isinstance(ftype, FeatureType):
                ftype = FeatureType(as_dtype(ftype))
            self._features[name] = ftype

    def __getitem__(self, name: str) -> FeatureType:
        try:
            return self._features[name]
        except KeyError:
            raise SchemaError(unknown_name_message("feature", name, self._features)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._features

    def get(self, name: str, default: FeatureType | None = None) -> FeatureType | None:
        return self._features.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._features)

    def __len__(self) -> int:
        return len(self._features)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and list(self.items()) == list(other.items())

    def __hash__(self) -> int:
        return hash(tuple(self._features.items()))

    def __repr__(self) -> str:
        body = ", ".join(f"{k}: {v!r}" for k, v in self._features.items())
        return f"Schema({body})"

    def to_json(self) -> dict:
        return {name: ftype.to_json() for name, ftype in self._features.items()}

    @classmethod
    def from_json(cls, obj: Mapping) -> Schema:
        return cls({name: FeatureType.from_json(f) for name, f in obj.items()})

    def to_arrow(self) -> pa.Schema:
        return pa.schema([pa.field(n, f.dtype.arrow, f.nullable) for n, f in self.items()])

    @classmethod
    def from_arrow(
        cls, arrow_schema: pa.Schema, null_counts: Mapping[str, int] | None = None
    ) -> Schema:
        """Infer a schema from Arrow types.

        A feature is nullable when ``null_counts`` (from the training data) says it
        has nulls; without counts every feature is nullable.
        """
        features = {}
        for field in arrow_schema:
            dtype = arrow_to_dtype(field.type, field.name)
            nullable = True if null_counts is None else null_counts.get(field.name, 1) > 0
            features[field.name] = FeatureType(dtype, nullable)
        return cls(features)

    @classmethod
    def infer(cls, table: pa.Table) -> Schema:
        """Infer from a table: dtypes from Arrow, nullable where the data has nulls.

        Float NaN is a value, not a null, so it does not make a feature nullable.

        Example:
            >>> Schema.infer(pa.table({"x": [1.0, None], "y": ["a", "b"]}))
            Schema(x: float64?, y: string)
        """
        counts = {name: table.column(name).null_count for name in table.column_names}
        return cls.from_arrow(table.schema, counts)


def unknown_name_message(kind: str, name: str, known: Mapping | list) -> str:
    """Say that ``name`` is unknown, listing the closest known names."""
    known_names = list(known)
    close = difflib.get_close_matches(str(name), known_names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    listing = ", ".join(map(repr, known_names[:20])) + (" ..." if len(known_names) > 20 else "")
    return f"unknown {kind} {name!r}{hint} (known: {listing})"
