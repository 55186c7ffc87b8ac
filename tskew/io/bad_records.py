"""Bad records: what was wrong, where, and the raw text; counted once each.

Example:
    >>> log = BadRecordLog(on_bad_record="skip")
    >>> log.report(BadRecord("taxi.csv", 7, "expected 18 fields, found 3", "1,2,3"))
    >>> log.count, str(log.examples[0])
    (1, "taxi.csv line 7: expected 18 fields, found 3: '1,2,3'")
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tskew.errors import DataError

RAW_LIMIT = 200
POLICIES = ("error", "skip")


@dataclass(frozen=True)
class BadRecord:
    """One malformed record: its source, 1-based line (or None), reason, raw text and
    0-based position among the source's records (rows; None when unknown)."""

    source: str
    line: int | None
    reason: str
    raw: str = ""
    row: int | None = None

    def __str__(self) -> str:
        where = f"{self.source} line {self.line}" if self.line is not None else self.source
        raw = f": {self.raw[:RAW_LIMIT]!r}" if self.raw else ""
        return f"{where}: {self.reason}{raw}"


@dataclass
class BadRecordLog:
    """Applies the bad-record policy: raise at the first one, or count and keep examples."""

    on_bad_record: str = "error"
    max_examples: int = 20
    count: int = 0
    examples: list[BadRecord] = field(default_factory=list)
    reports: int = 0  # every report, repeats on later passes included
    _seen: set[tuple] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if self.on_bad_record not in POLICIES:
            raise ValueError(f"on_bad_record must be one of {POLICIES}, got {self.on_bad_record!r}")

    def report(self, record: BadRecord) -> None:
        """Raise `DataError` (policy "error") or record it once (policy "skip")."""
        self.reports += 1
        if self.on_bad_record == "error":
            raise DataError(
                f"{record}. Fix the record, or pass on_bad_record='skip' to skip and count "
                "such records"
            )
        key = (record.source, record.line, record.row, record.reason, record.raw)
        if key in self._seen:  # the same record seen again on a later pass
            return
        self._seen.add(key)
        self.count += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(record)
