"""Types of IR values: a dtype, nullability and a shape kind.

Row values hold one entry per input row (a feature); dataset values are
computed once over the whole training data (an analyzer result or a constant)
and broadcast against rows.

Example:
    >>> from tskew.schema import DType
    >>> ValueType(DType.FLOAT32, nullable=True)
    float32?[row]
    >>> ValueType(DType.STRING, shape=Shape.VECTOR)
    string[vector]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from tskew.schema import DType


class Shape(str, Enum):
    """How many values a node produces."""

    ROW = "row"  # one per input row
    SCALAR = "scalar"  # one per dataset
    VECTOR = "vector"  # a 1-D array per dataset (boundaries, vocabulary)

    @property
    def is_dataset(self) -> bool:
        return self is not Shape.ROW


@dataclass(frozen=True)
class ValueType:
    """The static type of one IR node's value.

    ``width`` is set for row values that hold a fixed-size vector per row
    (``one_hot``); otherwise each row holds one value.
    """

    dtype: DType
    nullable: bool = False
    shape: Shape = Shape.ROW
    width: int | None = None

    def __repr__(self) -> str:
        width = f"x{self.width}" if self.width else ""
        return f"{self.dtype}{width}{'?' if self.nullable else ''}[{self.shape.value}]"

    def with_(self, **changes) -> ValueType:
        return replace(self, **changes)

    def to_json(self) -> dict:
        return {
            "dtype": self.dtype.value,
            "nullable": self.nullable,
            "shape": self.shape.value,
            "width": self.width,
        }

    @classmethod
    def from_json(cls, obj: dict) -> ValueType:
        return cls(DType(obj["dtype"]), bool(obj["nullable"]), Shape(obj["shape"]), obj["width"])
