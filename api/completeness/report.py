"""An area's completeness as an A4 PDF in Bahasa Indonesia: its TPS counted by state
per area one level down, then every TPS not complete, the most vulnerable first, with
what is missing and where the log places it.

Pure presentation: it takes models/custody/completeness.py's Completeness."""

from __future__ import annotations

from api.export.report_pdf import STATUS, Document, printable, table
from api.handoffs.documents import tanggal, waktu
from models.core.base import utcnow
from models.custody.completeness import Completeness, Missing, State

KEADAAN = {State.COMPLETE: "lengkap", State.INCOMPLETE: "belum lengkap", State.NOT_STARTED: "belum diterima"}
RAWAN = {"sangat_rawan": "sangat rawan", "rawan": "rawan", "kurang_rawan": "kurang rawan"}


def where(missing: Missing) -> str:
    """Where a missing piece is, in words: `dalam perjalanan 53.03.08 -> 53.03.08.2001`."""
    item = missing.item
    if item is None:
        return "belum didaftarkan"
    status = STATUS.get(item.status.value, item.status.value)
    return f"{status} {item.custodian}" + (f" -> {item.dispatch_to}" if item.dispatch_to else "")


def completeness_pdf(found: Completeness) -> bytes:
    site = found.site
    pdf = Document(f"Kelengkapan logistik {site.code}")
    pdf.titled("LAPORAN KELENGKAPAN LOGISTIK TPS", "PEMILIHAN " + found.election.upper(), f"{site.name} ({site.code})")
    counts = found.counts
    pdf.multi_cell(
        0, 4.6,
        printable(
            f"Disusun oleh sistem Jejak dari log transparansi pada {tanggal(utcnow(), site.code)}. Dari "
            f"{counts.complete + counts.incomplete + counts.not_started} TPS, {counts.complete} lengkap, "
            f"{counts.incomplete} belum lengkap dan {counts.not_started} belum menerima logistik apa pun. "
            "Sebuah TPS lengkap bila setiap kotak suara pemilihannya dan setiap barang lain yang didaftarkan "
            "untuknya telah diterima di TPS itu."
        ),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(2)
    if found.areas:
        rows = [[a.name, a.code, str(a.counts.complete), str(a.counts.incomplete), str(a.counts.not_started)] for a in found.areas]
        table(pdf, ("Wilayah", "Kode", "Lengkap", "Belum lengkap", "Belum diterima"), (60, 30, 25, 30, 30), rows)
        pdf.ln(3)
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, "TPS yang belum lengkap", new_x="LMARGIN", new_y="NEXT")
    rows = [
        [
            str(n), f"{s.name} ({s.code})", RAWAN.get(s.kerawanan or "", "-"), KEADAAN[s.state],
            f"{s.reached}/{s.required}", waktu(s.need_by, s.code) if s.need_by else "-",
            "; ".join(f"{m.code}: {where(m)}" for m in s.missing),
        ]
        for n, s in enumerate(found.stations, start=1)
    ]  # fmt: skip
    if rows:
        table(pdf, ("No", "TPS", "Kerawanan", "Keadaan", "Diterima", "Dibutuhkan", "Kurang (posisi menurut log)"), (8, 38, 18, 20, 14, 24, 58), rows)
    else:
        pdf.cell(0, 5, "Semua TPS lengkap.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
