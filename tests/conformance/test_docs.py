"""The docs that derive from the op specs: the README's op table and ARCHITECTURE.md's
"How to add an op" walkthrough, which is executed here against a scoped registration."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

import tskew as ts
from tests.conformance import cases as cases_module
from tests.conformance.test_conformance import (
    BACKENDS,
    TABLES,
    _table_infer,
    assert_same_bits,
)
from tskew import catalog
from tskew.ops import elementwise
from tskew.ops.registry import OpList

ROOT = Path(__file__).resolve().parents[2]


def test_readme_op_table_is_generated_from_the_specs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- op-table:[^>]*-->\n(.*?)\n<!-- /op-table -->", readme, re.S)
    assert found, "README.md lost its <!-- op-table --> markers"
    assert found.group(1) == catalog.op_table_markdown(), (
        "README's op table is stale: paste the output of "
        "tskew.catalog.op_table_markdown() between the op-table markers"
    )


def walkthrough_blocks() -> list[str]:
    """The python blocks of ARCHITECTURE.md's "How to add an op", dedented, in order."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## How to add an op", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    return [re.sub(r"(?m)^   ", "", b) for b in blocks]


def _exec(block: str, module, **overrides) -> dict:
    """Run a doc block as if written in ``module`` (its names, with ``overrides``)."""
    namespace = {**vars(module), **overrides}
    exec(compile(block, f"ARCHITECTURE.md ({module.__name__})", "exec"), namespace)
    return namespace


def test_how_to_add_an_op_walkthrough_runs():
    from tskew.exporters import onnx as onnx_exporter
    from tskew.exporters import tensorflow as tf_exporter
    from tskew.lowering import LoweringTable

    spec_block, tf_block, onnx_block, case_block = walkthrough_blocks()
    specs = OpList()
    _exec(spec_block, elementwise, SPECS=specs)
    (spec,) = specs
    rows = {}
    for backend, block, module in [
        ("tensorflow", tf_block, tf_exporter),
        ("onnx", onnx_block, onnx_exporter),
    ]:
        table = LoweringTable(backend)
        _exec(block, module, lowering=table.register)
        rows[backend] = table["square"]
    case = eval(case_block.strip(), dict(vars(cases_module)))  # the block is one Case(...)

    with ExitStack() as scope:
        scope.enter_context(catalog.OPS.scoped(spec))
        scope.enter_context(TABLES["numpy"].scoped("square", spec.numpy))
        for backend, fn in rows.items():
            scope.enter_context(TABLES[backend].scoped("square", fn))
        try:
            assert any(line.startswith("square ") for line in catalog.ops_listing())
            assert "| `square` | op | `ts.square` |" in catalog.op_table_markdown()
            tfn = ts.analyze(case.fn, _table_infer(case.train))
            for backend, run in sorted(BACKENDS.items()):
                got = run(tfn, _table_infer(case.probe))["y"]
                want = np.asarray(case.expected_outputs()["y"], got.dtype)
                assert_same_bits(got, want, f"square on {backend}")
        finally:
            vars(ts).pop("square", None)  # ts.square was resolved from the scoped spec
    with pytest.raises(AttributeError):
        ts.square  # noqa: B018  (gone with its spec)
