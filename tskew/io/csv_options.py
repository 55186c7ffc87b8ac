"""How to read a CSV file: its header row, column names and delimiter.

``header="auto"`` (the default) takes the first row as the header but refuses one
that looks like data (see `check_header`), so a headerless file is never silently
read with its first record as column names.

Example:
    >>> opts = CsvOptions.of(header=None, column_names=["age", "job"], delimiter=";")
    >>> opts.has_header, opts.column_names, opts.delimiter_for(Path("a.csv"))
    (False, ('age', 'job'), ';')
    >>> CsvOptions().delimiter_for(Path("a.tsv")) == "\\t"
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tskew.errors import ConfigError, DataError
from tskew.schema import DType

AUTO = "auto"
Header = Any  # "auto" | True | False | None | 0


@dataclass(frozen=True)
class CsvOptions:
    """CSV reading options (plain data: Beam pickles it into its workers).

    Attributes:
        header: "auto" (first row is the header unless it looks like data: then an
            error), True or 0 (first row is the header, unchecked), None or False (no
            header row: every row is data).
        column_names: the column names, in file order; they replace the header's
            names (the header row is still skipped) or name a headerless file's columns.
        delimiter: one character (e.g. ``";"``, ``"\\t"``); None: tab for ``.tsv``,
            else comma.
    """

    header: Header = AUTO
    column_names: tuple[str, ...] | None = None
    delimiter: str | None = None

    @classmethod
    def of(
        cls,
        header: Header = AUTO,
        column_names: Sequence[str] | None = None,
        delimiter: str | None = None,
    ) -> CsvOptions:
        """Checked options; a bad value is a `ConfigError` naming the argument."""
        if isinstance(header, bool) or header is None or header == AUTO:
            pass
        elif isinstance(header, int) and header == 0:
            header = True  # pandas' spelling: row 0 is the header
        else:
            raise ConfigError(
                f"header={header!r}: expected 'auto' (first row is the header unless it "
                "looks like data), True / 0 (first row is the header) or None (no header row)"
            )
        names = None
        if column_names is not None:
            if isinstance(column_names, str):
                raise ConfigError(
                    f"column_names={column_names!r}: expected a list of names, e.g. "
                    f"{column_names.split(',')!r}"
                )
            names = tuple(str(n) for n in column_names)
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if not names or duplicates or not all(names):
                raise ConfigError(
                    f"column_names: expected distinct non-empty names, got {list(names)}"
                )
        if delimiter is not None and (
            not isinstance(delimiter, str) or len(delimiter.encode()) != 1 or delimiter in '"\r\n'
        ):
            raise ConfigError(
                f"delimiter={delimiter!r}: expected one ASCII character other than a quote "
                "or newline, e.g. ',', ';' or '\\t'"
            )
        return cls(header, names, delimiter)

    @property
    def has_header(self) -> bool:
        """Whether the first row is a header (to skip)."""
        return self.header not in (None, False)

    def delimiter_for(self, path: Path) -> str:
        """The delimiter of ``path``: the option, else tab for ``.tsv`` and comma."""
        if self.delimiter is not None:
            return self.delimiter
        name = path.name.lower()
        return "\t" if name.endswith((".tsv", ".tsv.gz", ".tsv.zip")) else ","

    def with_names(self, names: Sequence[str]) -> CsvOptions:
        """These options naming a headerless file's columns ``names`` if unnamed yet."""
        if self.has_header or self.column_names is not None:
            return self
        return CsvOptions(self.header, tuple(names), self.delimiter)


def header_looks_like_data(fields: Sequence[str], dtypes: Sequence[DType | None]) -> bool:
    """Whether a header row could be a data row: each field parses as its column's type
    and at least one is a number or bool (a column name is rarely ``39``).

    Example:
        >>> header_looks_like_data(["39", "State-gov"], [DType.INT64, DType.STRING])
        True
        >>> header_looks_like_data(["age", "job"], [DType.INT64, DType.STRING])
        False
        >>> header_looks_like_data(["name", "job"], [DType.STRING, DType.STRING])
        False
    """
    from tskew.io.conform import TEXT_PATTERNS

    typed = 0
    for text, dtype in zip(fields, dtypes, strict=True):
        if dtype is None or dtype is DType.STRING:
            continue
        if not re.match(TEXT_PATTERNS[dtype], text):
            return False
        typed += 1
    return typed > 0


def check_header(path: Path, fields: Sequence[str], dtypes: Sequence[DType | None]) -> None:
    """Refuse a header row that looks like data (``header="auto"``), with the fix.

    Raises:
        DataError: naming the file and the header row, suggesting ``header=None,
            column_names=[...]`` (or ``header=True`` to keep the row as the header).
    """
    if header_looks_like_data(fields, dtypes):
        raise header_error(path, fields)


def has_number(fields: Sequence[str]) -> bool:
    """Whether a field of a header row is a number (``"39"``, ``"2.5"``), as data is.

    Example:
        >>> has_number(["age", "job"]), has_number(["39", "State-gov"])
        (False, True)
    """
    from tskew.io.conform import TEXT_PATTERNS

    return any(re.match(TEXT_PATTERNS[DType.FLOAT64], text) for text in fields)


def header_error(path: Path, fields: Sequence[str]) -> DataError:
    """The error for a header row that looks like data, with both fixes."""
    shown = ", ".join(fields[:6]) + (", ..." if len(fields) > 6 else "")
    return DataError(
        f"{path} line 1: the header row ({shown}) looks like data: its fields parse as the "
        "types of the columns below (a numeric column's name is a number). If the file has "
        "no header row, pass header=None, column_names=[...] (CLI: --no-header "
        "--column-names a,b,...); if this row is the header, pass header=True"
    )
