"""The op specs as the one source: layering, attribute checks, and what derives from them."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tskew as ts
from tskew import catalog
from tskew.dsl import MAPPERS
from tskew.tracing import GraphBuilder


def _modules_loaded_by(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    code = f"import sys; {statement}; print([m for m in sys.modules if m.startswith({prefixes!r})])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout)


def test_the_registry_is_a_leaf():
    loaded = _modules_loaded_by(
        "import tskew.ops.registry", ("tskew.analyzers", "tskew.exporters", "tskew.ops.elementwise")
    )
    assert loaded == []


def test_the_core_imports_no_exporter():
    statement = "import tskew.analysis, tskew.compiler, tskew.transform_fn, tskew.catalog"
    assert _modules_loaded_by(statement, ("tskew.exporters",)) == []


def test_attributes_are_checked_when_traced():
    builder = GraphBuilder(ts.Schema({"n": ts.int64(False)}))
    n = builder.input("n")
    with pytest.raises(ts.TraceError, match=r"one_hot: unknown attribute dept \(known: depth\)"):
        builder.add("one_hot", (n,), depth=3, dept=3)
    with pytest.raises(ts.TraceError, match="hash_strings: input must be string"):
        builder.add("hash_strings", (n,), hash_buckets=3)
    s = GraphBuilder(ts.Schema({"s": ts.string(False)}))
    vocab = s.add("const", (), value=("a",), dtype="string")
    # True passes the type rule's isinstance(int) check; the schema refuses a bool count
    with pytest.raises(ts.TraceError, match="num_oov_buckets must be int, got True"):
        s.add("apply_vocabulary", (s.input("s"), vocab), num_oov_buckets=True)


def test_public_names_are_the_specs_dsl_names_and_the_mappers():
    dsl = {spec.dsl for spec in catalog.all_ops().values() if spec.dsl}
    assert set(ts.__all__) >= dsl | set(MAPPERS)
    assert all(callable(getattr(ts, name)) for name in dsl | set(MAPPERS))


def test_facts_read_elsewhere_come_from_the_specs():
    from tskew.verify import ULP_TOLERANCE

    specs = catalog.all_ops()
    assert {n for n, s in specs.items() if s.categorical} == catalog.CATEGORY_OPS
    for backend, ops in ULP_TOLERANCE.items():
        assert ops == {n: s.ulp[backend] for n, s in specs.items() if backend in s.ulp}


def test_tskew_ops_lists_every_op_and_mapper_with_its_whole_doc(capsys):
    from tskew.cli import main

    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name, spec in catalog.all_ops().items():
        assert any(line.startswith(name + " ") and spec.doc in line for line in lines), name
    for name in MAPPERS:
        assert f"ts.{name} " in out
