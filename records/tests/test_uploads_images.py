"""Images: a pixel bound read from the header, decoding memory bounded, re-encoded clean (security 35).

Before these bounds a 36-megapixel JPEG was decoded in full and re-encoded (522 MB peak measured here,
276 MB in the issue), a 24-megapixel one cost 348 MB, and a JPEG carrying a ZIP or a PNG carrying
HTML was stored (re-encoded). Each test below failed on that code.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from records.uploads.images import MAX_IMAGE_PIXELS, reencode_image
from records.uploads.refusals import Refused
from tests.hostile.corpus import encode, png_declaring, scan_image, zip_bytes

ROOT = Path(__file__).resolve().parents[2]


def refusal(data: bytes, content_type: str) -> Refused:
    with pytest.raises(Refused) as caught:
        reencode_image(data, content_type)
    return caught.value


def test_the_pixel_bound_is_read_from_the_header_before_decoding():
    """A 1×1 PNG declaring 50,000 × 50,000 or 6,000 × 5,000 pixels is refused at once (security 35)."""
    assert MAX_IMAGE_PIXELS == 25_000_000
    for width, height in ((50_000, 50_000), (6000, 5000)):
        started = time.monotonic()
        error = refusal(png_declaring(width, height), "image/png")
        assert error.status_code == 413 and "2500万像素" in error.message
        assert time.monotonic() - started < 0.5


def test_a_large_jpeg_is_decoded_at_a_readable_reduced_size():
    """A 24 MP photo is decoded by the JPEG decoder at half size (6 MP, above A4 at 200 dpi); 12 MP stays whole."""
    big = Image.open(io.BytesIO(reencode_image(encode(scan_image((6000, 4000)), "JPEG"), "image/jpeg")))
    assert big.format == "JPEG" and big.size == (3000, 2000)
    whole = Image.open(io.BytesIO(reencode_image(encode(scan_image((4000, 3000)), "JPEG"), "image/jpeg")))
    assert whole.size == (4000, 3000)


def test_a_progressive_jpeg_too_costly_to_decode_is_refused():
    """A progressive 4:4:4 JPEG makes the decoder hold every coefficient (6 bytes a pixel): 24 MP is refused (413)."""
    data = encode(scan_image((6000, 4000)), "JPEG", progressive=True, subsampling=0)
    error = refusal(data, "image/jpeg")
    assert error.status_code == 413 and "内存" in error.message


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux /proc peak-RSS reset")
def test_decoding_memory_stays_bounded(tmp_path):
    """Peak memory measured in a fresh process (Pillow allocates outside Python's tracer): 24 MP JPEG < 64 MB,
    24 MP PNG < 128 MB, 36 MP JPEG refused < 16 MB (36 MP cost 276 MB)."""
    cases = {"jpeg24": (encode(scan_image((6000, 4000)), "JPEG", quality=90), "image/jpeg"),
             "png24": (encode(scan_image((6000, 4000)), "PNG"), "image/png"),
             "jpeg36": (encode(scan_image((7200, 5000)), "JPEG", quality=90), "image/jpeg")}
    for name, (data, _type) in cases.items():
        (tmp_path / name).write_bytes(data)
    script = """
import gc, io, json, sys
import django
django.setup()
from PIL import Image
from records.uploads.images import reencode_image
from records.uploads.refusals import Refused

def status(key):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key)) / 1024

out = {}
for path, content_type in zip(sys.argv[1::2], sys.argv[2::2]):
    data = open(path, "rb").read()
    gc.collect()
    open("/proc/self/clear_refs", "w").write("5")
    base = status("VmRSS:")
    try:
        result = Image.open(io.BytesIO(reencode_image(data, content_type))).size
    except Refused as exc:
        result = exc.status_code
    out[path.rsplit("/", 1)[-1]] = {"peak_mb": status("VmHWM:") - base, "result": result}
print(json.dumps(out))
"""
    args = [arg for name, (_data, content_type) in cases.items() for arg in (str(tmp_path / name), content_type)]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kjzx.settings_test", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,  # noqa: S603
                         env=env, cwd=ROOT, timeout=120, check=True)
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    assert measured["jpeg24"]["result"] == [3000, 2000] and measured["jpeg24"]["peak_mb"] < 64, measured
    assert measured["png24"]["result"] == [6000, 4000] and measured["png24"]["peak_mb"] < 128, measured
    assert measured["jpeg36"]["result"] == 413 and measured["jpeg36"]["peak_mb"] < 16, measured


def test_nothing_but_pixels_is_kept():
    """EXIF orientation is applied, then EXIF, ICC profiles, text chunks and trailing data are dropped (security 35)."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to show
    exif[0x010F] = "某品牌手机"
    motion_photo = encode(scan_image((40, 20)), "JPEG", exif=exif,
                          icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    motion_photo += b"\x00\x00\x00\x18ftypmp42" + bytes(64)  # a phone's motion photo appends a video
    stored = reencode_image(motion_photo, "image/jpeg")
    image = Image.open(io.BytesIO(stored))
    assert image.size == (20, 40) and not image.getexif() and "icc_profile" not in image.info
    assert b"ftyp" not in stored and stored.endswith(b"\xff\xd9")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "张三 13800000000")
    stored = reencode_image(encode(scan_image((30, 30)), "PNG", pnginfo=info), "image/png")
    assert b"13800000000" not in stored and not Image.open(io.BytesIO(stored)).text


def test_image_polyglots_are_refused_not_only_cleaned():
    """A JPEG that is also a ZIP, a PNG that is also a web page: refused (third hole)."""
    from records.uploads import check_upload
    from tests.factories import upload

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    for name, data in (("a.jpg", encode(scan_image((40, 40)), "JPEG") + zip_bytes()),
                       ("a.png", encode(scan_image((40, 40)), "PNG", pnginfo=info))):
        with pytest.raises(Refused) as caught:
            check_upload(upload(name, data), "photo")
        assert caught.value.status_code == 415 and "压缩包" in caught.value.message
