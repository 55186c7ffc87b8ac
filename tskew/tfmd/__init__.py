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

from tskew.tfmd.schema import is_tfmd_schema, load_tfmd_schema, schema_from_tfmd
from tskew.tfmd.statistics import (
    FORMATS,
    OUTPUT_PREFIX,
    read_statistics,
    to_statistics_proto,
    write_statistics,
    write_statistics_text,
)

__all__ = [
    "FORMATS",
    "OUTPUT_PREFIX",
    "is_tfmd_schema",
    "load_tfmd_schema",
    "read_statistics",
    "schema_from_tfmd",
    "to_statistics_proto",
    "write_statistics",
    "write_statistics_text",
]
