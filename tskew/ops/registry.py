"""The op registry: one `OpDef` per op = its type rule plus its numpy semantics.

Every backend lowers exactly the ops registered here; the numpy function is
the reference semantics the conformance suite checks other backends against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tskew.errors import GraphError
from tskew.ir.types import ValueType

TypeRule = Callable[[list[ValueType], dict[str, Any]], ValueType]
NumpyImpl = Callable[..., Any]


@dataclass(frozen=True)
class OpDef:
    """Definition of one op.

    Attributes:
        name: the op name stored in IR nodes.
        infer: input types + attrs -> result type; raises `TraceError` on misuse.
        numpy: ``numpy(attrs, *input_values) -> value`` (see `tskew.ops.values`);
            ``None`` for analyzers, which are computed by combiners instead.
        analyzer: True for full-pass analyzers (dataset results from row inputs).
        doc: one line shown in ``tskew ops`` and ARCHITECTURE.md.
    """

    name: str
    infer: TypeRule
    numpy: NumpyImpl | None
    analyzer: bool = False
    doc: str = ""


_REGISTRY: dict[str, OpDef] = {}


def register(
    name: str, infer: TypeRule, *, analyzer: bool = False, doc: str = ""
) -> Callable[[NumpyImpl], NumpyImpl]:
    """Decorator registering a numpy implementation under ``name``.

    Example:
        >>> "add" in all_ops()
        True
    """

    def deco(fn: NumpyImpl) -> NumpyImpl:
        if name in _REGISTRY:
            raise GraphError(f"op {name!r} registered twice")
        _REGISTRY[name] = OpDef(name, infer, fn, analyzer, doc or (fn.__doc__ or "").strip())
        return fn

    return deco


def register_analyzer(name: str, infer: TypeRule, doc: str) -> None:
    """Register an analyzer op (its values come from a combiner, not numpy)."""
    if name in _REGISTRY:
        raise GraphError(f"op {name!r} registered twice")
    _REGISTRY[name] = OpDef(name, infer, None, True, doc)


def get_op(name: str) -> OpDef:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise GraphError(
            f"unknown op {name!r}; known ops: {', '.join(sorted(_REGISTRY))}"
        ) from None


def all_ops() -> dict[str, OpDef]:
    _load_all()
    return dict(_REGISTRY)


def _load_all() -> None:
    # Importing the op modules registers them; done lazily to avoid import cycles.
    import tskew.analyzers.defs
    import tskew.ops.elementwise
    import tskew.ops.labels
    import tskew.ops.strings
    import tskew.ops.structural  # noqa: F401
