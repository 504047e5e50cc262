"""The PDF stream filters, decoded incrementally and within a budget (security 36).

Each filter is a generator from byte chunks to byte chunks of at most :data:`CHUNK` bytes (plus one
run), so that a stream is never held inflated in memory: a 1.5 MB file that inflates to gigabytes
costs :data:`CHUNK`-sized buffers and stops when :class:`Budget` says so. Flate and LZW honour the
TIFF and PNG predictors of ``/DecodeParms`` (names hidden behind a predictor are found too);
ASCIIHex, ASCII85 and RunLength complete the set a reader applies to text. Image codecs (DCT, JPX,
CCITT, JBIG2) are not decoded: their output is pixels, not PDF syntax.
"""

from __future__ import annotations

import base64
import binascii
import time
import zlib
from collections.abc import Iterable, Iterator

CHUNK = 64 * 1024
MAX_ROW = 1024 * 1024  # a predictor row longer than this is not a text stream
WHITESPACE = b"\x00\t\n\x0c\r "


class DecodeError(Exception):
    """The stream's data does not decode with the filters its dictionary names."""


class OverBudget(Exception):
    """The file needs more decoding (bytes or seconds) than one upload may cost."""


class Budget:
    """Bytes decoded across the whole file (every filter stage counts) and a deadline."""

    def __init__(self, max_bytes: int, max_seconds: float):
        self.max_bytes, self.spent = max_bytes, 0
        self.deadline = time.monotonic() + max_seconds

    def spend(self, count: int) -> None:
        self.spent += count
        if self.spent > self.max_bytes:
            raise OverBudget(f"more than {self.max_bytes} bytes decoded")
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise OverBudget("out of time")


def _metered(chunks: Iterable[bytes], budget: Budget) -> Iterator[bytes]:
    for chunk in chunks:
        budget.spend(len(chunk))
        yield chunk


def _int(parms: dict, key: str, default: int) -> int:
    value = parms.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# --- Flate and LZW, with predictors -----------------------------------------------------------

def flate(chunks: Iterable[bytes], parms: dict) -> Iterator[bytes]:
    return _predicted(_inflate(chunks), parms)


def _inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            pending = chunk
            while pending:
                out = inflater.decompress(pending, CHUNK)  # never more than CHUNK at once
                if out:
                    yield out
                if inflater.eof:
                    return
                pending = inflater.unconsumed_tail
        rest = inflater.flush()
    except zlib.error as exc:
        raise DecodeError(f"flate: {exc}") from None
    if rest:
        yield rest


def lzw(chunks: Iterable[bytes], parms: dict) -> Iterator[bytes]:
    return _predicted(_unlzw(chunks, _int(parms, "EarlyChange", 1)), parms)


def _unlzw(chunks: Iterable[bytes], early: int) -> Iterator[bytes]:
    """LZW as PDF uses it (§7.4.4): MSB-first codes of 9–12 bits, 256 clear, 257 end of data."""
    table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
    width, acc, held, previous = 9, 0, 0, b""
    out = bytearray()
    for chunk in chunks:
        for byte in bytes(chunk):
            acc, held = (acc << 8) | byte, held + 8
            while held >= width:
                held -= width
                code = acc >> held
                acc &= (1 << held) - 1
                if code == 256:
                    del table[258:]
                    width, previous = 9, b""
                    continue
                if code == 257:
                    if out:
                        yield bytes(out)
                    return
                if code < len(table):
                    entry = table[code]
                elif code == len(table) and previous:
                    entry = previous + previous[:1]
                else:
                    raise DecodeError("lzw: code outside the table")
                if previous and len(table) < 4096:
                    table.append(previous + entry[:1])
                if len(table) + early >= 1 << width and width < 12:
                    width += 1
                out += entry
                previous = entry
                if len(out) >= CHUNK:
                    yield bytes(out)
                    out.clear()
    if out:
        yield bytes(out)


def _predicted(chunks: Iterator[bytes], parms: dict) -> Iterator[bytes]:
    predictor = _int(parms, "Predictor", 1)
    if predictor <= 1:
        return chunks
    colors, bits, columns = _int(parms, "Colors", 1), _int(parms, "BitsPerComponent", 8), _int(parms, "Columns", 1)
    if not (1 <= colors <= 32 and bits in (1, 2, 4, 8, 16) and 1 <= columns <= 1 << 20):
        raise DecodeError("predictor parameters out of range")
    pixel = max(1, colors * bits // 8)
    row = (colors * bits * columns + 7) // 8
    if row > MAX_ROW:
        raise DecodeError("predictor rows too long")
    if predictor == 2:
        if bits != 8:
            raise DecodeError("TIFF predictor with other than 8 bits per component")
        return _rows(chunks, row, lambda raw, _prior: _tiff_row(raw, colors))
    if predictor >= 10:
        return _rows(chunks, row + 1, lambda raw, prior: _png_row(raw, prior, pixel))
    raise DecodeError(f"unknown predictor {predictor}")


def _rows(chunks: Iterable[bytes], size: int, undo) -> Iterator[bytes]:
    """Cut the data into rows of ``size`` bytes and undo each one (the last, short row is dropped)."""
    pending, prior, out = b"", None, bytearray()
    for chunk in chunks:
        pending += bytes(chunk)
        rows = len(pending) // size
        for i in range(rows):
            prior = undo(pending[i * size:(i + 1) * size], prior)
            out += prior
        pending = pending[rows * size:]
        if out:
            yield bytes(out)
            out.clear()


def _tiff_row(raw: bytes, colors: int) -> bytes:
    row = bytearray(raw)
    for i in range(colors, len(row)):
        row[i] = (row[i] + row[i - colors]) & 0xFF
    return bytes(row)


def _png_row(raw: bytes, prior: bytes | None, pixel: int) -> bytes:
    kind, row = raw[0], bytearray(raw[1:])
    up = prior if prior is not None else bytes(len(row))
    if kind == 0:
        pass
    elif kind == 1:
        for i in range(pixel, len(row)):
            row[i] = (row[i] + row[i - pixel]) & 0xFF
    elif kind == 2:
        row = bytearray((a + b) & 0xFF for a, b in zip(row, up, strict=True))
    elif kind == 3:
        for i in range(len(row)):
            left = row[i - pixel] if i >= pixel else 0
            row[i] = (row[i] + ((left + up[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(row)):
            a = row[i - pixel] if i >= pixel else 0
            c = up[i - pixel] if i >= pixel else 0
            b = up[i]
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    else:
        raise DecodeError(f"unknown PNG row filter {kind}")
    return bytes(row)


# --- the text encodings and RunLength --------------------------------------------------------

def ascii_hex(chunks: Iterable[bytes], _parms: dict) -> Iterator[bytes]:
    pending = b""
    try:
        for chunk in chunks:
            data = bytes(chunk)
            end = data.find(b">")
            digits = pending + (data if end < 0 else data[:end]).translate(None, WHITESPACE)
            cut = len(digits) - len(digits) % 2
            pending = digits[cut:]
            if cut:
                yield binascii.unhexlify(digits[:cut])
            if end >= 0:
                break
        if pending:
            yield binascii.unhexlify(pending + b"0")
    except binascii.Error as exc:
        raise DecodeError(f"asciihex: {exc}") from None


def ascii85(chunks: Iterable[bytes], _parms: dict) -> Iterator[bytes]:
    pending, first = b"", True
    try:
        for chunk in chunks:
            data = pending + bytes(chunk).translate(None, WHITESPACE)
            if first and len(data) >= 2:
                first = False
                data = data[2:] if data.startswith(b"<~") else data
            end = data.find(b"~")
            data = (data if end < 0 else data[:end]).replace(b"z", b"!!!!!")
            cut = len(data) - len(data) % 5
            pending = data[cut:]
            if cut:
                yield base64.a85decode(data[:cut])
            if end >= 0:
                break
        if pending:
            yield base64.a85decode(pending)
    except ValueError as exc:
        raise DecodeError(f"ascii85: {exc}") from None


def run_length(chunks: Iterable[bytes], _parms: dict) -> Iterator[bytes]:
    pending, out = b"", bytearray()
    for chunk in chunks:
        data = pending + bytes(chunk)
        i, n = 0, len(data)
        while i < n:
            length = data[i]
            if length == 128:
                if out:
                    yield bytes(out)
                return
            if length < 128:
                if i + length + 2 > n:
                    break
                out += data[i + 1:i + length + 2]
                i += length + 2
            else:
                if i + 2 > n:
                    break
                out += data[i + 1:i + 2] * (257 - length)
                i += 2
            if len(out) >= CHUNK:
                yield bytes(out)
                out.clear()
        pending = data[i:]
    if out:
        yield bytes(out)


DECODERS = {
    "FlateDecode": flate, "Fl": flate, "LZWDecode": lzw, "LZW": lzw,
    "ASCIIHexDecode": ascii_hex, "AHx": ascii_hex, "ASCII85Decode": ascii85, "A85": ascii85,
    "RunLengthDecode": run_length, "RL": run_length,
}
IMAGE_CODECS = {"DCTDecode", "DCT", "JPXDecode", "CCITTFaxDecode", "CCF", "JBIG2Decode"}


def decoded(chunks: Iterable[bytes], chain: list[tuple[str, dict]], budget: Budget) -> Iterator[bytes]:
    """The stream decoded through ``chain`` (name, parms) in order, every stage metered."""
    for name, parms in chain:
        decoder = DECODERS.get(name)
        if decoder is None:
            raise DecodeError(f"filter {name} is not one we decode")
        chunks = _metered(decoder(chunks, parms), budget)
    return iter(chunks)
