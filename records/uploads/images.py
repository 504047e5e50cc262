"""Images (JPEG, PNG): decoded within a memory bound and written afresh (security 35).

- The dimensions are read from the header before anything is decoded (Pillow's ``open`` is lazy):
  more than :data:`MAX_IMAGE_PIXELS` is refused with 413, and Pillow's own guard is lowered to the
  same figure, so a PNG of a few bytes that declares 50,000 × 50,000 pixels costs nothing.
- A JPEG larger than four times :data:`READABLE_PIXELS` is decoded at 1/2, 1/4 or 1/8 of its size
  by the JPEG decoder itself (``draft``), never below :data:`READABLE_PIXELS` (A4 at 200 dpi, where
  a certificate's smallest print is still sharp): a 24-megapixel phone photo is decoded and stored
  at 6 megapixels.
- What decoding would cost is estimated before it starts — the pixels, and for a progressive JPEG
  the decoder's buffer of all its coefficients at full size — and refused (413) over
  :data:`MAX_DECODING_BYTES`.
- The image is re-encoded (JPEG quality 90, PNG) without EXIF/GPS, text chunks, ICC profiles or
  anything after the image's end; the EXIF orientation is applied first.
"""

from __future__ import annotations

import io
import math
import warnings

from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from records.uploads.refusals import IMAGE_BROKEN, TOO_LARGE_TO_DECODE, Refused, too_many_pixels

MAX_IMAGE_PIXELS = 25_000_000  # A4 at 300 dpi is 8.7 MP, at 400 dpi 15.6 MP; more is a flood, not a scan
READABLE_PIXELS = 4_000_000
MAX_DECODING_BYTES = 112 * 1024 * 1024  # a 25 MP RGBA PNG fits; a 24 MP progressive 4:4:4 JPEG (160 MB) does not
_PIXEL_BYTES = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}  # else one byte per band
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}

# Pillow's process-wide guards, lowered to ours: its decompression-bomb error fires at twice this.
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_IMAGE_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Compressed PNG text chunks (zTXt/iTXt) are inflated on open, up to 64 MB by default; we drop them anyway.
PngImagePlugin.MAX_TEXT_MEMORY = min(PngImagePlugin.MAX_TEXT_MEMORY, 4 * 1024 * 1024)


def reencode_image(data: bytes, content_type: str) -> bytes:
    """The image decoded within bounds and written afresh; :class:`Refused` (413/415) otherwise."""
    fmt = FORMATS[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check the size ourselves
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                _check_size(image)
                image.verify()  # PNG chunk checksums; a truncated JPEG fails in load() below
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                if fmt == "JPEG":
                    _draft(image)
                _check_decoding_memory(image)
                image.load()
                return _encode(_upright(image), fmt)
    except Image.DecompressionBombError:
        raise Refused(too_many_pixels(MAX_IMAGE_PIXELS), status_code=413, reason="decompression bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as exc:
        raise Refused(IMAGE_BROKEN, reason=f"{type(exc).__name__}: {exc}"[:200]) from None


def _check_size(image: Image.Image) -> None:
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise Refused(too_many_pixels(MAX_IMAGE_PIXELS), status_code=413, reason=f"{width}x{height} pixels")
    if width == 0 or height == 0:
        raise Refused(IMAGE_BROKEN, reason="an image of no pixels")


def _check_decoding_memory(image: Image.Image) -> None:
    """Refuse (413) what would need more than MAX_DECODING_BYTES to decode: the pixels, and for a
    progressive JPEG the decoder's buffer of every DCT coefficient at full size (2 bytes each)."""
    width, height = image.size
    cost = width * height * _PIXEL_BYTES.get(image.mode, len(image.getbands()))
    if image.format == "JPEG" and image.info.get("progressive"):
        full_width, full_height = getattr(image, "_draft_from", image.size)
        h_max = max(h for _id, h, _v, _table in image.layer)
        v_max = max(v for _id, _h, v, _table in image.layer)
        for _id, h, v, _table in image.layer:
            blocks = math.ceil(full_width * h / h_max / 8) * math.ceil(full_height * v / v_max / 8)
            cost += blocks * 64 * 2
    if cost > MAX_DECODING_BYTES:
        raise Refused(TOO_LARGE_TO_DECODE, status_code=413, reason=f"{cost} bytes to decode")


def _draft(image: Image.Image) -> None:
    """Let the JPEG decoder scale down by 2, 4 or 8 while the result keeps READABLE_PIXELS."""
    width, height = image.size
    if width * height < 4 * READABLE_PIXELS:
        return
    factor = math.sqrt(READABLE_PIXELS / (width * height))
    image.draft(image.mode, (math.ceil(width * factor), math.ceil(height * factor)))
    image._draft_from = (width, height)


def _upright(image: Image.Image) -> Image.Image:
    ImageOps.exif_transpose(image, in_place=True)  # keep what the camera meant by "up"
    kept = {key: image.info[key] for key in ("transparency", "dpi") if key in image.info}
    image.info.clear()  # no EXIF, XMP, ICC profile or text chunks are written back
    image.info.update(kept)
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(buffer, format="JPEG", quality=90)
    else:
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(buffer, format="PNG")
    return buffer.getvalue()
