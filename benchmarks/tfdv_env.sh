#!/usr/bin/env bash
# Build benchmarks/.venv-tfdv: TensorFlow Data Validation 1.16.1 for golden data and benchmarks.
#
# TFDV is not a dependency of tskew. Its newest release has no wheel for this machine and
# resolving 1.16.1 with its dependencies backtracks for many minutes, so this script:
#   1. creates a plain venv (no --system-site-packages),
#   2. installs TensorFlow 2.21 + TensorFlow Transform 1.21 (which bring tfx-bsl 1.21,
#      tensorflow-metadata, apache-beam and pyarrow; about two minutes from the package mirror),
#   3. installs tensorflow-data-validation==1.16.1 with --no-deps, plus the few pure-Python
#      packages TFDV imports that TFT does not bring,
#   4. adds an empty stand-in module tfx_bsl/arrow/sql_util.py (tfx-bsl 1.21 removed it; TFDV
#      imports it only for SQL-based slicing, which nothing here uses),
#   5. checks that TFDV imports.
# Usage: bash benchmarks/tfdv_env.sh        (idempotent: does nothing when the venv already works)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${TFDV_VENV:-$HERE/.venv-tfdv}"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"

probe() {
    TF_CPP_MIN_LOG_LEVEL=3 "$PY" -c 'import tensorflow_data_validation as t; print(t.__version__)' \
        >/dev/null 2>&1
}

if [ -x "$PY" ] && probe; then
    echo "$VENV already has TFDV"
    exit 0
fi

echo "creating $VENV (TensorFlow 2.21 + TFT 1.21 + TFDV 1.16.1, a few minutes) ..."
"$PYTHON" -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q "tensorflow==2.21.*" "tensorflow-transform==1.21.*" pandas
"$PY" -m pip install -q --no-deps "tensorflow-data-validation==1.16.1"
# TFDV's own pure-Python requirements that TFT does not pull in (installed with their deps).
"$PY" -m pip install -q joblib pyfarmhash

SQL_UTIL="$("$PY" -c 'import os, tfx_bsl.arrow as a; print(os.path.join(os.path.dirname(a.__file__), "sql_util.py"))')"
if [ ! -f "$SQL_UTIL" ]; then
    cat > "$SQL_UTIL" <<'PYEOF'
"""Empty stand-in: tfx-bsl 1.21 removed this module; TFDV 1.16.1 imports it for SQL slicing only."""
PYEOF
fi

if probe; then
    echo "TFDV ready: $PY"
else
    TF_CPP_MIN_LOG_LEVEL=3 "$PY" -c 'import tensorflow_data_validation'
    exit 1
fi
