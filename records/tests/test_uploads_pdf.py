"""The PDF check: no scripts through, bounded memory and time (security 36, first and third holes).

Before these bounds the check inflated every Flate stream (50 MB each) and kept them all: the deflate bomb
below took 1.55 GB and was accepted; JavaScript in an ASCIIHex, ASCII85, LZW or predicted object
stream, /SubmitForm, /AA, /GoToR, /ImportData, an /EF attachment without /Type, HTML and a ZIP in a
PDF were all stored; and a forbidden name met by chance in image data (/JS in a JPEG) refused a good
scan. Each test below failed on that code.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zlib

import pytest
from PIL import Image

from records.uploads import pdf as pdf_module
from records.uploads.pdf import FORBIDDEN, pdf_check
from records.uploads.pdf_filters import _unlzw, flate
from records.uploads.refusals import Refused
from tests.hostile.corpus import (
    SCRIPT_ACTION,
    ascii85,
    ascii_hex,
    catalog_with,
    deflate_bomb,
    lzw,
    object_stream,
    pdf,
    png_predicted,
    run_length,
    scan_image,
    stream,
)


def refusal(data: bytes) -> Refused:
    with pytest.raises(Refused) as caught:
        pdf_check(data)
    assert caught.value.status_code == 415
    return caught.value


def test_a_deflate_bomb_is_refused_in_bounded_memory_and_time():
    """1.5 MB inflating to 1.5 GB: refused after 64 MB of decoding, peak < 100 MB, < 10 s."""
    bomb = deflate_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    started = time.monotonic()
    try:
        error = refusal(bomb)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "无法完成安全检查" in error.message and "decoded" in error.reason
    assert peak < 100 * 1024 * 1024 and time.monotonic() - started < 10


def test_decoding_is_bounded_over_the_whole_file_not_per_stream():
    """Many streams of 40 MB each (under any per-stream limit) still stop at the file's budget."""
    chunk = stream(b"/Filter/FlateDecode", zlib.compress(b" " * 40 * 1024 * 1024, 9))
    assert "decoded" in refusal(pdf(chunk, chunk)).reason


@pytest.mark.parametrize(("label", "filters", "encode"), [
    ("Flate", b"/Filter/FlateDecode", zlib.compress),
    ("ASCIIHex", b"/Filter/ASCIIHexDecode", ascii_hex),
    ("ASCII85", b"/Filter/ASCII85Decode", ascii85),
    ("LZW", b"/Filter/LZWDecode", lzw),
    ("LZW, no early change", b"/Filter/LZWDecode/DecodeParms<</EarlyChange 0>>", lambda data: lzw(data, early=0)),
    ("RunLength", b"/Filter/RunLengthDecode", run_length),
    ("abbreviated chain", b"/Filter[/AHx/Fl]", lambda data: ascii_hex(zlib.compress(data))),
    ("ASCII85, Flate and a PNG predictor", b"/Filter[/A85/Fl]/DecodeParms[null<</Predictor 15/Columns 9>>]",
     lambda data: ascii85(zlib.compress(png_predicted(data, 9)))),
    ("hex, LZW and RunLength", b"/Filter[/AHx/LZW/RL]", lambda data: ascii_hex(lzw(run_length(data)))),
])
def test_scripts_in_encoded_object_streams_are_found_and_the_same_stream_without_one_passes(label, filters, encode):
    """JavaScript inside an object stream, behind every filter a reader undoes, is refused; the same
    object stream holding a harmless dictionary is accepted, so it is the content that is judged."""
    hostile = pdf(object_stream([(9, SCRIPT_ACTION)], filters, encode), catalog=catalog_with(b"/OpenAction 9 0 R"))
    assert SCRIPT_ACTION not in hostile and b"JavaScript" not in hostile
    assert refusal(hostile).reason == "/JavaScript"
    pdf_check(pdf(object_stream([(9, b"<</Type/Action/S/GoTo/D[3 0 R/Fit]>>")], filters, encode),
                  catalog=catalog_with(b"/OpenAction 9 0 R")))


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_each_forbidden_name_is_refused_also_hex_escaped(name):
    """Every name on the list, as written and with each letter #xx-escaped (/J#61vaScript), is refused (security 36)."""
    escaped = "".join(f"#{ord(ch):02X}" for ch in name).encode()
    for written in (name.encode(), escaped):
        assert refusal(pdf(b"<</Type/Annot/" + written + b" 1>>")).reason == f"/{name}"


def test_an_object_hidden_where_a_sequential_reader_would_not_look_is_found():
    """A reader jumps to any offset the cross-reference table names: an object inside a string or inside
    an image's data is parsed as an object (security 36)."""
    in_a_string = pdf(b"(9 0 obj " + SCRIPT_ACTION + b" endobj)")
    in_an_image = pdf(stream(b"/Subtype/Image/Width 1/Height 1/Filter/DCTDecode",
                             b"\xff\xd8 9 0 obj<</S/Launch>>endobj"))
    assert refusal(in_a_string).reason == "/JavaScript"
    assert refusal(in_an_image).reason == "/Launch"


def test_an_early_endstream_inside_compressed_data_hides_nothing():
    """/Length says where a stream ends; the word "endstream" inside the data must not end the check early."""
    def literal(piece: bytes) -> bytes:
        return bytes([len(piece) - 1]) + piece

    content_head = b"8 0 9 12 "
    encoded = (run_length(content_head)[:-1] + literal(b"(endstream) ")
               + run_length(SCRIPT_ACTION))  # 12 bytes in: "(endstream) "; then the action, split in 3-byte runs
    hostile = pdf(stream(b"/Type/ObjStm/N 2/First 9/Filter/RunLengthDecode", encoded))
    assert hostile.count(b"endstream") == 3 and b"JavaScript" not in hostile  # content, the trap, the real end
    assert refusal(hostile).reason == "/JavaScript"


def test_an_object_stream_that_cannot_be_decoded_is_refused():
    """What we cannot read we do not take: a broken or unknown-filter object stream (security 36)."""
    broken = pdf(stream(b"/Type/ObjStm/N 1/First 4/Filter/FlateDecode", b"not zlib"))
    assert "无法完成安全检查" in refusal(broken).message
    assert "Crypt" in refusal(pdf(stream(b"/Filter/Crypt", b"x"))).reason
    assert "indirect" in refusal(pdf(stream(b"/Filter/FlateDecode/DecodeParms 9 0 R", zlib.compress(b"q Q")))).reason


def test_too_many_streams_or_too_much_time_is_refused(monkeypatch):
    """The work per file is bounded: streams and seconds."""
    many = pdf(*[stream(b"", b"q Q")] * 11)
    pdf_check(many)
    monkeypatch.setattr(pdf_module, "MAX_STREAMS", 10)
    assert "streams" in refusal(many).reason
    monkeypatch.setattr(pdf_module, "MAX_SECONDS", 0.0)
    assert "time" in refusal(pdf(stream(b"/Filter/FlateDecode", zlib.compress(b"q Q" * 100)))).reason


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n%<html><body>hello</body></html>\n1 0 obj<<>>endobj\n%%EOF",
    b"%PDF-1.7\n1 0 obj<</URI(javascript:alert(1))>>endobj\n%%EOF",
])
def test_a_pdf_that_is_also_a_web_page_is_refused(data):
    """PDF+HTML polyglots are refused (third hole) — through check_upload, as every door does."""
    from records.uploads import check_upload
    from tests.factories import upload

    with pytest.raises(Refused) as caught:
        check_upload(upload("scan.pdf", data, "application/pdf"), "evidence")
    assert caught.value.status_code == 415 and "网页代码" in caught.value.message


def test_the_header_must_open_the_file():
    """Readers accept %PDF anywhere in the first 1024 bytes; we take it only at offset 0."""
    assert "offset 0" in refusal(b"\n" + pdf()).reason
    assert "%%EOF" in refusal(pdf().replace(b"%%EOF", b"")).reason


def test_ordinary_pdfs_pass():
    """What people upload passes: a scan with a JPEG inside, a page with a link, object and xref streams with
    predictors, and image data that happens to hold "/JS" (an earlier check refused such a good scan)."""
    scan = io.BytesIO()
    scan_image((1240, 1754)).save(scan, format="PDF", resolution=150)
    pdf_check(scan.getvalue())
    pdf_check(pdf(b"<</Type/Annot/Subtype/Link/Rect[0 0 9 9]/A<</S/URI/URI(https://kjzx.example/)>>>>",
                  catalog=catalog_with(b"/OpenAction[3 0 R/Fit]")))
    pdf_check(pdf(object_stream([(9, b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")], b"/Filter/FlateDecode",
                                zlib.compress),
                  stream(b"/Type/XRef/W[1 2 1]/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 4>>",
                         zlib.compress(png_predicted(bytes(range(64)), 4)))))
    pdf_check(pdf(stream(b"/Type/XObject/Subtype/Image/Width 8/Height 8/Filter/DCTDecode",
                         b"\xff\xd8\x00/JS /AA /EF\x00\xff\xd9")))


def test_the_lzw_decoder_agrees_with_libtiff():
    """Our LZW is the TIFF/PDF one: it decodes what libtiff (through Pillow) wrote, clear codes and all."""
    image = Image.new("L", (600, 400))
    image.paste(Image.radial_gradient("L").resize((600, 200)), (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF", compression="tiff_lzw")
    raw = buffer.getvalue()
    tiff = Image.open(io.BytesIO(raw))
    strips = zip(tiff.tag_v2[273], tiff.tag_v2[279], strict=True)
    assert b"".join(b"".join(_unlzw([raw[at:at + size]], 1)) for at, size in strips) == image.tobytes()


def test_the_png_predictor_agrees_with_pillow():
    """Flate with PNG predictors decodes a PNG's own image data (Pillow's encoder) to its pixels."""
    image = Image.merge("RGB", [Image.radial_gradient("L").rotate(angle) for angle in (0, 90, 180)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data, png, at = b"", buffer.getvalue(), 8
    while at < len(png):
        size, kind = int.from_bytes(png[at:at + 4], "big"), png[at + 4:at + 8]
        data += png[at + 8:at + 8 + size] if kind == b"IDAT" else b""
        at += 12 + size
    parms = {"Predictor": 15, "Colors": 3, "BitsPerComponent": 8, "Columns": 256}
    assert b"".join(flate([data[i:i + 1000] for i in range(0, len(data), 1000)], parms)) == image.tobytes()
