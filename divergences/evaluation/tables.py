"""Reading data tables for :func:`divergences.compare` and the command line.

CSV (UTF-8, optional BOM, quoted fields, delimiter detected among ``, ; TAB |`` or given,
missing cells as NaN, a first line of numbers detected as data rather than a header),
NumPy ``.npy`` / ``.npz`` and Parquet (with pyarrow, the ``data`` extra). Every file is read
through :func:`read_bounded` (regular files only, at most ``limit`` bytes, headers checked
against sizes before anything large is allocated); every problem raises
:class:`TableError` with a message that starts with the path.
"""

from __future__ import annotations

import array
import csv
import io
import math
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MAX_FILE_BYTES", "Table", "TableError", "read_bounded", "read_table"]

#: the most bytes read from one input file; also bounds the numbers kept (8 bytes each)
MAX_FILE_BYTES = 1 << 30

#: cells read as missing values (NaN), as pandas.read_csv's default ``na_values``
NA_TOKENS = frozenset(["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                       "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                       "nan", "null"])
DELIMITERS = (",", ";", "\t", "|")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


class TableError(ValueError):
    """A problem with an input file; the message starts with its path."""


@dataclass
class Table:
    """Columns read from one source: ``columns`` maps each name to a 1-D array (float64
    with NaN for missing cells, or object for a column of text), in file order.
    ``lines[k]`` is the file line of row ``k`` (CSV) or ``k + 1``; ``notes`` say what was
    inferred (a missing header, text columns)."""

    source: str
    columns: dict
    lines: np.ndarray
    notes: list = field(default_factory=list)
    text_examples: dict = field(default_factory=dict)

    @property
    def names(self):
        return list(self.columns)

    @property
    def n_rows(self):
        return self.lines.shape[0]


def _file_kind(mode):
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def read_bounded(path, limit=MAX_FILE_BYTES):
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    The file is opened without blocking (a FIFO with no writer would block ``open``) and
    checked with ``fstat`` on the open descriptor: directories, devices (``/dev/zero``),
    FIFOs and sockets are refused before anything is read. A file larger than the limit
    (even one growing while it is read) is refused after reading ``limit + 1`` bytes.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise TableError(f"file not found: {path}") from None
    except OSError as exc:
        raise TableError(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TableError(f"{path}: not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > limit:
            raise TableError(f"{path}: {info.st_size} bytes, more than the limit of {limit}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 24, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise TableError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise TableError(f"{path}: more than the limit of {limit} bytes (the file grew)")
    return b"".join(chunks)


def check_values(path, count, limit):
    """Refuse ``count`` numbers whose float64 copy would exceed ``limit`` bytes."""
    if count * 8 > limit:
        raise TableError(f"{path}: {count} numbers ({count * 8} bytes as float64), more "
                         f"than the limit of {limit // 8}")


def parse_npy(path, blob, limit=MAX_FILE_BYTES):
    """A 1-D or 2-D real array from the bytes of a ``.npy`` file, as float64 ``(n, k)``;
    the header is checked against the size of the data before anything is allocated."""
    fh = io.BytesIO(blob)
    if not blob.startswith(_NPY_MAGIC):
        what = "a .npz (zip) archive" if blob.startswith(_ZIP_MAGIC) else "no NumPy header"
        raise TableError(f"{path}: not a .npy file ({what}); save one array with numpy.save")
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:  # 3.0 is only written for structured dtypes with non-latin-1 field names
            raise ValueError(f"format version {version} is not supported")
    except (ValueError, TypeError, SyntaxError, EOFError, OverflowError) as exc:
        raise TableError(f"{path}: not a valid .npy file: {exc}") from None
    if dtype.hasobject or not np.issubdtype(dtype, np.number):
        raise TableError(f"{path}: non-numeric data (dtype {dtype})")
    if np.issubdtype(dtype, np.complexfloating):
        raise TableError(f"{path}: complex data (dtype {dtype}); save the real part, the "
                         "imaginary part or the modulus (numpy.abs) instead")
    if len(shape) not in (1, 2):
        raise TableError(f"{path}: expected a 1-D or 2-D array, got shape {shape}")
    count = math.prod(shape)
    expected, found = count * dtype.itemsize, len(blob) - fh.tell()
    if expected != found:
        raise TableError(f"{path}: the header announces shape {shape} of {dtype} "
                         f"({expected} bytes of data) but the file holds {found} bytes")
    check_values(path, count, limit)
    data = np.frombuffer(blob, dtype=dtype, count=count, offset=fh.tell())
    data = data.reshape(shape, order="F" if fortran else "C")
    return (data[:, None] if data.ndim == 1 else data).astype(np.float64)


def _from_matrix(path, data, names=None):
    # before names and line numbers: an array of shape (10**12, 0) or (0, 10**12) holds no
    # value, so it passes the byte bound, but numbering its rows (or naming its columns)
    # would allocate terabytes
    if data.shape[0] == 0:
        raise TableError(f"{path}: no data rows")
    if data.shape[1] == 0:
        raise TableError(f"{path}: no columns")
    names = names or [f"col{i}" for i in range(data.shape[1])]
    columns = {name: np.ascontiguousarray(data[:, k]) for k, name in enumerate(names)}
    return Table(path, columns, np.arange(1, data.shape[0] + 1))


def _parse_npz(path, blob, limit):
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        members = [i for i in archive.infolist() if i.filename.endswith(".npy")]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise TableError(f"{path}: not a valid .npz archive: {exc}") from None
    if not members:
        raise TableError(f"{path}: no array in the .npz archive")
    if sum(i.file_size for i in members) > limit:
        raise TableError(f"{path}: the arrays take {sum(i.file_size for i in members)} bytes "
                         f"once decompressed, more than the limit of {limit}")
    arrays = {}
    for info in members:
        key = info.filename[:-4]
        try:
            raw = archive.read(info)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise TableError(f"{path}[{key}]: cannot read: {exc}") from None
        arrays[key] = parse_npy(f"{path}[{key}]", raw, limit)
    if len(arrays) == 1:
        return _from_matrix(path, next(iter(arrays.values())))
    lengths = {key: a.shape for key, a in arrays.items()}
    if any(a.shape[1] != 1 for a in arrays.values()) or len({a.shape[0] for a in
                                                              arrays.values()}) != 1:
        raise TableError(f"{path}: several arrays must each be one column of equal length "
                         f"(the columns of a table), got shapes {lengths}")
    return _from_matrix(path, np.hstack(list(arrays.values())), list(arrays))


def _parse_parquet(path, blob, limit):
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise TableError(f"{path}: reading Parquet needs pyarrow: pip install "
                         "'divergences[data]'") from None
    try:
        pf = pq.ParquetFile(pa.BufferReader(blob))
        meta = pf.metadata
        size = sum(meta.row_group(k).total_byte_size for k in range(meta.num_row_groups))
        if size > limit:
            raise TableError(f"{path}: {size} bytes once decoded, more than the limit of "
                             f"{limit}")
        table = pf.read()
    except TableError:
        raise
    except Exception as exc:  # pyarrow's errors (ArrowInvalid, OSError...)
        raise TableError(f"{path}: not a readable Parquet file: {exc}") from None
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
            columns[str(name)] = np.asarray(values, dtype=np.float64)
        else:
            columns[str(name)] = np.asarray(column.to_pylist(), dtype=object)
    return Table(path, columns, np.arange(1, table.num_rows + 1))


def _detect_delimiter(text):
    """The delimiter giving the same number (> 1) of fields on the first lines; the first
    of :data:`DELIMITERS` on a tie; ``","`` when none splits them."""
    sample = [line for line in text[:1 << 16].splitlines()[:50] if line.strip()]
    if len(sample) > 1 and len(text) > 1 << 16:
        sample = sample[:-1]  # possibly cut in the middle
    best, width = ",", 1
    for delim in DELIMITERS:
        try:
            counts = {len(row) for row in csv.reader(sample, delimiter=delim)}
        except csv.Error:
            continue
        if len(counts) == 1 and (k := counts.pop()) > width:
            best, width = delim, k
    return best


def _number(cell):
    """The float of a cell, NaN for a missing value, None for text."""
    cell = cell.strip()
    if cell in NA_TOKENS:
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return None


def _check_names(path, names):
    seen = {}
    for k, name in enumerate(names, start=1):
        if not name:
            raise TableError(f"{path}:1: column {k} has no name")
        if name in seen:
            raise TableError(f"{path}:1: duplicate column name {name!r} "
                             f"(columns {seen[name]} and {k})")
        seen[name] = k
    return names


def _parse_csv(path, blob, sep, header, limit):
    if blob.startswith(_NPY_MAGIC):
        raise TableError(f"{path}: a NumPy .npy file; give it the .npy extension")
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"{path}: not UTF-8 text (byte {blob[exc.start]:#04x} at offset "
                         f"{exc.start}); a CSV file must be UTF-8 text") from None
    del blob
    delim = sep if sep is not None else _detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows = ((reader.line_num, row) for row in reader if any(c.strip() for c in row))
    try:
        first_line, first = next(rows, (0, None))
        if first is None:
            raise TableError(f"{path}: empty file (a CSV needs a header row)")
        values = [_number(c) for c in first]
        is_data = all(v is not None for v in values) and any(not math.isnan(v)
                                                            for v in values)
        notes = []
        if header is None and is_data:
            notes.append(f"{path}: the first line holds only numbers, so it is read as data "
                         f"and the columns are named col0..col{len(first) - 1} (pass "
                         "--header to read it as column names)")
        if header is False or (header is None and is_data):
            names, pending = [f"col{i}" for i in range(len(first))], [(first_line, first)]
        else:
            names, pending = _check_names(path, [c.strip() for c in first]), []
        return _csv_columns(path, names, pending, rows, limit, notes)
    except csv.Error as exc:
        raise TableError(f"{path}:{reader.line_num}: {exc}") from None


def _csv_columns(path, names, pending, rows, limit, notes):
    """Numeric columns as float arrays (NaN for missing cells); a column whose first
    non-missing cell is text is a text column (object array)."""
    width = len(names)
    numeric = [array.array("d") for _ in names]
    text = [None] * width  # list of str for text columns
    lines = array.array("q")
    max_values = limit // 8
    for lineno, cells in _chain(pending, rows):
        if len(cells) != width:
            raise TableError(f"{path}:{lineno}: {len(cells)} values for {width} columns")
        lines.append(lineno)
        for k, cell in enumerate(cells):
            if text[k] is not None:
                text[k].append(cell.strip())
                continue
            value = _number(cell)
            if value is None:
                comma = _DECIMAL_COMMA.match(cell.strip())
                if comma or not all(math.isnan(v) for v in numeric[k]):
                    hint = " (a decimal comma? write 1.5, not 1,5)" if comma else ""
                    raise TableError(f"{path}:{lineno}: non-numeric value {cell.strip()!r} "
                                     f"in column {names[k]!r}{hint}")
                text[k] = [""] * len(numeric[k]) + [cell.strip()]
                numeric[k] = None
                continue
            numeric[k].append(value)
        if len(lines) * width > max_values:
            check_values(path, len(lines) * width, limit)
    columns, examples = {}, {}
    for k, name in enumerate(names):
        if text[k] is not None:
            columns[name] = np.asarray(text[k], dtype=object)
            examples[name] = next(c for c in text[k] if c)
        else:
            columns[name] = np.frombuffer(numeric[k], dtype=np.float64)
    return Table(path, columns, np.frombuffer(lines, dtype=np.int64), notes, examples)


def _chain(first, rest):
    yield from first
    yield from rest


def read_table(path, *, sep=None, header=None, limit=MAX_FILE_BYTES):
    """Read a CSV, ``.npy``, ``.npz`` or Parquet file as a :class:`Table`.

    Parameters
    ----------
    path : str or os.PathLike
        The format is chosen by the extension: ``.npy``, ``.npz``, ``.parquet`` / ``.pq``;
        anything else is read as CSV.
    sep : str, optional
        The CSV delimiter; by default the one of ``, ; TAB |`` that splits the first
        lines into the same number of fields.
    header : bool, optional
        Whether the first CSV line holds the column names; by default yes unless every
        cell of it is a number (then the columns are named ``col0, col1, ...`` and the
        table's ``notes`` say so).
    limit : int
        The most bytes read (:func:`read_bounded`) and kept as float64.
    """
    path = os.fspath(path)
    blob = read_bounded(path, limit)
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".npy":
        table = _from_matrix(path, parse_npy(path, blob, limit))
    elif suffix == ".npz":
        table = _parse_npz(path, blob, limit)
    elif suffix in (".parquet", ".pq"):
        table = _parse_parquet(path, blob, limit)
    else:
        table = _parse_csv(path, blob, sep, header, limit)
    if table.n_rows == 0:
        raise TableError(f"{path}: no data rows")
    if not table.columns:
        raise TableError(f"{path}: no columns")
    return table
