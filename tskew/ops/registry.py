"""Op specs: everything tskew knows about one op, in one place.

An `OpSpec` holds an op's name, its typed attribute schema, its type rule, its
numpy semantics (the reference every backend is checked against), a one-line
doc and the facts other parts need: whether its output is a category id, how
many ulp a backend may differ from numpy, and for analyzers which accumulator
computes it and how its value is extracted.

This module is a leaf: it imports no op module, analyzer or exporter. Op
modules collect their specs in an `OpList`; `tskew.catalog` lists those
modules explicitly and builds the one `Registry`.

Example:
    >>> ops = OpList()
    >>> @ops.op("twice", lambda ts, attrs: ts[0], attrs={"note": Attr(str, required=False)})
    ... def twice(ctx, node, x):
    ...     '''2 * x.'''
    ...     return x * 2
    >>> registry = Registry([ops])
    >>> registry.get("twice").doc, registry.get("twice").analyzer
    ('2 * x.', False)
    >>> registry.get("twice").check_attrs({"note": 3})
    Traceback (most recent call last):
    ...
    tskew.errors.TraceError: twice: attribute note must be str, got 3
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tskew.errors import GraphError, TraceError
from tskew.ir.types import ValueType

TypeRule = Callable[[list[ValueType], dict[str, Any]], ValueType]
# ``numpy(ctx, node, *inputs) -> value``: the same contract as every backend's lowerings.
NumpyImpl = Callable[..., Any]
# ``extract(attrs, accumulator, input dtype, what) -> frozen value`` for analyzers.
Extractor = Callable[..., Any]

# Accumulator kinds (`tskew.analyzers.accumulators`, `tskew.analyzers.distribution`).
ACCUMULATOR_KINDS = ("moments", "minmax", "distribution", "counts")


@dataclass(frozen=True)
class Attr:
    """One attribute of an op: the Python types it accepts and whether it must be given.

    Example:
        >>> Attr(int).accepts(3), Attr(int).accepts(True), Attr((int, type(None))).accepts(None)
        (True, False, True)
    """

    types: type | tuple[type, ...]
    required: bool = True

    def accepts(self, value: Any) -> bool:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        if isinstance(value, bool) and bool not in types:
            return False  # True is an int to Python, never a count to an op
        return isinstance(value, types)

    @property
    def type_names(self) -> str:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        return " or ".join("None" if t is type(None) else t.__name__ for t in types)


@dataclass(frozen=True)
class OpSpec:
    """The definition of one op.

    Attributes:
        name: the op name stored in IR nodes.
        infer: input types + attrs -> result type; raises `TraceError` on misuse.
        numpy: ``numpy(ctx, node, *inputs) -> value``, the reference semantics (see
            `tskew.interpreter`); ``None`` for analyzers, computed by accumulators.
        doc: what the op computes, shown by ``tskew ops`` and the README's op table.
        attrs: the attribute schema, checked when the op is traced.
        dsl: the ``ts.*`` function that adds this op, or None (operators, structural ops).
        categorical: the int64 output is a category id (statistics count it by value).
        ulp: backend -> how many ulp its results may differ from numpy (0 when absent).
        accumulator: analyzers only: the accumulator kind that computes it for numbers.
        extract: analyzers only: ``extract(attrs, acc, dtype, what)`` -> the frozen value.
    """

    name: str
    infer: TypeRule
    numpy: NumpyImpl | None
    doc: str
    attrs: Mapping[str, Attr] = field(default_factory=dict)
    dsl: str | None = None
    categorical: bool = False
    ulp: Mapping[str, int] = field(default_factory=dict)
    accumulator: str | None = None
    extract: Extractor | None = None

    def __post_init__(self) -> None:
        if (self.numpy is None) == (self.accumulator is None):
            raise GraphError(
                f"op {self.name!r} needs exactly one of a numpy rule or an accumulator"
            )
        if self.accumulator is not None and (
            self.accumulator not in ACCUMULATOR_KINDS or self.extract is None
        ):
            raise GraphError(f"analyzer {self.name!r} needs a known accumulator and an extract")
        if not self.doc:
            raise GraphError(f"op {self.name!r} has no doc")

    @property
    def analyzer(self) -> bool:
        """True for full-pass analyzers (dataset results computed from row inputs)."""
        return self.accumulator is not None

    def accumulator_for(self, dtype: Any) -> str:
        """The accumulator kind computing this analyzer over values of ``dtype``.

        String and bool values are counted one by one (min/max aside).
        """
        assert self.accumulator is not None, f"{self.name} is not an analyzer"
        if not dtype.is_numeric or dtype.value == "bool":
            return "minmax" if self.accumulator == "minmax" else "counts"
        return self.accumulator

    def check_attrs(self, attrs: Mapping[str, Any]) -> None:
        """Refuse unknown, missing or mistyped attributes, naming the op and the fix.

        Raises:
            TraceError: e.g. ``quantiles: unknown attribute num_bucket (known: num_buckets)``.
        """
        for key, value in attrs.items():
            attr = self.attrs.get(key)
            if attr is None:
                known = ", ".join(sorted(self.attrs)) or "none"
                raise TraceError(f"{self.name}: unknown attribute {key} (known: {known})")
            if not attr.accepts(value):
                raise TraceError(
                    f"{self.name}: attribute {key} must be {attr.type_names}, got {value!r}"
                )
        for key, attr in self.attrs.items():
            if attr.required and key not in attrs:
                raise TraceError(f"{self.name}: attribute {key} is required")


class OpList:
    """The specs one op module defines, in order; `tskew.catalog` gathers the lists."""

    def __init__(self) -> None:
        self.specs: list[OpSpec] = []

    def __iter__(self) -> Iterator[OpSpec]:
        return iter(self.specs)

    def add(self, spec: OpSpec) -> OpSpec:
        self.specs.append(spec)
        return spec

    def op(self, name: str, infer: TypeRule, *, doc: str = "", **facts: Any):
        """Decorator: the function is the op's numpy rule; its docstring is the doc."""

        def deco(fn: NumpyImpl) -> NumpyImpl:
            self.add(OpSpec(name, infer, fn, doc or " ".join((fn.__doc__ or "").split()), **facts))
            return fn

        return deco


class Registry:
    """op name -> `OpSpec`, built from `OpList`s.

    Example:
        >>> Registry([]).get("nope")
        Traceback (most recent call last):
        ...
        tskew.errors.GraphError: unknown op 'nope'; known ops: none
    """

    def __init__(self, lists: Iterable[Iterable[OpSpec]]):
        self._specs: dict[str, OpSpec] = {}
        for specs in lists:
            for spec in specs:
                self.add(spec)

    def add(self, spec: OpSpec) -> None:
        if spec.name in self._specs:
            raise GraphError(f"op {spec.name!r} registered twice")
        self._specs[spec.name] = spec

    def get(self, name: str) -> OpSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise GraphError(f"unknown op {name!r}; known ops: {known}") from None

    def all(self) -> dict[str, OpSpec]:
        return dict(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    @contextmanager
    def scoped(self, *specs: OpSpec) -> Iterator[None]:
        """Register ``specs`` for the duration of a ``with`` block (docs and tests)."""
        for spec in specs:
            self.add(spec)
        try:
            yield
        finally:
            for spec in specs:
                del self._specs[spec.name]
