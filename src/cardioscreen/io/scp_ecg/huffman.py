"""SCP-ECG sample coding: Huffman tables (section 2), bit-stream decoding, first/second differences.

Codes are read most-significant bit first. A table entry has a prefix of ``prefix_bits``; when
``total_bits`` is larger, the next ``total_bits - prefix_bits`` bits hold the value itself (two's
complement), otherwise the entry's ``value`` is the sample. An entry with ``switch == 0`` changes to the
table numbered by its value. The standard's default table (section 2 declaring 19999) codes 0 as ``0``,
+-n (n = 1..8) as n ones, a zero and a sign bit, and escapes to 8- and 16-bit literals.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from cardioscreen.errors import ECGFormatError

DEFAULT_TABLE_ID = 19999
MAX_TABLES = 64
"""Most Huffman tables accepted in section 2 (each decoding table takes up to 2**16 entries; carts use a few)."""
_MAX_PREFIX_BITS = 16
_LITERAL_BITS = 16


class Code(NamedTuple):
    """One Huffman code: its bits (MSB first) and what they mean."""

    prefix_bits: int
    total_bits: int
    switch: int
    value: int
    code: int


def _default_table() -> list[Code]:
    codes = [Code(1, 1, 1, 0, 0b0)]
    for n in range(1, 9):
        ones = (1 << n) - 1
        codes.append(Code(n + 2, n + 2, 1, n, (ones << 2) | 0b00))
        codes.append(Code(n + 2, n + 2, 1, -n, (ones << 2) | 0b01))
    codes.append(Code(10, 18, 1, 0, 0b1111111110))
    codes.append(Code(10, 26, 1, 0, 0b1111111111))
    return codes


DEFAULT_TABLE: tuple[Code, ...] = tuple(_default_table())


def _reverse_bits(value: int, width: int) -> int:
    return int(f"{value:0{width}b}"[::-1], 2) if width else 0


def parse_tables(body: bytes) -> list[tuple[Code, ...]]:
    """Huffman tables of section 2 (its data after the 16-byte section header).

    The file stores each base code bit-reversed (first bit in the least significant position); the
    returned codes are MSB-first.
    """
    (count,) = struct.unpack_from("<H", body, 0)
    if count == DEFAULT_TABLE_ID:
        return [DEFAULT_TABLE]
    if count > MAX_TABLES:
        raise ECGFormatError(f"section 2 declares {count} Huffman tables; at most {MAX_TABLES} are accepted")
    tables, offset = [], 2
    for _ in range(count):
        (n_codes,) = struct.unpack_from("<H", body, offset)
        offset += 2
        codes = []
        for _ in range(n_codes):
            prefix, total, switch, value, code = struct.unpack_from("<BBBhI", body, offset)
            offset += 9
            if not 1 <= prefix <= _MAX_PREFIX_BITS or not prefix <= total <= prefix + _LITERAL_BITS:
                raise ECGFormatError(f"Huffman code with {prefix} prefix / {total} total bits is not usable")
            codes.append(Code(prefix, total, switch, value, _reverse_bits(code, prefix)))
        tables.append(tuple(codes))
    if not tables:
        raise ECGFormatError("section 2 declares no Huffman table")
    return tables


def _lookup(table: tuple[Code, ...], width: int) -> list[Code | None]:
    """For each ``width``-bit window, the code it starts with (None when no code matches)."""
    lut: list[Code | None] = [None] * (1 << width)
    for code in sorted(table, key=lambda c: -c.prefix_bits):
        shift = width - code.prefix_bits
        first = code.code << shift
        lut[first : first + (1 << shift)] = [code] * (1 << shift)
    return lut


def decode(data: bytes, n_samples: int, tables: list[tuple[Code, ...]]) -> np.ndarray:
    """Decode ``n_samples`` values of one lead from its Huffman-coded bytes.

    Raises :class:`ECGFormatError` when the stream ends early or holds a bit pattern no code matches.
    """
    width = max(code.prefix_bits for table in tables for code in table)
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    padded = np.concatenate([bits, np.zeros(width + _LITERAL_BITS, dtype=np.uint8)]).astype(np.int64)
    n_bits = bits.size
    windows = np.zeros(n_bits + 1, dtype=np.int64)
    literals = np.zeros(n_bits + 1, dtype=np.int64)
    for k in range(max(width, _LITERAL_BITS)):
        column = padded[k : k + n_bits + 1]
        if k < width:
            windows += column << (width - 1 - k)
        if k < _LITERAL_BITS:
            literals += column << (_LITERAL_BITS - 1 - k)
    window_list, literal_list = windows.tolist(), literals.tolist()
    luts: dict[int, list[Code | None]] = {}  # built when first switched to
    lut = luts[1] = _lookup(tables[0], width)
    out = [0] * n_samples
    pos, index = 0, 0
    while index < n_samples:
        if pos >= n_bits:
            raise ECGFormatError(f"Huffman data ends after {index} of {n_samples} samples")
        code = lut[window_list[pos]]
        if code is None:
            raise ECGFormatError(f"no Huffman code matches the bits at sample {index}")
        pos += code.prefix_bits
        if code.switch == 0:
            if not 1 <= code.value <= len(tables):
                raise ECGFormatError(f"Huffman table switch to missing table {code.value}")
            lut = luts.get(code.value) or luts.setdefault(code.value, _lookup(tables[code.value - 1], width))
            continue
        extra = code.total_bits - code.prefix_bits
        if extra:
            raw = literal_list[pos] >> (_LITERAL_BITS - extra)
            out[index] = raw - (1 << extra) if raw >> (extra - 1) else raw
            pos += extra
        else:
            out[index] = code.value
        index += 1
    if pos > n_bits:
        raise ECGFormatError("Huffman data ends inside the last code")
    return np.asarray(out, dtype=np.int64)


def undo_differences(values: np.ndarray, order: int) -> np.ndarray:
    """Samples from their first (``order=1``) or second (``order=2``) differences; 0 means stored as is.

    The first ``order`` values are samples; each later value is ``x[n] - x[n-1]`` (first) or
    ``x[n] - 2 x[n-1] + x[n-2]`` (second).
    """
    if order == 0 or values.size <= order:
        return values
    if order == 1:
        return np.cumsum(values)
    if order == 2:
        slopes = np.concatenate(([values[1] - values[0]], values[2:]))
        return values[0] + np.concatenate(([0], np.cumsum(np.cumsum(slopes))))
    raise ECGFormatError(f"difference order {order} is not defined by SCP-ECG (0, 1 or 2)")
