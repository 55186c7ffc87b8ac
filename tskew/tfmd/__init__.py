"""tensorflow_metadata (TFMD) interop: the training baseline as TFMD statistics, TFMD schemas
as tskew schemas.

* `tskew.tfmd.statistics`: ``tfn.statistics`` as a ``DatasetFeatureStatisticsList`` that TFDV
  and Facets read (`write_statistics`, `read_statistics`, `to_statistics_proto`).
* `tskew.tfmd.schema`: a TFMD ``Schema`` (proto or ``schema.pbtxt``) as a `tskew.Schema`
  (`schema_from_tfmd`, `load_tfmd_schema`).

tensorflow_metadata is optional: it is imported only when a proto is built or parsed, and a
missing package is an `ImportError` naming it (``pip install tensorflow-metadata``).

Example:
    >>> import tskew.tfmd as tfmd
    >>> tfmd.OUTPUT_PREFIX
    'transformed/'
"""

from __future__ import annotations

from tskew.lazy import lazy_exports

# Loaded on first use: `tskew.io.schemas` needs only the schema half, which stays light.
_PUBLIC = {
    "is_tfmd_schema": "tskew.tfmd.schema",
    "load_tfmd_schema": "tskew.tfmd.schema",
    "schema_from_tfmd": "tskew.tfmd.schema",
    "FORMATS": "tskew.tfmd.statistics",
    "OUTPUT_PREFIX": "tskew.tfmd.statistics",
    "read_statistics": "tskew.tfmd.statistics",
    "to_statistics_proto": "tskew.tfmd.statistics",
    "write_statistics": "tskew.tfmd.statistics",
    "write_statistics_text": "tskew.tfmd.statistics",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_exports('tskew.tfmd', _PUBLIC, globals())
