"""Printable labels: the QR code of a label's URL, with the item id in plain text
beside it (docs/DESIGN.md §6), as SVG, PNG and an A4 PDF sheet of many labels.

Pure presentation: it takes what to print and returns bytes; it knows nothing of the
database, the keys or the web.

Sizes. A label URL with its signature is 350 to 450 characters, which at error
correction level Q is a version 17 to 20 code (85 to 97 modules a side). A cheap
phone camera reads modules of 0.4 mm and up from 10 to 20 cm, so the sheet
gives the code a 40 mm square (modules of about 0.4 mm) and the single labels 0.5 mm
modules. Every code keeps the 4-module white quiet zone of ISO/IEC 18004."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

QUIET_ZONE = 4  # modules of white around a code, as ISO/IEC 18004 asks
MODULE_MM = 0.5  # a module's printed size in the single labels (SVG, PNG at its dpi)


@dataclass(frozen=True)
class Label:
    """What one label shows: the QR payload and the item it names."""

    url: str  # what the QR code holds: <public_url>/v/<item>#<jws>
    item: str
    kind: str  # an ItemKind value, e.g. kotak_suara
    contest: str | None
    destination: str  # the TPS code
    serial: int  # 1 for the first label, 2 after the first reprint...

    def details(self) -> list[str]:
        """The smaller lines under the id."""
        what = self.kind.replace("_", " ")
        return [
            f"{what} \u00b7 {self.contest}" if self.contest else what,
            f"TPS {self.destination}",
            f"label ke-{self.serial}",
        ]


def qr_modules(data: str, mask_pattern: int | None = None) -> list[list[bool]]:
    """The code's modules (True is dark), rows top to bottom, without the quiet zone.
    Error correction level Q: a quarter of the code may be lost to water or scuffs.
    The mask is the best of the eight (ISO/IEC 18004's penalty rules), unless one is
    given: trying all eight is most of the time of a short code, and any mask reads."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0, mask_pattern=mask_pattern)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def code_image(modules: list[list[bool]], scale: int) -> Image.Image:
    """The code alone as a 1-bit image, `scale` pixels a module."""
    n = len(modules)
    image = Image.new("1", (n, n))
    image.putdata([0 if dark else 255 for row in modules for dark in row])
    return image.resize((n * scale, n * scale), Image.Resampling.NEAREST)


# ---------------------------------------------------------------------------- SVG

_MONO = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
_ID_SIZE = 5.0  # the id's font size, in modules
_DETAIL_SIZE = 3.0
_MONO_ADVANCE = 0.62  # a monospace glyph's advance, in em (generous: fonts vary)


def _path(modules: list[list[bool]], offset: int) -> str:
    """The dark modules as one path, each row's runs merged into rectangles."""
    parts = []
    for y, row in enumerate(modules):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start + offset} {y + offset}h{x - start}v1h-{x - start}z")
    return "".join(parts)


def svg(label: Label) -> bytes:
    """One label as SVG: the code on the left, the id and details on its right, drawn
    to print with modules of MODULE_MM."""
    modules = qr_modules(label.url)
    side = len(modules) + 2 * QUIET_ZONE
    details = label.details()
    text_width = max(
        len(label.item) * _ID_SIZE * _MONO_ADVANCE,
        *(len(line) * _DETAIL_SIZE * _MONO_ADVANCE for line in details),
    )
    width = side + text_width + QUIET_ZONE
    y = QUIET_ZONE + _ID_SIZE
    lines = [f'<text x="{side}" y="{y:g}" font-size="{_ID_SIZE:g}" font-weight="bold">{escape(label.item)}</text>']
    for line in details:
        y += _DETAIL_SIZE * 1.6
        lines.append(f'<text x="{side}" y="{y:g}" font-size="{_DETAIL_SIZE:g}">{escape(line)}</text>')
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{width * MODULE_MM:g}mm" height="{side * MODULE_MM:g}mm" '
        f'viewBox="0 0 {width:g} {side}">\n'
        f"<title>{escape(label.item)}</title>\n"
        f'<rect width="{width:g}" height="{side}" fill="#fff"/>\n'
        f'<path d="{_path(modules, QUIET_ZONE)}" fill="#000" shape-rendering="crispEdges"/>\n'
        f'<g font-family="{_MONO}" fill="#000">\n' + "\n".join(lines) + "\n</g>\n</svg>\n"
    )
    return document.encode()


# ---------------------------------------------------------------------------- PNG


@lru_cache(maxsize=16)
def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)  # FreeType, scalable
    except (ImportError, OSError):  # a Pillow built without FreeType: the bitmap font
        return ImageFont.load_default()


def png(label: Label, *, scale: int = 8) -> bytes:
    """One label as a grayscale PNG, `scale` pixels a module; its dpi is set so that
    printing at actual size gives modules of MODULE_MM."""
    modules = qr_modules(label.url)
    side = (len(modules) + 2 * QUIET_ZONE) * scale
    id_font, detail_font = _font(int(_ID_SIZE * scale)), _font(int(_DETAIL_SIZE * scale))
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    details = label.details()
    text_width = max(
        probe.textlength(label.item, font=id_font) + 2,
        *(probe.textlength(line, font=detail_font) for line in details),
    )
    image = Image.new("L", (side + int(text_width) + QUIET_ZONE * scale, side), 255)
    image.paste(code_image(modules, scale), (QUIET_ZONE * scale, QUIET_ZONE * scale))
    draw = ImageDraw.Draw(image)
    y = QUIET_ZONE * scale
    draw.text((side, y), label.item, font=id_font, fill=0, stroke_width=1, stroke_fill=0)
    y += int(_ID_SIZE * scale * 1.4)
    for line in details:
        draw.text((side, y), line, font=detail_font, fill=0)
        y += int(_DETAIL_SIZE * scale * 1.6)
    dpi = scale * 25.4 / MODULE_MM
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True, dpi=(dpi, dpi))
    return out.getvalue()


# ---------------------------------------------------------------------------- PDF


@dataclass(frozen=True)
class SheetLayout:
    """Where labels go on a page, in millimetres. The default is A4 in 3 columns of 7
    (66.7 x 40.4 mm), inside margins that an office printer can print."""

    page: str = "A4"
    columns: int = 3
    rows: int = 7
    margin_x: float = 5.0
    margin_y: float = 8.0
    padding: float = 0.2  # between a label's edge and its code's quiet zone
    image_scale: int = 4  # pixels a module in the embedded code image


ID_MAX_PT, ID_MIN_PT = 9.0, 5.0
DETAIL_PT = 6.0


def sheet(labels: Sequence[Label], *, title: str, layout: SheetLayout = SheetLayout()) -> bytes:
    """A PDF of labels, columns then rows, page after page. Ids and details are real
    text (selectable, searchable); each code is a 1-bit image, sharp at any scale."""
    pdf = FPDF(orientation="P", unit="mm", format=layout.page)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(title)
    pdf.set_creator("Jejak")
    cell_w = (pdf.w - 2 * layout.margin_x) / layout.columns
    cell_h = (pdf.h - 2 * layout.margin_y) / layout.rows
    square = cell_h - 2 * layout.padding  # the code with its quiet zone
    per_page = layout.columns * layout.rows
    pages = -(-len(labels) // per_page)
    for n, label in enumerate(labels):
        slot = n % per_page
        if slot == 0:
            pdf.add_page()
            pdf.set_font("helvetica", size=6)
            pdf.set_text_color(110)
            pdf.text(layout.margin_x, pdf.h - layout.margin_y / 2, f"Jejak \u00b7 {title} \u00b7 {pdf.page}/{pages}")
            pdf.set_text_color(0)
        x = layout.margin_x + (slot % layout.columns) * cell_w
        y = layout.margin_y + (slot // layout.columns) * cell_h
        _sheet_label(pdf, label, x, y, cell_w, square, layout)
    return bytes(pdf.output())


def _sheet_label(
    pdf: FPDF, label: Label, x: float, y: float, cell_w: float, square: float, layout: SheetLayout
) -> None:
    modules = qr_modules(label.url)
    module = square / (len(modules) + 2 * QUIET_ZONE)
    quiet = QUIET_ZONE * module
    left, top = x + layout.padding, y + layout.padding
    code = square - 2 * quiet
    pdf.image(code_image(modules, layout.image_scale), left + quiet, top + quiet, code, code)
    # The text column starts where the quiet zone ends.
    text_x = left + square
    room = x + cell_w - text_x - layout.padding
    baseline = fitted_text(pdf, text_x, top + quiet, label.item, room, "B", ID_MAX_PT, ID_MIN_PT)
    baseline += 0.6  # mm: the id stands apart from the details
    for line in label.details():
        baseline = fitted_text(pdf, text_x, baseline + 0.5 * DETAIL_PT * PT_MM, line, room, "", DETAIL_PT, 4.0)


PT_MM = 25.4 / 72


def fitted_text(
    pdf: FPDF, x: float, top: float, text: str, room: float, style: str, largest: float, smallest: float
) -> float:
    """Write `text` on one line, its capitals' tops at `top`, at the largest size up to
    `largest` pt that fits `room` mm: condensed, and at worst down to `smallest` pt,
    rather than broken, so that an id stays whole when copied or searched. Returns
    the baseline."""
    pdf.set_font("helvetica", style, largest)
    width = pdf.get_string_width(text)  # mm at `largest`; scales with size and stretch
    size, stretch = largest, 100.0
    if width > room:
        for stretch in (100.0, 85.0, 75.0):
            size = largest * room / (width * stretch / 100)
            if size >= 0.8 * largest:
                break
        size = max(smallest, min(largest, size))
    pdf.set_font("helvetica", style, size)
    pdf.set_stretching(stretch)
    baseline = top + 0.72 * size * PT_MM  # Helvetica's cap height
    pdf.text(x, baseline, text)
    pdf.set_stretching(100)
    return baseline
