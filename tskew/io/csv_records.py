"""Splitting CSV bytes into records, with the physical line each record starts on.

A quoted field may hold newlines, so a record can span lines; an unclosed quote
must not swallow the rest of the file. Blocks are cut at record boundaries here,
before Arrow parses them:

* fast path (numpy): when every line has an even number of ``"`` bytes, no quoted
  field can span lines (RFC 4180), so records are the non-blank lines;
* slow path (Python, only for blocks with an odd-quote line): a small state
  machine with Arrow's quoting rules finds multi-line records. A quoted field
  that does not close cleanly (the file ends first, text follows the closing
  quote, or it runs longer than `MAX_QUOTED_BYTES`) makes the line it opened on a
  bad record; reading resumes on the next line.

Example:
    >>> blocks = list(split_blocks([b'1,"x\\ny"\\n', b'2,"oops\\n3,z\\n'], ord(","), 2))
    >>> [(b.lines.tolist(), b.unclosed) for b in blocks]
    [([2], []), ([5], [(4, b'2,"oops')])]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

QUOTE = ord('"')
NEWLINE = ord("\n")
MAX_QUOTED_BYTES = 1 << 24  # a quoted field open this long is taken to be unclosed
SCAN_SLICE = 1 << 16  # bytes per numpy pass when checking quotes


@dataclass
class Block:
    """Complete records of a CSV, ready for Arrow.

    Attributes:
        data: the records joined by newlines (no header).
        lines: the 1-based physical line each record starts on, in order.
        unclosed: (line, text) of lines dropped for an unclosed quote.
        maybe_blank: ``lines`` numbers every line, blank ones too (checking is left
            until a parse shows fewer records than lines: see `drop_blank_lines`).
    """

    data: bytes
    lines: np.ndarray
    unclosed: list[tuple[int, bytes]] = field(default_factory=list)
    maybe_blank: bool = False


def split_blocks(chunks: Iterable[bytes], delimiter: int, first_line: int) -> Iterator[Block]:
    """Cut a stream of byte chunks (after the header) into blocks of whole records.

    Args:
        chunks: the file's bytes after its header line, in any chunk sizes.
        delimiter: the field delimiter byte.
        first_line: the physical line number of the first byte.
    """
    pending = b""
    line = first_line
    for chunk in chunks:
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        if not cut:
            continue
        whole = pending if cut == len(pending) else pending[:cut]
        block, rest, line = _records(whole, delimiter, line, final=False)
        pending = rest + pending[cut:]
        if len(block.lines) or block.unclosed:
            yield block
    while pending:  # the end of the file: nothing more can close a quote
        block, pending, line = _records(pending, delimiter, line, final=True)
        if len(block.lines) or block.unclosed:
            yield block


def _records(buf: bytes, delimiter: int, line: int, final: bool) -> tuple[Block, bytes, int]:
    """Records of ``buf`` (whole lines), the unfinished tail, and the tail's first line."""
    unterminated = final and len(buf) and buf[-1] != NEWLINE  # a last line without "\n"
    if b'"' not in buf or _even_quotes_per_line(buf):  # one record per line
        count = buf.count(b"\n") + bool(unterminated)
        lines = line + np.arange(count, dtype=np.int64)
        return Block(buf, lines, maybe_blank=True), b"", line + count
    view = np.frombuffer(buf, np.uint8)
    stops = np.flatnonzero(view == NEWLINE)
    if unterminated:
        stops = np.append(stops, len(buf))
    starts = np.concatenate(([0], stops[:-1] + 1))
    return _slow_records(buf, starts, stops, delimiter, line, final)


def _even_quotes_per_line(buf: bytes) -> bool:
    """Whether every line of ``buf`` has an even number of quotes, i.e. the running
    quote count is even at every newline and at the end (in slices: bounded memory)."""
    view = np.frombuffer(buf, np.uint8)
    carry = np.uint8(0)
    for start in range(0, len(view), SCAN_SLICE):
        part = view[start : start + SCAN_SLICE]
        running = np.cumsum(part == QUOTE, dtype=np.uint8)  # wraps, keeping the parity
        running += carry
        if (running[part == NEWLINE] & 1).any():
            return False
        carry = running[-1]
    return not carry & 1


def nonblank_lines(view: np.ndarray, stops: np.ndarray, line: int) -> np.ndarray:
    """Numbers of the lines ending at ``stops`` that are not blank (Arrow skips those)."""
    lengths = np.diff(stops, prepend=-1) - 1
    before = view[np.clip(stops - 1, 0, max(len(view) - 1, 0))] if len(view) else stops
    blank = (lengths == 0) | ((lengths == 1) & (before == ord("\r")))
    return line + np.flatnonzero(~blank)


def drop_blank_lines(block: Block) -> None:
    """Remove blank lines from ``block.lines`` (for a block made with ``maybe_blank``)."""
    view = np.frombuffer(block.data, np.uint8)
    stops = np.flatnonzero(view == NEWLINE)
    if len(stops) < len(block.lines):  # a last line without a newline
        stops = np.append(stops, len(view))
    block.lines = nonblank_lines(view, stops, int(block.lines[0]))
    block.maybe_blank = False


def _slow_records(
    buf: bytes, starts: np.ndarray, stops: np.ndarray, delimiter: int, line: int, final: bool
) -> tuple[Block, bytes, int]:
    """The state-machine path, for blocks where a quoted field may span lines."""
    texts = [buf[s:e] for s, e in zip(starts.tolist(), stops.tolist(), strict=True)]
    records: list[bytes] = []
    numbers: list[int] = []
    unclosed: list[tuple[int, bytes]] = []
    i, n = 0, len(texts)
    while i < n:
        text = texts[i]
        if not text.strip(b"\r"):
            i += 1
            continue
        if b'"' not in text or not _line_state(text, False, delimiter)[0]:
            records.append(text)
            numbers.append(line + i)
            i += 1
            continue
        end, size = _closing_line(texts, i, delimiter)
        if end is None and size <= MAX_QUOTED_BYTES and not final:
            break  # may close in the next chunk: keep these lines for it
        if end is None or end < 0:
            unclosed.append((line + i, text))
            i += 1
            continue
        records.append(b"\n".join(texts[i : end + 1]))
        numbers.append(line + i)
        i = end + 1
    consumed = int(stops[i - 1]) + 1 if i else 0
    if final and i == n:
        consumed = len(buf)
    block = Block(b"\n".join(records) + b"\n" if records else b"", np.array(numbers, np.int64))
    block.unclosed = unclosed
    return block, buf[consumed:], line + i


def _closing_line(texts: list[bytes], first: int, delimiter: int) -> tuple[int | None, int]:
    """Index of the line where the quoted field opened on line ``first`` closes
    (-1: it closes badly; None: not within these lines) and the bytes scanned."""
    size = len(texts[first])
    for j in range(first + 1, len(texts)):
        size += len(texts[j]) + 1
        if size > MAX_QUOTED_BYTES:
            return -1, size
        in_quote, clean = _line_state(texts[j], True, delimiter)
        if not clean:
            return -1, size
        if not in_quote:
            return j, size
    return None, size


def _line_state(text: bytes, in_quote: bool, delimiter: int) -> tuple[bool, bool]:
    """(inside a quoted field at the end of ``text``, the line closed a continued field
    cleanly). Arrow's rules: a quote opens a field only at its start; ``""`` inside
    a quoted field is a quote; a closing quote is followed by a delimiter or the end."""
    continued = in_quote  # the open field started on an earlier line
    pos = 0
    while True:
        q = text.find(b'"', pos)
        if q < 0:
            return in_quote, True
        if not in_quote:
            if q == 0 or text[q - 1] == delimiter:
                in_quote = True
            pos = q + 1
            continue
        after = text[q + 1 : q + 2]
        if after == b'"':
            pos = q + 2
            continue
        if after not in (b"", b"\r") and after[0] != delimiter and continued:
            return False, False  # text after the quote that closes a multi-line field
        in_quote, continued, pos = False, False, q + 1
