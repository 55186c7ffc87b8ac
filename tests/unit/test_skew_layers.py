"""Layering: core types do not load interop or skew code; rendering does not load detection."""

from __future__ import annotations

import subprocess
import sys

import pytest

# module imported -> prefixes of tskew modules it must not load
LAYERS = {
    "tskew.schema": ("tskew.tfmd", "tskew.skew", "tskew.io"),
    "tskew.io": ("tskew.skew", "tskew.tfmd.statistics", "tskew.statistics"),
    "tskew.io.tfrecord": ("tskew.skew", "tskew.tfmd.statistics"),
    "tskew.tfmd": ("tskew.skew",),
    "tskew.skew.render": ("tskew.skew.detect", "tskew.skew.serving", "tskew.transform_fn"),
    "tskew.skew.serving.prediction_log": ("tskew.skew.detect", "tskew.skew.render"),
}


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_module_does_not_load_the_layers_above_it(module):
    code = (
        f"import sys, {module}\nprint('\\n'.join(m for m in sys.modules if m.startswith('tskew')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert module in loaded  # the check ran against the module itself
    wrong = [m for m in loaded if m.startswith(LAYERS[module])]
    assert not wrong, f"importing {module} loaded {wrong}"
