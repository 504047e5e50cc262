"""The bureau's seal on certificates (学分证明用章): checking an upload, and drawing the demo's.

:func:`seal_png` checks an uploaded image — a PNG, at most 2 MB, about square, 300 to 4000 pixels a
side, with a transparent background — and returns it normalised (RGBA, at most 600 pixels a side,
which is ~380 dpi at the printed 40 mm). A real seal is uploaded by staff and never committed;
:func:`demo_seal_png` draws one for the demo with Pillow: a red ring, a star, the bureau's name on an
arc and 继续教育专用章 beneath.
"""

from __future__ import annotations

import io
import math
import subprocess
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

MAX_BYTES = 2 * 1024 * 1024
MIN_SIDE, MAX_SIDE, STORED_SIDE = 300, 4000, 600
RED = (214, 24, 32, 235)


class SealError(ValueError):
    """An upload that cannot be a seal; the message says why, in Chinese."""


def seal_png(data: bytes) -> bytes:
    """The uploaded seal checked and normalised (see the module doc), or :class:`SealError`."""
    if len(data) > MAX_BYTES:
        raise SealError("印章图片不能超过2MB。")
    image = _open_png(data)
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise SealError(f"印章图片边长不少于{MIN_SIDE}像素（当前为{width}×{height}）。")
    if max(width, height) / min(width, height) > 1.25:
        raise SealError("印章图片应大致为正方形（圆形印章居中）。")
    image = image.convert("RGBA")
    if image.getchannel("A").getextrema()[0] == 255:
        raise SealError("印章图片须为透明背景的PNG（当前图片没有透明部分，会遮住落款文字）。")
    if max(width, height) > STORED_SIDE:
        image.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _open_png(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG":
            raise SealError("请上传PNG格式的印章图片。")
        if max(image.size) > MAX_SIDE:  # checked before decoding: no decompression bomb
            raise SealError(f"印章图片边长不能超过{MAX_SIDE}像素。")
        image.load()
    except SealError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise SealError("无法识别该图片，请上传PNG格式的印章图片。") from None
    return image


# --- the demo's seal ---------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _font_path(pattern: str) -> tuple[str, int]:
    """fontconfig's file and face index for ``pattern`` (Debian's fonts-noto-cjk)."""
    found = subprocess.run(["fc-match", "-f", "%{file}\n%{index}", pattern],  # noqa: S603, S607
                           capture_output=True, text=True, check=True).stdout.split("\n")
    return found[0], int(found[1] or 0)


def _font(size: int) -> ImageFont.FreeTypeFont:
    path, index = _font_path("Noto Serif CJK SC:bold")
    return ImageFont.truetype(path, size, index=index)


def demo_seal_png(issuer: str, purpose: str = "继续教育专用章", side: int = STORED_SIDE) -> bytes:
    """A generated round seal (a demo's, never a real one's): transparent PNG of ``side`` pixels."""
    scale = 2  # drawn at twice the size, then reduced: smooth edges
    size = side * scale
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre, ring = size / 2, size * 0.03
    radius = size / 2 - ring
    draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius), outline=RED, width=round(ring))
    _star(draw, centre, centre, size * 0.14)
    _arc_text(image, issuer, centre, radius - ring - size * 0.08, size * 0.12)
    font = _font(round(size * 0.068))
    draw.text((centre, centre + size * 0.25), purpose, font=font, fill=RED, anchor="mm")
    image = image.resize((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _star(draw: ImageDraw.ImageDraw, x: float, y: float, radius: float) -> None:
    points = []
    for n in range(10):
        r = radius if n % 2 == 0 else radius * 0.382
        angle = math.radians(-90 + n * 36)
        points.append((x + r * math.cos(angle), y + r * math.sin(angle)))
    draw.polygon(points, fill=RED)


def _arc_text(image: Image.Image, text: str, centre: float, radius: float, size: float) -> None:
    """``text`` along the top of a circle, left to right, each character upright to the centre."""
    font = _font(round(size))
    span = min(250.0, 32.0 * len(text))  # degrees the text covers, centred on the top
    step = span / max(len(text) - 1, 1)
    for n, char in enumerate(text):
        angle = -span / 2 + n * step  # 0 is the top, clockwise positive
        glyph = Image.new("RGBA", (round(size * 1.4), round(size * 1.4)), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), char, font=font, fill=RED, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
        x = centre + radius * math.sin(math.radians(angle)) - glyph.width / 2
        y = centre - radius * math.cos(math.radians(angle)) - glyph.height / 2
        image.alpha_composite(glyph, (round(x), round(y)))
