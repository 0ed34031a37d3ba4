"""Structure check of a MATLAB level 5 file, before :func:`scipy.io.loadmat` reads it.

scipy's element reader (``scipy/io/matlab/_mio5_utils.pyx``, C code) trusts what a file says in three places where
a damaged file crashes the process (SIGSEGV) instead of raising an exception:

- it looks the data type of a numeric or char element up in a table of 20 pointers without checking it
  (``VarReader5.read_numeric``, ``read_char``): types 0, 8, 10, 11, 14, 15 and 19 are NULL there, and a type from 20
  up reads memory past the table (which crashes or not depending on what lies there);
- it reads the parts of a matrix one after the other without comparing them with the matrix's byte count, so a
  complex flag, a sparse class or a deleted byte make it read the next variable's tag as a data element;
- it reads nested cells and structs by recursion in C: some thousands of levels overflow the C stack.

:func:`check_structure` walks the elements of the file as scipy will read them (each variable's tag, array flags,
dimensions, name and data elements, the cells and struct fields within, compressed variables inflated 1 MB at a
time, keeping none of their data) and refuses, with :class:`ECGFormatError`, a file where an element's type is not
one that scipy's table holds, an element runs past its variable (the bytes the variable declares, its compressed
stream, the file), the nesting is deeper than :data:`MAX_DEPTH`, an array declares more elements than
:data:`MAX_SAMPLES_PER_RECORD`, or the variables inflate past :data:`MAX_DECODED_BYTES`. Sparse matrices are refused
too: their index arrays are trusted by scipy.sparse's C++ routines, and an ECG is never one. What scipy itself
checks or ignores (the array flags' tag, the byte count of a nested matrix other than 0) is left to it.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.common import MAX_DECODED_BYTES
from cardioscreen.record import MAX_SAMPLES_PER_RECORD

__all__ = ["MAX_DEPTH", "check_structure", "mat_level"]

MAX_DEPTH = 32
"""Deepest nesting of cells, structs and objects read (a struct of cells of text is 2 deep; scipy crashes near
20,000)."""
HEADER_BYTES = 128
_CHUNK = 1 << 20
_NAME_BYTES = 64  # names up to this length are read for the messages (MATLAB allows 63 characters)
_MAX_DIMS_BYTES = 128  # scipy reads at most 32 dimensions

_MI_INT8, _MI_INT32, _MI_UINT32, _MI_MATRIX, _MI_COMPRESSED, _MI_UTF8 = 1, 5, 6, 14, 15, 16
_TABLE_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 16, 17, 18})
"""The data types in scipy's table (miINT8 ... miUINT64, miUTF8, miUTF16, miUTF32)."""
_CHAR_TYPES = frozenset({1, 2, 4, 16, 17, 18})
"""The data types scipy reads as text (miINT8, miUINT8, miUINT16, miUTF8, miUTF16, miUTF32)."""
_CELL, _STRUCT, _OBJECT, _CHAR, _SPARSE, _FUNCTION, _OPAQUE = 1, 2, 3, 4, 5, 16, 17
_NUMERIC_CLASSES = range(6, 16)  # mxDOUBLE_CLASS ... mxUINT64_CLASS


def mat_level(header: bytes) -> int:
    """The MAT-file level scipy will read a file as, from its first 128 bytes: 4, 5 (levels 5 to 7.2), 7 (7.3,
    HDF5) or 0 (none: scipy refuses it).

    As ``scipy.io.matlab._get_matfile_version``: a zero among the first four bytes means level 4; otherwise the
    version word at byte 124 (in the order its endian mark says) is 0x0100 for level 5 and 0x0200 for HDF5.
    """
    if 0 in header[:4]:
        return 4
    if len(header) < HEADER_BYTES:
        return 0
    major_at = 1 if header[126:127] == b"I" else 0
    return {1: 5, 2: 7}.get(header[124 + major_at], 0)


class _Source:
    """The bytes of one variable: a stretch of the file, or a compressed stretch inflated 1 MB at a time."""

    def __init__(self, handle: BinaryIO, n_bytes: int, where: str, *, compressed: bool, budget: int) -> None:
        self._handle, self._left, self._where, self._budget = handle, n_bytes, where, budget
        self._inflater = zlib.decompressobj() if compressed else None
        self._buffer, self._at = b"", 0
        self.inflated = 0

    def take(self, n_bytes: int, *, keep: bool = True) -> bytes:
        """The next ``n_bytes`` bytes (kept only when ``keep``; else skipped and ``b""`` returned)."""
        if self._inflater is None:
            if n_bytes > self._left:
                raise ECGFormatError(f"{self._where}: its elements run past the end of the variable")
            self._left -= n_bytes
            if keep:
                return self._handle.read(n_bytes)
            self._handle.seek(n_bytes, 1)
            return b""
        parts = []
        while n_bytes > 0:
            if self._at == len(self._buffer) and not self._inflate():
                raise ECGFormatError(f"{self._where}: its elements run past the end of its compressed data")
            step = min(n_bytes, len(self._buffer) - self._at)
            if keep:
                parts.append(self._buffer[self._at : self._at + step])
            self._at += step
            n_bytes -= step
        return b"".join(parts)

    def drain(self) -> None:
        """Inflate the rest of a compressed variable, keeping nothing, so that :attr:`inflated` is its size."""
        while self._inflater is not None and self._inflate():
            pass

    def _inflate(self) -> bool:
        """Inflate up to 1 MB more into the buffer; False at the end of the compressed data."""
        assert self._inflater is not None
        while not self._inflater.eof:
            data = self._inflater.unconsumed_tail
            if not data and self._left > 0:
                data = self._handle.read(min(self._left, _CHUNK))
                self._left -= len(data)
            if not data:
                return False
            try:
                out = self._inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise ECGFormatError(f"{self._where}: damaged compressed data ({exc})") from exc
            self.inflated += len(out)
            if self.inflated > self._budget:
                raise ECGFormatError(f"{self._where}: its variables hold more than {MAX_DECODED_BYTES} bytes")
            if out:
                self._buffer, self._at = out, 0
                return True
        return False


class _Walk:
    """Reads the elements of one variable as scipy will, checking each against what holds it."""

    def __init__(self, source: _Source, order: str, file_name: str) -> None:
        self.source, self.order, self.file_name = source, order, file_name

    def fail(self, where: str, problem: str) -> ECGFormatError:
        return ECGFormatError(f"{self.file_name}: damaged MAT-file: {where}: {problem}")

    def element(self, left: int, where: str, what: str, keep: int = 0) -> tuple[int, int, bytes, int]:
        """One data element within ``left`` bytes: (type, byte count, its data when at most ``keep`` bytes, bytes
        used with its padding)."""
        if left < 8:
            raise self.fail(where, f"its {what} is missing ({left} bytes left of the variable)")
        tag = self.source.take(8)
        first, second = struct.unpack(f"{self.order}II", tag)
        if first >> 16:  # a small element: type and byte count in the first four bytes, data in the last four
            kind, count = first & 0xFFFF, first >> 16
            if count > 4:
                raise self.fail(where, f"its {what} is a small element of {count} bytes (at most 4)")
            return kind, count, tag[4 : 4 + count], 8
        kind, count = first, second
        padded = count + -count % 8
        if 8 + count > left:
            raise self.fail(where, f"its {what} declares {count} bytes; the variable has {left - 8} left")
        used = min(8 + padded, left)
        data = self.source.take(count, keep=count <= keep)
        self.source.take(used - 8 - count, keep=False)
        return kind, count, data, used

    def name(self, left: int, where: str, what: str) -> tuple[str, int]:
        """A name element (miINT8, or miUTF8 as some writers store it): (the name, or "" when long, bytes used)."""
        kind, count, data, used = self.element(left, where, what, keep=_NAME_BYTES)
        if kind not in (_MI_INT8, _MI_UTF8):
            raise self.fail(where, f"its {what} is stored as data type {kind}, not text (miINT8)")
        return data.decode("latin-1"), used

    def data(self, left: int, where: str, what: str, text: bool) -> int:
        """The data element of a numeric (or, when ``text``, a char) array: bytes used."""
        kind, _, _, used = self.element(left, where, what)
        if kind not in (_CHAR_TYPES if text else _TABLE_TYPES):
            raise self.fail(where, f"its {what} is stored as data type {kind}, not a {'text' * text or 'numeric'} "
                                   "data type")
        return used

    def variable(self, where: str) -> None:
        """A compressed variable: its inflated data start with the miMATRIX tag of one matrix."""
        kind, count = struct.unpack(f"{self.order}II", self.source.take(8))
        if kind != _MI_MATRIX or not count:
            raise self.fail(where, f"its compressed data hold an element of data type {kind} and {count} bytes, "
                                   "not a matrix (miMATRIX)")
        self.matrix(count, where, 0)

    def nested(self, left: int, where: str, depth: int) -> int:
        """A matrix inside a cell, struct, object or function handle (a full miMATRIX tag): bytes used.

        scipy reads its parts whatever byte count it declares (only a count of 0, an empty matrix, is used), so they
        are bounded by what is left of the variable.
        """
        if left < 8:
            raise self.fail(where, f"missing ({left} bytes left of the variable)")
        kind, count = struct.unpack(f"{self.order}II", self.source.take(8))
        if kind != _MI_MATRIX:
            raise self.fail(where, f"an element of data type {kind} where a matrix (miMATRIX) belongs")
        return 8 + (self.matrix(left - 8, where, depth + 1) if count else 0)

    def matrix(self, left: int, where: str, depth: int) -> int:
        """The parts of a matrix after its miMATRIX tag, within ``left`` bytes, as scipy reads them: bytes used."""
        if depth > MAX_DEPTH:
            raise self.fail(where, f"cells, structs or objects nested more than {MAX_DEPTH} deep")
        start = left
        if left < 16:
            raise self.fail(where, f"its array flags are missing ({left} bytes left of the variable)")
        (flags,) = struct.unpack(f"{self.order}I", self.source.take(16)[8:12])  # scipy skips the flags' tag
        mclass, is_complex, left = flags & 0xFF, flags >> 11 & 1, left - 16
        if mclass == _OPAQUE:  # a MATLAB object: three names, then a matrix
            for what in ("name", "type system", "class name"):
                left -= self.name(left, where, what)[1]
            return start - left + self.nested(left, f"{where}, its contents", depth)
        kind, count, dims_data, used = self.element(left, where, "dimensions", keep=_MAX_DIMS_BYTES)
        if kind not in (_MI_INT32, _MI_UINT32) or count > _MAX_DIMS_BYTES or count % 4:
            raise self.fail(where, f"its dimensions are {count} bytes of data type {kind} (up to 32 miINT32)")
        dims = struct.unpack(f"{self.order}{count // 4}i", dims_data)
        if any(d < 0 for d in dims):
            raise self.fail(where, f"negative dimensions {list(dims)}")
        if (size := math.prod(dims)) > MAX_SAMPLES_PER_RECORD:
            raise self.fail(where, f"dimensions {list(dims)} hold more elements than any record")
        name, name_used = self.name(left - used, where, "name")
        left -= used + name_used
        where = f"variable {name!r}" if depth == 0 and name else where
        if mclass in _NUMERIC_CLASSES or mclass == _CHAR:
            parts = ("real part", "imaginary part") if is_complex and mclass != _CHAR else ("data",)
            for part in parts:
                left -= self.data(left, where, part, mclass == _CHAR)
        elif mclass == _SPARSE:
            raise self.fail(where, "a sparse matrix (an ECG file holds full arrays)")
        elif mclass == _CELL:
            left -= self.children(left, where, "cell", size, depth)
        elif mclass in (_STRUCT, _OBJECT):
            if mclass == _OBJECT:
                left -= self.name(left, where, "class name")[1]
            left -= self.fields(left, where, size, depth)
        elif mclass == _FUNCTION:
            left -= self.nested(left, f"{where}, its workspace", depth)
        else:
            raise self.fail(where, f"array class {mclass}, which is not a MATLAB class")
        return start - left

    def fields(self, left: int, where: str, size: int, depth: int) -> int:
        """A struct's field-name length, field names and ``size`` times its fields' matrices: bytes used."""
        kind, count, data, used = self.element(left, where, "field name length", keep=4)
        if kind not in (_MI_INT32, _MI_UINT32) or count != 4:
            raise self.fail(where, f"its field name length is {count} bytes of data type {kind} (one miINT32)")
        (length,) = struct.unpack(f"{self.order}i", data)
        if length < 1:
            raise self.fail(where, f"a field name length of {length}")
        kind, count, _, names_used = self.element(left - used, where, "field names")
        if kind not in (_MI_INT8, _MI_UTF8):
            raise self.fail(where, f"its field names are stored as data type {kind}, not text (miINT8)")
        return used + names_used + self.children(left - used - names_used, where, "field", size * (count // length),
                                                 depth)

    def children(self, left: int, where: str, what: str, count: int, depth: int) -> int:
        """``count`` nested matrices (a cell's cells, a struct's fields): bytes used."""
        if 8 * count > left:
            raise self.fail(where, f"{count} {what}s cannot fit in the {left} bytes left of the variable")
        used = 0
        for i in range(count):
            used += self.nested(left - used, f"{where}, {what} {i + 1}" if depth < 3 else where, depth)
        return used


def check_structure(path: Path) -> None:
    """Refuse a MATLAB level 5 file that scipy's reader would crash on or that holds too much, before it reads it.

    Other levels pass unchecked (scipy reads level 4 in Python; HDF5 and unknown levels are refused elsewhere).

    Parameters
    ----------
    path : Path
        The ``.mat`` file.

    Raises
    ------
    ECGFormatError
        Naming the variable and the element that is out of place (see the module's documentation), or saying that
        the variables hold more than :data:`MAX_DECODED_BYTES` bytes.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.read(HEADER_BYTES)
        if mat_level(header) != 5:
            return
        order = "<" if header[126:128] == b"IM" else ">"
        total, index = 0, 0
        while tag := handle.read(8):
            index += 1
            where = f"variable {index}"
            if len(tag) < 8:
                raise ECGFormatError(f"{path.name}: damaged MAT-file: it ends inside the tag of {where}")
            kind, n_bytes = struct.unpack(f"{order}II", tag)
            start = handle.tell()
            if not n_bytes:
                raise ECGFormatError(f"{path.name}: damaged MAT-file: {where} declares 0 bytes")
            if kind not in (_MI_MATRIX, _MI_COMPRESSED):
                raise ECGFormatError(f"{path.name}: damaged MAT-file: {where} is an element of data type {kind}, "
                                     "not a matrix (miMATRIX) or compressed matrix (miCOMPRESSED)")
            compressed = kind == _MI_COMPRESSED
            n_bytes = min(n_bytes, size - start)  # scipy reads what is there, whatever the variable declares
            source = _Source(handle, n_bytes, path.name, compressed=compressed, budget=MAX_DECODED_BYTES - total)
            walk = _Walk(source, order, path.name)
            if compressed:
                walk.variable(where)
                source.drain()
                total += source.inflated
            else:
                walk.matrix(n_bytes, where, 0)
                total += n_bytes
            if total > MAX_DECODED_BYTES:
                raise ECGFormatError(f"{path.name}: its variables hold more than {MAX_DECODED_BYTES} bytes")
            handle.seek(start + n_bytes)
