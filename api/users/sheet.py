"""The enrollment sheet: one A4 PDF per PPK or PPS, a card per officer with the QR code
of their one-time enrollment link, to be cut and handed over in person. In Bahasa
Indonesia; the code is printed in letters too, for a phone whose camera fails.

Pure presentation: it takes the cards and returns bytes (api/handoffs/documents.py's
QR drawing, api/export/report_pdf.py's fonts and Windows-1252 rule)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from models.accounts.users import User

from api.export.report_pdf import PERAN, printable
from api.handoffs.documents import draw_qr, waktu

_MARGIN = 10.0
_COLUMNS, _ROWS = 3, 4  # cards a page
_QR_MM = 38.0  # a URL of ~70 characters is a version 5 code: modules of about 0.9 mm
# Hundreds of short codes a sheet: one fixed mask rather than the best of eight (the
# search was two thirds of a sheet's time; a version 5 code reads with any mask).
_MASK = 0


@dataclass(frozen=True)
class Card:
    url: str  # what the QR holds: <public_url>/enroll#<code>
    code: str
    username: str
    full_name: str
    role: str
    jurisdiction: str
    place: str  # the jurisdiction's name
    expires_at: datetime


def cards(rows: Iterable[tuple[User, str]], names: Mapping[str, str], public_url: str, expires: datetime) -> list[Card]:
    """A card for each (account, its new code); `names` the places' names by code."""
    return [
        Card(f"{public_url}/enroll#{code}", code, user.username, user.full_name, user.role.value, user.jurisdiction,
             names.get(user.jurisdiction, ""), expires)
        for user, code in rows
    ]  # fmt: skip


def enrollment_sheet_pdf(site: str, place: str, cards: Sequence[Card], printed: datetime) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(_MARGIN, _MARGIN)
    width = (210 - 2 * _MARGIN) / _COLUMNS
    height = (297 - 2 * _MARGIN - 14) / _ROWS
    per_page = _COLUMNS * _ROWS
    for start in range(0, max(len(cards), 1), per_page):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(0, 6, printable(f"Kode pendaftaran HP petugas - {place} ({site})"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=8)
        pdf.cell(
            0, 5,
            printable(f"Dicetak {waktu(printed, site)}. Setiap kode hanya sekali pakai; lembar yang lebih lama tidak berlaku."),
            new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
        for n, card in enumerate(cards[start : start + per_page]):
            x = _MARGIN + (n % _COLUMNS) * width
            y = _MARGIN + 14 + (n // _COLUMNS) * height
            _card(pdf, card, site, x, y, width, height)
    return bytes(pdf.output())


def _card(pdf: FPDF, card: Card, site: str, x: float, y: float, width: float, height: float) -> None:
    pdf.set_draw_color(160)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.rect(x, y, width, height)  # where to cut
    pdf.set_dash_pattern()
    draw_qr(pdf, card.url, x + (width - _QR_MM) / 2, y + 2, _QR_MM, _MASK)
    pdf.set_xy(x + 2, y + _QR_MM + 3)
    lines = [
        ("B", 9, card.full_name),
        ("", 8, f"{PERAN.get(card.role, card.role)} - {card.place} ({card.jurisdiction})"),
        ("B", 8, f"Pengguna: {card.username}"),
        ("", 8, f"Kode: {card.code}"),
        ("", 7, f"Berlaku sampai {waktu(card.expires_at, site)}"),
    ]
    for style, size, text in lines:
        pdf.set_font("helvetica", style, size)
        pdf.set_x(x + 2)
        # One line each (a cell, not a multi_cell: a third of the time); a long name is cut.
        pdf.cell(width - 4, size * 0.5, _fit(pdf, printable(text), width - 4), new_x="LMARGIN", new_y="NEXT")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text, cut to `width` mm with "..." (a long name: the username and code are short)."""
    if pdf.get_string_width(text) <= width:
        return text
    while len(text) > 1 and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."
