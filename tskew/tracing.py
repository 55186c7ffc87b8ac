"""Tracing: run ``preprocessing_fn`` on symbolic columns to build the IR.

`Column` is the symbolic value users manipulate; every operation on it adds
a node to a `GraphBuilder`, which type-checks it at once (so errors point at
the user's line) and reuses identical nodes (``ts.mean(x)`` twice is one
analyzer).

Example:
    >>> import tskew as ts
    >>> g = trace(lambda inp: {"z": ts.scale_to_z_score(inp["x"])},
    ...           ts.Schema({"x": ts.float64(nullable=False)}))
    >>> [n.op for n in g.nodes]
    ['input', 'var', 'const', 'gt', 'sqrt', 'const', 'div', 'where', 'mean', 'sub', 'mul']
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

from tskew.catalog import get_op
from tskew.errors import SchemaError, TraceError
from tskew.foreign_calls import foreign_call_error
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node, make_attrs
from tskew.ir.types import Shape, ValueType
from tskew.schema import DType, Schema, as_dtype, unknown_name_message


class GraphBuilder:
    """Accumulates nodes while ``preprocessing_fn`` runs."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.nodes: list[Node] = []
        self._index: dict[tuple, int] = {}
        self.inputs: dict[str, int] = {}

    def add(
        self, op: str, inputs: tuple[int, ...] = (), name: str | None = None, **attrs: Any
    ) -> int:
        _check_attrs(self, op, attrs)
        attr_t = make_attrs(**attrs)
        key = (op, inputs, _distinct(attr_t), name)
        if key in self._index:
            return self._index[key]
        opdef = get_op(op)
        try:
            vtype = opdef.infer([self.nodes[i].type for i in inputs], dict(attr_t))
            opdef.check_attrs(dict(attr_t))  # after the type rule, whose messages are sharper
        except TraceError as err:
            args = ", ".join(self.describe(i) for i in inputs)
            raise TraceError(f"{err} (in {op}({args}))") from None
        node = Node(len(self.nodes), op, inputs, attr_t, vtype, name)
        self.nodes.append(node)
        self._index[key] = node.id
        return node.id

    def describe(self, node_id: int, depth: int = 2) -> str:
        """Short expression text for error messages, e.g. ``fill_missing(fare, 0.0)``."""
        node = self.nodes[node_id]
        return describe_node(self.nodes, node, depth)

    def input(self, name: str) -> int:
        if name not in self.schema:
            raise SchemaError(unknown_name_message("feature", name, self.schema))
        ftype = self.schema[name]
        nid = self.add("input", (), name=name, dtype=ftype.dtype.value, nullable=ftype.nullable)
        self.inputs[name] = nid
        return nid


def _check_attrs(builder: GraphBuilder, op: str, attrs: Mapping[str, Any]) -> None:
    """Attributes are Python values known while tracing, never columns."""
    for key, value in attrs.items():
        values = value if isinstance(value, list | tuple) else [value]
        column = next((v for v in values if isinstance(v, Column)), None)
        if column is None:
            continue
        hint = (
            "; for one_hot, bound the vocabulary instead: "
            "ts.compute_and_apply_vocabulary(x, top_k=K, num_oov_buckets=B) gives ids below "
            "K + B, so depth=K + B"
            if op == "one_hot"
            else ""
        )
        raise TraceError(
            f"{op}: {key} must be a Python value known while tracing, got the column "
            f"{builder.describe(column.id)}; a statistic such as ts.max(ids) + 1 is only known "
            f"after the analysis{hint}"
        )


def _distinct(attrs: tuple) -> tuple:
    """Attributes as a lookup key in which -0.0 and 0.0 differ (they compare equal)."""
    return tuple((k, (float.hex(v), "float") if isinstance(v, float) else v) for k, v in attrs)


def describe_node(nodes: list[Node] | tuple[Node, ...], node: Node, depth: int = 2) -> str:
    if node.op == "input":
        return str(node.name)
    if node.op == "const":
        return repr(node.attr("value"))
    if depth == 0:
        return "..."
    args = [describe_node(nodes, nodes[i], depth - 1) for i in node.inputs]
    args += [f"{k}={v!r}" for k, v in node.attrs if v is not None]
    return f"{node.op}({', '.join(args)})"


class Column:
    """A symbolic value inside ``preprocessing_fn``: a feature or a statistic.

    Supports ``+ - * /``, unary ``-``, comparisons (giving bool columns) and
    ``& | ~`` on bool columns. Python numbers combine with columns following
    numpy's rule: ``float32_col * 2.0`` stays float32.
    """

    __slots__ = ("builder", "id")
    __hash__ = None  # type: ignore[assignment]  # == builds a node, like pandas

    def __init__(self, builder: GraphBuilder, node_id: int):
        self.builder = builder
        self.id = node_id

    @property
    def type(self) -> ValueType:
        return self.builder.nodes[self.id].type

    @property
    def dtype(self) -> DType:
        return self.type.dtype

    def __repr__(self) -> str:
        return f"<ts.Column {self.builder.describe(self.id)} : {self.type!r}>"

    def __bool__(self) -> bool:
        raise TraceError(
            "a column has no truth value while tracing; use ts.where(cond, a, b) "
            "instead of if/else, and & | ~ instead of and/or/not"
        )

    def _bin(self, op: str, other: Any, reverse: bool = False) -> Column:
        other_c = as_column(other, like=self)
        a, b = (other_c, self) if reverse else (self, other_c)
        return Column(self.builder, self.builder.add(op, (a.id, b.id)))

    def __add__(self, o):
        return self._bin("add", o)

    def __radd__(self, o):
        return self._bin("add", o, True)

    def __sub__(self, o):
        return self._bin("sub", o)

    def __rsub__(self, o):
        return self._bin("sub", o, True)

    def __mul__(self, o):
        return self._bin("mul", o)

    def __rmul__(self, o):
        return self._bin("mul", o, True)

    def __truediv__(self, o):
        return self._bin("div", o)

    def __rtruediv__(self, o):
        return self._bin("div", o, True)

    def __eq__(self, o):
        return self._bin("eq", o)  # type: ignore[override]

    def __ne__(self, o):
        return self._bin("ne", o)  # type: ignore[override]

    def __lt__(self, o):
        return self._bin("lt", o)

    def __le__(self, o):
        return self._bin("le", o)

    def __gt__(self, o):
        return self._bin("gt", o)

    def __ge__(self, o):
        return self._bin("ge", o)

    def __and__(self, o):
        return self._bin("and", o)

    def __rand__(self, o):
        return self._bin("and", o, True)

    def __or__(self, o):
        return self._bin("or", o)

    def __ror__(self, o):
        return self._bin("or", o, True)

    def __neg__(self) -> Column:
        return Column(self.builder, self.builder.add("neg", (self.id,)))

    def __invert__(self) -> Column:
        return Column(self.builder, self.builder.add("not", (self.id,)))

    # -- what a column cannot be while tracing: errors in the user's terms
    def _unknown(self, what: str) -> TraceError:
        return TraceError(
            f"{what} of {self.builder.describe(self.id)} is not known while tracing: a column "
            "stands for every row, and a statistic (ts.max, ts.size, a vocabulary) is only "
            "known after the analysis. Keep computing with ts.* functions; to size a one_hot "
            "or an embedding, bound the vocabulary: ts.compute_and_apply_vocabulary(x, "
            "top_k=K, num_oov_buckets=B) gives ids below K + B"
        )

    def __len__(self) -> int:
        raise self._unknown("len()")

    def __iter__(self) -> Iterator[Any]:
        raise self._unknown("iterating over the values")

    def __int__(self) -> int:
        raise self._unknown("int()")

    def __float__(self) -> float:
        raise self._unknown("float()")

    def __index__(self) -> int:
        raise self._unknown("the integer value")

    def __tf_tensor__(self, dtype: Any = None, name: Any = None) -> Any:
        """TensorFlow's conversion hook: ``tf.*`` on a column names the ``ts`` equivalent."""
        raise foreign_call_error("TensorFlow", self.builder.describe(self.id))

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise foreign_call_error("numpy", self.builder.describe(self.id))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy scalars combine with columns like Python numbers; other ufuncs name the ts op."""
        methods = _UFUNC_METHODS.get(ufunc.__name__)
        if method == "__call__" and not kwargs and methods is not None:
            if len(inputs) == 1:
                return getattr(self, methods[0])()
            a, b = inputs
            if isinstance(a, Column):
                return getattr(a, methods[0])(b)
            return getattr(b, methods[1])(a)
        raise foreign_call_error(
            "numpy", self.builder.describe(self.id), call=f"np.{ufunc.__name__}"
        )


# numpy ufunc -> (Column method, reflected method) for ``np_scalar op column``.
_UFUNC_METHODS = {
    "add": ("__add__", "__radd__"),
    "subtract": ("__sub__", "__rsub__"),
    "multiply": ("__mul__", "__rmul__"),
    "true_divide": ("__truediv__", "__rtruediv__"),
    "divide": ("__truediv__", "__rtruediv__"),
    "less": ("__lt__", "__gt__"),
    "less_equal": ("__le__", "__ge__"),
    "greater": ("__gt__", "__lt__"),
    "greater_equal": ("__ge__", "__le__"),
    "equal": ("__eq__", "__eq__"),
    "not_equal": ("__ne__", "__ne__"),
    "bitwise_and": ("__and__", "__rand__"),
    "bitwise_or": ("__or__", "__ror__"),
    "negative": ("__neg__", "__neg__"),
    "invert": ("__invert__", "__invert__"),
}


# The builder that ``ts.*`` calls without a Column argument (``ts.mean(3.0)``) add to.
# A ContextVar rather than a module-level list, so threads and asyncio tasks tracing
# at the same time each see their own builder.
_ACTIVE: contextvars.ContextVar[GraphBuilder | None] = contextvars.ContextVar(
    "tskew_active_builder", default=None
)


@contextlib.contextmanager
def building(builder: GraphBuilder) -> Iterator[GraphBuilder]:
    """Make ``builder`` the current one while the block runs (nests, restores on exit).

    Example:
        >>> b = GraphBuilder(Schema({}))
        >>> with building(b):
        ...     current_builder() is b
        True
        >>> current_builder()
        Traceback (most recent call last):
        ...
        tskew.errors.TraceError: tskew functions build a graph: call them inside preprocessing_fn
    """
    token = _ACTIVE.set(builder)
    try:
        yield builder
    finally:
        _ACTIVE.reset(token)


def current_builder(*values: Any) -> GraphBuilder:
    """The builder of the first Column among ``values``, else the one being traced.

    Raises:
        TraceError: called outside ``preprocessing_fn`` with no Column to follow.
    """
    for v in values:
        if isinstance(v, Column):
            return v.builder
    builder = _ACTIVE.get()
    if builder is not None:
        return builder
    raise TraceError("tskew functions build a graph: call them inside preprocessing_fn")


def as_column(value: Any, like: Column | None = None, dtype: DType | str | None = None) -> Column:
    """Wrap a Python/numpy constant as a const column; columns pass through.

    The constant's dtype follows numpy's weak-scalar rule relative to ``like``:
    a Python float next to a float32 column is float32, next to an int64
    column float64; a Python int takes the column's numeric dtype.
    """
    if isinstance(value, Column):
        return value
    builder = like.builder if like is not None else current_builder()
    if dtype is None:
        dtype = _const_dtype(value, like.dtype if like is not None else None)
    dtype = as_dtype(dtype)
    arr = np.asarray(value, dtype=dtype.numpy if dtype is not DType.STRING else object)
    if arr.ndim > 1:
        raise TraceError(f"constants must be scalars or 1-D lists, got shape {arr.shape}")
    if dtype is DType.STRING and not all(isinstance(v, str) for v in np.ravel(arr)):
        raise TraceError(f"string constant must hold str values, got {value!r}")
    stored: Any = arr if arr.ndim == 1 else arr.item()
    return Column(builder, builder.add("const", (), value=stored, dtype=dtype.value))


def _const_dtype(value: Any, like: DType | None) -> DType:
    sample = value
    if isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value)
        if arr.size == 0:
            return like or DType.FLOAT64
        if arr.dtype.kind in "US" or arr.dtype == object:
            return DType.STRING
        sample = arr.ravel()[0]
        if arr.dtype.kind == "f" and like in (DType.FLOAT32, DType.FLOAT64):
            return like
        if arr.dtype.kind == "f":
            return DType.FLOAT64
    if isinstance(sample, bool | np.bool_):
        return DType.BOOL
    if isinstance(sample, str):
        return DType.STRING
    if isinstance(sample, np.floating):
        return DType(str(sample.dtype)) if sample.dtype != np.float16 else DType.FLOAT32
    if isinstance(sample, int | np.integer):
        return like if like is not None and like.is_numeric else DType.INT64
    if isinstance(sample, float):
        return like if like in (DType.FLOAT32, DType.FLOAT64) else DType.FLOAT64
    raise TraceError(f"cannot use {value!r} ({type(value).__name__}) as a constant")


class TraceInputs(MutableMapping[str, Any]):
    """The ``inputs`` dict passed to ``preprocessing_fn``: raw feature name -> `Column`.

    Behaves like the dict TFT passes: ``copy()``, ``pop``, item assignment and ``del``
    work, so ``outputs = inputs.copy(); outputs["x"] = ...; del outputs["label"]``
    ports as is. A feature is read (becomes part of the graph) only when its value is
    looked up, so copying reads nothing.

    Example:
        >>> import tskew as ts
        >>> def fn(inputs):
        ...     out = inputs.copy()
        ...     out["x"] = ts.scale_to_0_1(out.pop("x"))
        ...     del out["label"]
        ...     return out
        >>> tfn = ts.analyze(fn, {"x": [1.0, 3.0], "n": [1, 2], "label": [0, 1]})
        >>> list(tfn.graph.outputs), list(tfn.graph.inputs)
        (['n', 'x'], ['x', 'n'])
    """

    def __init__(self, builder: GraphBuilder):
        self._builder = builder
        self._set: dict[str, Any] = {}  # assigned entries (not raw features)
        self._deleted: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        if name in self._set:
            return self._set[name]
        if name in self._deleted:
            raise KeyError(name)
        return Column(self._builder, self._builder.input(name))

    def __setitem__(self, name: str, value: Any) -> None:
        self._set[name] = value

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._set.pop(name, None)
        if name in self._builder.schema:
            self._deleted.add(name)

    def __contains__(self, name: object) -> bool:
        if name in self._set:
            return True
        return name in self._builder.schema and name not in self._deleted

    def __iter__(self) -> Iterator[str]:
        raw = [n for n in self._builder.schema if n not in self._deleted and n not in self._set]
        return iter([*raw, *self._set])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, name: str, default: Any = None) -> Any:
        if name in self:
            return self[name]
        return default  # dict.get: an unknown name is not an error

    def pop(self, name: str, *default: Any) -> Any:
        """Like ``dict.pop``; an unknown feature without a default names the closest ones."""
        if default and name not in self:
            return default[0]
        value = self[name]
        del self[name]
        return value

    def copy(self) -> TraceInputs:
        """A shallow copy, like ``dict.copy``; reads no feature."""
        out = TraceInputs(self._builder)
        out._set, out._deleted = dict(self._set), set(self._deleted)
        return out


def trace(
    preprocessing_fn: Callable[[Mapping[str, Column]], Mapping[str, Any]], schema: Schema
) -> Graph:
    """Run ``preprocessing_fn`` symbolically and return its verified graph.

    Raises:
        TraceError: the function returns something other than a dict of
            per-row columns, or an output could be null.
        SchemaError: the function reads a feature the schema does not have.
    """
    builder = GraphBuilder(schema)
    with building(builder):
        outputs = preprocessing_fn(TraceInputs(builder))
    if not isinstance(outputs, Mapping) or not outputs:
        raise TraceError(
            f"preprocessing_fn must return a non-empty dict of name -> column, got {outputs!r}"
        )
    out_ids: dict[str, int] = {}
    for name, value in outputs.items():
        if not isinstance(name, str) or not name:
            raise TraceError(f"output names must be non-empty strings, got {name!r}")
        out_ids[name] = _check_output(builder, name, value)
    inputs = {n: builder.inputs[n] for n in schema if n in builder.inputs}
    return Graph(tuple(builder.nodes), inputs, out_ids).verify()


def _check_output(builder: GraphBuilder, name: str, value: Any) -> int:
    if not isinstance(value, Column) or value.builder is not builder:
        raise TraceError(
            f"output {name!r} must be a column built from inputs, got {type(value).__name__}"
        )
    vtype = value.type
    if vtype.shape is not Shape.ROW:
        raise TraceError(
            f"output {name!r} is a dataset statistic ({builder.describe(value.id)}), not a "
            "per-row feature; combine it with a feature, e.g. x - ts.mean(x)"
        )
    if vtype.nullable:
        nodes = builder.nodes
        nullable = [
            nodes[i].name
            for i in sorted(_ancestors(nodes, value.id))
            if nodes[i].op == "input" and nodes[i].type.nullable
        ]
        features = ", ".join(repr(n) for n in nullable) or "a nullable input"
        example = nullable[0] if nullable else "x"
        dtype = builder.schema[example].dtype.value if example in builder.schema else "float32"
        dtype = "bool_" if dtype == "bool" else dtype  # ts.bool_ (bool is Python's)
        raise TraceError(
            f"output {name!r} could be null: {builder.describe(value.id)} is null wherever "
            f"{features} is missing, and every output must be dense. Either the feature can "
            f"be missing: wrap it in ts.fill_missing({example}, value) or "
            f"ts.impute({example}, strategy=...); or it never is: declare it non-nullable "
            f"in the schema ({{{example!r}: ts.{dtype}(nullable=False)}}; schema features are "
            "nullable by default, and an inferred feature is nullable when the data has a null)"
        )
    return value.id


def _ancestors(nodes: list[Node], root: int) -> set[int]:
    seen: set[int] = set()
    stack = [root]
    while stack:
        nid = stack.pop()
        if nid not in seen:
            seen.add(nid)
            stack.extend(nodes[nid].inputs)
    return seen
