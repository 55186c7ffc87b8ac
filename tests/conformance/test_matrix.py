"""The op x backend x dtype matrix, generated from the op specs, lowering tables and cases.

A cell is one op on one backend for one dtype combination (its `signature`, e.g.
``cast(string)->float32``) that a conformance case produces. Every cell is either
lowered (and `test_conformance.py` runs the cases holding it on that backend,
checking their values) or declared unsupported with a reason (a strict expected
failure). A missing lowering, or an op no case exercises, fails. Nothing here is
maintained by hand: a new op is picked up from its spec.
"""

from __future__ import annotations

from functools import cache

import pytest

import tskew as ts
from tests.conformance.cases import CASES
from tests.conformance.test_conformance import TABLES, _table_infer
from tskew.catalog import all_ops
from tskew.ir.graph import Graph
from tskew.lowering import signature
from tskew.tracing import trace

# Not lowered by any backend: the executor binds it to the batch's column.
BOUND_BY_THE_EXECUTOR = {"input"}


@cache
def case_graphs() -> dict[str, tuple[Graph, Graph]]:
    """case name -> (traced graph with its analyzers, frozen graph the backends lower)."""
    out = {}
    for case in CASES:
        tfn = ts.analyze(case.fn, _table_infer(case.train))
        out[case.name] = (trace(case.fn, tfn.input_schema), tfn.graph)
    return out


def lowered_cells() -> dict[tuple[str, str], list[str]]:
    """(op, signature) -> the cases whose frozen graph holds it."""
    cells: dict[tuple[str, str], list[str]] = {}
    for name, (_, frozen) in case_graphs().items():
        for node in frozen.nodes:
            if node.op not in BOUND_BY_THE_EXECUTOR:
                cells.setdefault((node.op, signature(frozen, node)), []).append(name)
    return cells


def matrix() -> list:
    """Every cell as a pytest param; declared-unsupported cells are strict xfails."""
    cells = lowered_cells()
    params = []
    row_ops = sorted(n for n, s in all_ops().items() if not s.analyzer)
    for op in row_ops:
        if op in BOUND_BY_THE_EXECUTOR:
            continue
        sigs = sorted(sig for (o, sig) in cells if o == op) or [f"{op}(?)"]
        for backend, table in sorted(TABLES.items()):
            for sig in sigs:
                status = table.status(op, sig)
                marks = []
                if status.startswith("unsupported"):
                    marks = [
                        pytest.mark.xfail(reason=status, strict=True, raises=ts.UnsupportedOpError)
                    ]
                params.append(pytest.param(backend, op, sig, id=f"{backend}-{sig}", marks=marks))
    return params


@pytest.mark.parametrize(("backend", "op", "sig"), matrix())
def test_cell(backend, op, sig):
    table = TABLES[backend]
    holders = lowered_cells().get((op, sig), [])
    assert holders, (
        f"no conformance case produces {op} after freezing: add one to tests/conformance/cases.py"
    )
    status = table.status(op, sig)
    assert status != "missing", (
        f"{backend} has no lowering of {op}: add a row @lowering({op!r}) to its table, "
        f"or declare it in the table's `unsupported` with the reason"
    )
    if status.startswith("unsupported"):
        # Declared: exporting a case holding the cell must be refused (a strict xfail).
        table.check(case_graphs()[holders[0]][1])
    runs = [h for h in holders if not table.declared_unsupported(case_graphs()[h][1])]
    assert runs, (
        f"{sig} is lowered on {backend}, but every case holding it ({', '.join(holders)}) also "
        f"uses something {backend} refuses, so it never runs there: add a case without that"
    )


@pytest.mark.parametrize("op", sorted(n for n, s in all_ops().items() if s.analyzer))
def test_analyzer_is_exercised_for_each_accumulator(op):
    """Every analyzer runs in some case, and has the extraction its spec promises."""
    spec = all_ops()[op]
    uses = [
        (name, spec.accumulator_for(traced.nodes[node.inputs[0]].type.dtype))
        for name, (traced, _) in case_graphs().items()
        for node in traced.nodes
        if node.op == op
    ]
    assert uses, (
        f"no conformance case uses the analyzer {op}: add one to tests/conformance/cases.py"
    )
    assert callable(spec.extract)


def test_every_declared_reason_is_said():
    """Each `unsupported` declaration names an op of the catalog and gives a reason."""
    ops = all_ops()
    for backend, table in TABLES.items():
        for key, reason in table.unsupported.items():
            assert key.split("(")[0] in ops, f"{backend}: {key!r} is not an op"
            assert len(reason) > 20, f"{backend}: say why {key} is not expressible"
