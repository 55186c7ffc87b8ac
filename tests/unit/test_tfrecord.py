"""TFRecord framing and reading (`tskew.io.tfrecord`): one CRC policy, fast CRC or not."""

from __future__ import annotations

import gzip
import zlib

import pytest

from tskew.errors import DataError
from tskew.io import tfrecord
from tskew.io.bad_records import BadRecordLog

RECORDS = [b"", b"a", bytes(range(256)) * 3, "température 東京".encode()]


@pytest.fixture(params=["fast", "python"])
def crc(request, monkeypatch):
    """Run with the installed CRC, then with the pure-Python fallback (as without google-crc32c)."""
    if request.param == "python":
        monkeypatch.setattr(tfrecord, "crc32c", tfrecord.crc32c_python)
    return request.param


def test_crc32c_check_value_and_fallback_agree():
    assert tfrecord.crc32c_python(b"123456789") == 0xE3069283  # the CRC-32C check value
    for data in RECORDS:
        assert tfrecord.crc32c_python(data) == tfrecord.crc32c(data)


def test_single_record_framing_round_trips_and_refuses_corruption(crc):
    for data in RECORDS:
        framed = tfrecord.frame(data)
        assert len(framed) == 16 + len(data)
        assert tfrecord.unframe(framed) == data
    data = RECORDS[2]
    assert tfrecord.unframe(data) is None  # not framed at all
    assert tfrecord.unframe(tfrecord.frame(data) + tfrecord.frame(b"x")) is None  # two records
    framed = tfrecord.frame(data)
    with pytest.raises(ValueError, match="data CRC mismatch"):
        tfrecord.unframe(framed[:20] + bytes([framed[20] ^ 1]) + framed[21:])


def _write(path, data: bytes, compression: str | None) -> None:
    if compression == "gzip":
        data = gzip.compress(data)
    elif compression == "zlib":
        data = zlib.compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("compression", [None, "gzip", "zlib"])
def test_iter_records_reads_plain_and_compressed_files(tmp_path, compression, crc):
    path = tmp_path / "r.tfrecord"
    _write(path, b"".join(tfrecord.frame(r) for r in RECORDS), compression)
    assert list(tfrecord.iter_records(path, BadRecordLog("error"))) == list(
        enumerate(RECORDS, start=1)
    )


def test_a_data_crc_mismatch_is_a_bad_record_even_without_google_crc32c(tmp_path, crc):
    records = [tfrecord.frame(r) for r in (b"first", b"second", b"third")]
    damaged = bytearray(records[1])
    damaged[12] ^= 0xFF  # a byte of the second record's data: the framing still holds
    path = tmp_path / "d.tfrecord"
    path.write_bytes(records[0] + bytes(damaged) + records[2])
    log = BadRecordLog("skip")
    assert list(tfrecord.iter_records(path, log)) == [(1, b"first"), (3, b"third")]
    assert log.count == 1 and log.examples[0].line == 2
    assert log.examples[0].reason == "data CRC mismatch"
    with pytest.raises(DataError, match=r"d.tfrecord line 2: data CRC mismatch"):
        list(tfrecord.iter_records(path, BadRecordLog("error")))


def test_damaged_framing_ends_the_file(tmp_path, crc):
    good = tfrecord.frame(b"good")
    bad_length = bytearray(good)
    bad_length[0] ^= 1
    cases = {
        "length": (good + bytes(bad_length) + good, "corrupt record length"),
        "truncated": (good + good[:-3], "truncated record"),
    }
    for name, (data, reason) in cases.items():
        path = tmp_path / f"{name}.tfrecord"
        path.write_bytes(data)
        log = BadRecordLog("skip")
        assert list(tfrecord.iter_records(path, log)) == [(1, b"good")], name
        assert log.count == 1 and log.examples[0].line == 2 and reason in log.examples[0].reason
