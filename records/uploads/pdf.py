"""The PDF check: refuse active content, within bounded memory and time (security 36).

Decision (item 36 "reject or rasterise"): **refuse**. A PDF with JavaScript, automatic or launch
actions, form submission or data import, links into other files, rich media, attachments, XFA or
encryption is refused with a message saying so; a PDF we cannot check within the bounds below is
refused too. Nothing is rewritten, so nothing hostile is kept byte for byte.

How it reads the file, as a reader would but never more than a budget allows:

- Objects are found where a reader can find them: every ``N G obj`` header anywhere in the bytes
  (a reader follows the cross-reference table to any offset, so an object hidden inside another
  object's string or stream data is found too), and every ``trailer``. Each object's syntax is
  tokenised; every name in it — inside strings too, ``#xx`` escapes decoded — is checked against
  :data:`FORBIDDEN`.
- A stream is decoded (Flate, LZW, ASCIIHex, ASCII85, RunLength, chained, with predictors; see
  :mod:`records.uploads.pdf_filters`) unless it is an image, a font program, an ICC profile or a
  cross-reference stream, and its names checked as it is decoded, a chunk at a time with a small
  overlap, so that object streams (``/Type /ObjStm``: dictionaries compressed inside a stream) hide
  nothing. An object stream we cannot decode is refused.
- Bounds per file: :data:`MAX_DECODED_BYTES` decoded in total over every filter stage,
  :data:`MAX_PARSED_BYTES` of syntax tokenised, :data:`MAX_OBJECTS` objects, :data:`MAX_STREAMS`
  streams, :data:`MAX_FILTERS` filters per stream and :data:`MAX_SECONDS` of work. Over any of them
  the file is refused (415) as one we cannot check. Memory stays at the file itself plus a few
  64 KB buffers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from records.uploads.pdf_filters import CHUNK, DECODERS, IMAGE_CODECS, Budget, DecodeError, OverBudget, decoded
from records.uploads.pdf_syntax import (
    END_OF_WORD,
    NAME,
    REGULAR,
    TOKEN,
    WS,
    Name,
    Ref,
    name_of,
    parse_dictionary,
    string_end,
)
from records.uploads.refusals import NOT_ACCEPTED, PDF_ACTIVE, PDF_INCOMPLETE, PDF_UNCHECKABLE, Refused

# Names that start something the reader runs or fetches, or hide the content from this check.
FORBIDDEN = frozenset({
    "JavaScript", "JS",  # scripts (/S /JavaScript, /JS, the /JavaScript name tree)
    "AA",  # additional actions: run on open, close, page view, keystroke …
    "Launch", "SubmitForm", "ImportData", "GoToR", "GoToE",  # programs, form posts, other files
    "RichMedia", "Rendition", "Movie", "Sound", "3D",  # media players and 3D (which run scripts)
    "EmbeddedFile", "EmbeddedFiles", "EF",  # attachments
    "XFA",  # XML forms, with their own scripts
    "Encrypt",  # encrypted: nothing inside can be checked
})
_FORBIDDEN_RAW = frozenset(name.encode() for name in FORBIDDEN)
_SUSPECT = re.compile(rb"/(?:" + b"|".join(re.escape(n) for n in sorted(_FORBIDDEN_RAW, key=len, reverse=True))
                      + rb")(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])|/[^\x00\t\n\x0c\r ()<>\[\]{}/%#]*#")
MAX_DECODED_BYTES = 64 * 1024 * 1024
MAX_PARSED_BYTES = 32 * 1024 * 1024
MAX_OBJECTS = 100_000
MAX_STREAMS = 20_000
MAX_FILTERS = 4
MAX_SECONDS = 5.0

_GAP = rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*+)"  # whitespace or a comment; possessive: no backtracking
_OBJ = re.compile(rb"(?<=[\x00\t\n\x0c\r 0-9])obj" + END_OF_WORD)  # not "endobj"
# "N G" just before an "obj", searched backwards from each "obj" (a forward search from every digit of
# a 10 MB scan is ten times slower). The common case, "12 0 obj", is read by hand; a comment between
# the numbers sends it to the regular expression.
_OBJ_NUMBERS = re.compile(rb"(?<![0-9])(\d{1,10})" + _GAP + rb"++\d{1,5}" + _GAP + rb"*+\Z")
_TRAILER = re.compile(rb"trailer" + END_OF_WORD)
_ORDINARY = re.compile(rb"(?:[^()<>\[\]%]++|<[0-9A-Fa-f\x00\t\n\x0c\r ]*+>)*+")  # hex strings included
_EOL = re.compile(rb"[\r\n]")
_STREAM_EOL = re.compile(rb"stream(?:\r\n|\n|\r)?")
_ENDSTREAM = b"endstream"
_ABBREVIATIONS = {"AHx": "ASCIIHexDecode", "A85": "ASCII85Decode", "LZW": "LZWDecode", "Fl": "FlateDecode",
                  "RL": "RunLengthDecode", "CCF": "CCITTFaxDecode", "DCT": "DCTDecode"}


def pdf_check(data: bytes) -> None:
    """Refuse (:class:`Refused`, 415) a PDF that is incomplete, active, or beyond the bounds."""
    if not data.startswith(b"%PDF-"):  # the header at offset 0, not the 1024 bytes a reader tolerates
        raise Refused(NOT_ACCEPTED, reason="no %PDF- header at offset 0")
    if b"%%EOF" not in data[-2048:]:
        raise Refused(PDF_INCOMPLETE, reason="no %%EOF at the end")
    try:
        _Scan(data).run()
    except OverBudget as exc:
        raise Refused(PDF_UNCHECKABLE, reason=str(exc)) from None


def check_names(data: bytes, start: int, end: int) -> None:
    """Refuse if a forbidden name is written in ``data[start:end]``. Only the forbidden names themselves and
    names with a ``#`` escape are looked at, by one regular expression, so millions of names cost little."""
    for suspect in _SUSPECT.finditer(data, start, end):
        raw = NAME.match(data, suspect.start(), end).group(1)
        _Scan.check_name(raw)


def _number_before(data: bytes, end: int) -> int | None:
    """The object number of an ``N G obj`` whose "obj" starts at ``end``, or None."""
    i = end
    while i and data[i - 1] in WS:
        i -= 1
    gen_end = i
    while i and 0x30 <= data[i - 1] <= 0x39:
        i -= 1
    gap_end = i
    while i and data[i - 1] in WS:
        i -= 1
    num_end = i
    while i and 0x30 <= data[i - 1] <= 0x39:
        i -= 1
    if 0 < gen_end - gap_end <= 5 and gap_end > num_end and 0 < num_end - i <= 10:
        return int(data[i:num_end])
    if data.rfind(b"%", max(0, end - 256), end) < 0:  # no comment can sit between the numbers
        return None
    numbers = _OBJ_NUMBERS.search(data, max(0, end - 256), end)
    return int(numbers.group(1)) if numbers else None


class _Scan:
    def __init__(self, data: bytes):
        self.data, self.view = data, memoryview(data)
        self.budget = Budget(MAX_DECODED_BYTES, MAX_SECONDS)
        self.parsed = self.objects = self.streams = 0
        self.headers: dict[int, list[int]] = {}

    def run(self) -> None:
        found = list(self.object_headers())
        self.objects = len(found)
        for match in _TRAILER.finditer(self.data):
            self.value(match.end())
        for start in found:
            self.indirect_object(start)
            self.budget.check_time()

    def object_headers(self) -> Iterator[int]:
        """Where each ``N G obj`` header ends, anywhere in the file; remembered by object number."""
        count = 0
        for match in _OBJ.finditer(self.data):
            number = _number_before(self.data, match.start())
            if number is None:
                continue
            count += 1
            if count > MAX_OBJECTS:
                raise OverBudget(f"more than {MAX_OBJECTS} objects")
            self.headers.setdefault(number, []).append(match.end())
            yield match.end()

    # --- syntax -----------------------------------------------------------------------------

    def check_names(self, start: int, end: int) -> None:
        check_names(self.data, start, end)

    @staticmethod
    def check_name(raw: bytes) -> None:
        if raw in _FORBIDDEN_RAW or (b"#" in raw and name_of(raw) in FORBIDDEN):
            raise Refused(PDF_ACTIVE, reason=f"/{name_of(raw)}")

    def token(self, pos: int):
        """The next significant token from ``pos``: (kind, start, end); strings are read whole."""
        data = self.data
        while True:
            match = TOKEN.match(data, pos)
            if match is None:
                return "eof", pos, pos
            kind = match.lastgroup
            if kind in ("ws", "comment"):
                pos = match.end()
                continue
            if kind == "string":
                end = string_end(data, match.end(), self.budget)
                self.check_names(match.end(), end)  # a name in a string is checked too: cheap, and safe
                return "string", match.start(), end
            return kind, match.start(), match.end()

    def value(self, pos: int) -> tuple[str, int, int]:
        """Read one value from ``pos`` as a reader would and check every name in it, strings and comments
        included. (first token's kind, start, end). Only brackets, strings, comments and hex strings stop
        the scan; the names are then found in one pass at C speed."""
        kind, start, end = self.token(pos)
        if kind == "name":
            self.check_name(self.data[start + 1:end])
        if kind != "open":
            self.spend_parsing(end - pos)
            return kind, start, end
        data, depth, turns = self.data, 1, 0
        while depth:
            end = _ORDINARY.match(data, end).end()  # all that does not open or close: at C speed
            if end >= len(data):
                break
            char, pair = data[end], data[end:end + 2]
            if pair in (b"<<", b">>"):
                depth += 1 if pair == b"<<" else -1
                end += 2
            elif char in b"[]":
                depth += 1 if char == 0x5B else -1
                end += 1
            elif char == 0x28:  # "("
                end = string_end(data, end + 1, self.budget)
            elif char == 0x25:  # "%": a comment, to the end of its line
                line = _EOL.search(data, end)
                end = line.start() if line else len(data)
            else:  # a "<" that opens no hex string, or a lone ">"
                end += 1
            turns += 1
            if turns % 4096 == 0:
                self.budget.check_time()
        self.spend_parsing(end - start)
        self.check_names(start, end)
        return kind, start, end

    def spend_parsing(self, count: int) -> None:
        self.parsed += count
        if self.parsed > MAX_PARSED_BYTES:
            raise OverBudget(f"more than {MAX_PARSED_BYTES} bytes of syntax")

    def indirect_object(self, pos: int) -> None:
        kind, start, end = self.value(pos)
        if kind != "open" or self.data[start:start + 2] != b"<<":
            return
        after, keyword_start, keyword_end = self.token(end)
        if after != "word" or self.data[keyword_start:keyword_end] != b"stream":
            return
        self.streams += 1
        if self.streams > MAX_STREAMS:
            raise OverBudget(f"more than {MAX_STREAMS} streams")
        body = _STREAM_EOL.match(self.data, keyword_start).end()
        self.stream(parse_dictionary(self.data, start, end), body)

    # --- streams ----------------------------------------------------------------------------

    def stream(self, info: dict, body: int) -> None:
        object_stream = "First" in info or info.get("Type") == "ObjStm"
        if not object_stream and _binary(info):
            return
        chain = filter_chain(info)
        if any(name in IMAGE_CODECS for name, _parms in chain):
            if object_stream:
                raise OverBudget("an object stream behind an image codec")
            return  # pixels, not syntax
        if object_stream and isinstance(info.get("N"), int):
            self.objects += info["N"]
            if self.objects > MAX_OBJECTS:
                raise OverBudget(f"more than {MAX_OBJECTS} objects")
        end = self.stream_end(info, body)
        chunks = (self.view[i:min(i + CHUNK, end)] for i in range(body, end, CHUNK))
        try:
            self.check_decoded(decoded(chunks, chain, self.budget))
        except DecodeError as exc:
            if object_stream:
                raise OverBudget(f"object stream does not decode: {exc}") from None

    def stream_end(self, info: dict, body: int) -> int:
        """The longest extent a reader might take: /Length (direct, or each definition of an indirect
        one) or the first ``endstream``, whichever reaches further — decoding more never hides less."""
        found = self.data.find(_ENDSTREAM, body)
        ends = [found if found >= 0 else len(self.data)]
        for length in self.lengths(info.get("Length")):
            if 0 <= length <= len(self.data) - body:
                ends.append(body + length)
        return max(ends)

    def lengths(self, value) -> list[int]:
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
        if isinstance(value, Ref):
            found = []
            for pos in self.headers.get(value.number, [])[:8]:
                kind, start, end = self.token(pos)
                if kind == "word" and self.data[start:end].isdigit():
                    found.append(int(self.data[start:end]))
            return found
        return []

    def check_decoded(self, chunks: Iterator[bytes]) -> None:
        """Names in decoded data, a chunk at a time; a name cut by a chunk boundary is carried over."""
        carry = b""
        for chunk in chunks:
            data = carry + bytes(chunk)
            cut = len(data.rstrip(REGULAR))
            if cut and data[cut - 1] == 0x2F:  # a '/' just before the trailing run: a name may go on
                cut -= 1
            check_names(data, 0, cut)
            carry = data[cut:]
            if len(carry) > 64:  # longer than any forbidden name, even fully #xx-escaped
                carry = b""
        check_names(carry, 0, len(carry))


def _binary(info: dict) -> bool:
    """Pixels, a font program, an ICC profile or a cross-reference table: no syntax to check inside."""
    return (info.get("Subtype") in ("Image", "Type1C", "CIDFontType0C", "OpenType")
            or info.get("Type") == "XRef"
            or any(key in info for key in ("Length1", "Length2", "Length3"))
            or ("N" in info and "First" not in info))  # /N without /First: an ICC profile


def filter_chain(info: dict) -> list[tuple[str, dict]]:
    filters = info.get("Filter")
    parms = info.get("DecodeParms")
    names = [filters] if isinstance(filters, Name) else filters if isinstance(filters, list) else []
    if filters is not None and (not names or not all(isinstance(n, Name) for n in names)):
        raise OverBudget("a /Filter that is not a name or a list of names")
    if len(names) > MAX_FILTERS:
        raise OverBudget(f"more than {MAX_FILTERS} filters on one stream")
    parms = parms if isinstance(parms, list) else [parms] * len(names)
    chain = []
    for i, name in enumerate(names):
        name = _ABBREVIATIONS.get(name, name)
        if name not in DECODERS and name not in IMAGE_CODECS:
            raise OverBudget(f"filter /{name} cannot be checked")
        given = parms[i] if i < len(parms) else None
        if isinstance(given, Ref):  # a reader would follow it; we do not, so we cannot check
            raise OverBudget("indirect /DecodeParms")
        chain.append((name, given if isinstance(given, dict) else {}))
    return chain


