"""The op catalog: every op module, listed explicitly, and the facts derived from them.

To find an op: its spec (type rule, attributes, numpy semantics, doc) is in the
module below that defines it; its TensorFlow and ONNX lowerings are the rows
``@lowering("<op>")`` of `tskew.exporters.tensorflow` (with `tf_strings`,
`tf_labels`) and `tskew.exporters.onnx`.

Example:
    >>> get_op("add").doc
    'a + b in the promoted dtype'
    >>> sorted(CATEGORY_OPS)
    ['apply_buckets', 'apply_vocabulary', 'hash_strings', 'map_labels', 'top_k']
    >>> ulp_tolerances()["onnx"]["log1p"]
    2
"""

from __future__ import annotations

from tskew.analyzers import defs as analyzer_ops
from tskew.ops import elementwise, labels, strings, structural
from tskew.ops.registry import OpSpec, Registry

OPS = Registry(
    [structural.SPECS, elementwise.SPECS, strings.SPECS, labels.SPECS, analyzer_ops.SPECS]
)


def get_op(name: str) -> OpSpec:
    """The spec of op ``name``; `GraphError` listing the known ops otherwise."""
    return OPS.get(name)


def all_ops() -> dict[str, OpSpec]:
    """Every op by name."""
    return OPS.all()


# Ops whose int64 output is a category id: described (and compared) as categories, not numbers.
CATEGORY_OPS = frozenset(name for name, spec in all_ops().items() if spec.categorical)


def ulp_tolerances() -> dict[str, dict[str, int]]:
    """backend -> op -> how many ulp its results may differ from numpy (others: 0)."""
    out: dict[str, dict[str, int]] = {}
    for name, spec in all_ops().items():
        for backend, ulps in spec.ulp.items():
            out.setdefault(backend, {})[name] = ulps
    return out


def dsl_names() -> list[str]:
    """The ``ts.*`` functions that add one op each (mappers composing ops are in `tskew.dsl`)."""
    return sorted(spec.dsl for spec in all_ops().values() if spec.dsl)


def _spelling(spec: OpSpec) -> str:
    if spec.dsl:
        return f"ts.{spec.dsl}"
    return _OPERATORS.get(spec.name, "-")


# How the ops without a ``ts.*`` function are written in a preprocessing_fn.
_OPERATORS = {
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "neg": "-a",
    "eq": "a == b", "ne": "a != b", "lt": "a < b", "le": "a <= b", "gt": "a > b",
    "ge": "a >= b", "and": "a & b", "or": "a | b", "not": "~a",
    "quantile": "ts.impute(x, 'median')",
    "most_frequent": "ts.impute(x, 'most_frequent')",
    "top_k": "ts.policy.top_k_labels", "map_labels": "ts.policy.map_labels",
    "input": "inputs[name]", "const": "a Python literal",
}  # fmt: skip


def _kind(spec: OpSpec) -> str:
    return "analyzer" if spec.analyzer else "op"


def _mappers() -> list[tuple[str, str]]:
    """(name, doc) of the DSL functions composing several ops; imported late (dsl traces ops)."""
    from tskew import dsl

    return [(n, " ".join((getattr(dsl, n).__doc__ or "").split())) for n in dsl.MAPPERS]


def ops_listing() -> list[str]:
    """What ``tskew ops`` prints: every op, then the mappers, each with its whole doc.

    Example:
        >>> print(ops_listing()[0])  # doctest: +NORMALIZE_WHITESPACE
        abs  op  ts.abs  |a| keeping the dtype.
    """
    ops = sorted(all_ops().items())
    width = max(len(name) for name, _ in ops)
    spelled = max(len(_spelling(s)) for _, s in ops)
    lines = [
        f"{name:<{width}}  {_kind(s):<8}  {_spelling(s):<{spelled}}  {_semantics(s)}"
        for name, s in ops
    ]
    mappers = _mappers()
    width = max(len(name) for name, _ in mappers) + 3
    lines += ["", "mappers (TFT names; each composes the ops above):"]
    lines += [f"{'ts.' + name:<{width}}  {doc}" for name, doc in mappers]
    return lines


def _semantics(spec: OpSpec) -> str:
    """The doc, plus the ulp a backend may differ by (the one fact users must know)."""
    if not spec.ulp:
        return spec.doc
    ulps = ", ".join(f"{backend} {n}" for backend, n in sorted(spec.ulp.items()))
    return f"{spec.doc} (within ulp of numpy: {ulps})"


def op_table_markdown() -> str:
    """The README's op table, generated from the specs (a test keeps the README in sync)."""
    rows = ["| op | kind | written as | semantics |", "|---|---|---|---|"]
    for name, spec in sorted(all_ops().items()):
        doc = _semantics(spec).replace("|", "\\|")
        spelling = _spelling(spec).replace("|", "\\|")
        rows.append(f"| `{name}` | {_kind(spec)} | `{spelling}` | {doc} |")
    rows += ["", "| mapper | semantics |", "|---|---|"]
    rows += [f"| `ts.{name}` | {doc.replace('|', chr(92) + '|')} |" for name, doc in _mappers()]
    return "\n".join(rows)
