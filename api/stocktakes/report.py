"""A stock-take's berita acara as an A4 PDF in Bahasa Indonesia: the site, when it was
counted and closed, the count, then every missing and unexpected box (where the log
places it now, the log entries that are the evidence), then those found, and lines
for the signatures.

Pure presentation: it takes models/custody/stocktakes.py's StocktakeReport and returns
bytes (built-in fonts: see api/export/report_pdf.py)."""

from __future__ import annotations

from fpdf import FPDF

from api.export.report_pdf import Document, printable, table
from api.handoffs.documents import tanggal
from models.custody.stocktakes import Line, StocktakeReport

HASIL = {
    "found": "ditemukan",
    "missing": "HILANG: tidak ditemukan",
    "unexpected": "TAK TERDUGA: menurut log ada di tempat lain",
    "scanned": "dipindai (belum ditutup)",
}
_LINE = 4.6


def stocktake_pdf(report: StocktakeReport) -> bytes:
    found = report.stocktake
    site = _site(report, found.site)
    pdf = Document(f"Berita acara stock opname {found.id}")
    pdf.titled("BERITA ACARA STOCK OPNAME", "LOGISTIK PEMILIHAN", f"Nomor stock opname {found.id}")
    if found.closed_at is None:
        opening = (
            f"Stock opname di {site} dimulai {tanggal(found.opened_at, found.site)} dan belum ditutup: "
            f"{len(found.scans)} barang telah dipindai. Hasilnya ditetapkan saat ditutup."
        )
    else:
        opening = (
            f"Pada hari ini, {tanggal(found.closed_at, found.site)}, stock opname di {site}, yang dimulai "
            f"{tanggal(found.opened_at, found.site)}, ditutup (entri log #{found.close_index}). Dari barang yang "
            f"menurut log berada di tempat ini, {len(found.found)} ditemukan dan {len(found.missing)} tidak "
            f"ditemukan; {len(found.unexpected)} barang ditemukan di sini padahal menurut log berada di tempat "
            "lain. Barang yang tidak terduga tetap dipegang oleh pemegangnya menurut log: stock opname adalah "
            "bukti, bukan serah terima. Berita acara ini disusun oleh sistem Jejak dari log transparansi; hasilnya "
            "dihitung ulang dari log oleh `jejak verify`."
        )
    pdf.multi_cell(0, _LINE, printable(opening), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for heading, outcomes in (
        ("Barang hilang dan tak terduga", ("missing", "unexpected", "scanned")),
        ("Barang ditemukan", ("found",)),
    ):
        rows = [_row(report, n, line) for n, line in enumerate((x for x in report.lines if x.outcome in outcomes), 1)]
        if not rows:
            continue
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(0, 6, printable(heading), new_x="LMARGIN", new_y="NEXT")
        table(pdf, ("No", "Barang", "Hasil", "Dipegang oleh (menurut log)", "Status", "Entri log"), (9, 44, 42, 45, 22, 18), rows)
        pdf.ln(2)
    _signatures(pdf)
    return bytes(pdf.output())


def _site(report: StocktakeReport, code: str) -> str:
    name = report.names.get(code)
    return f"{name} ({code})" if name else code


def _row(report: StocktakeReport, number: int, line: Line) -> list[str]:
    held = _site(report, line.custodian) if line.custodian else "-"
    return [str(number), line.item, HASIL[line.outcome], held, line.status or "-", ", ".join(f"#{i}" for i in line.evidence)]


def _signatures(pdf: FPDF) -> None:
    pdf.ln(6)
    width = (pdf.w - 30) / 2
    pdf.set_font("helvetica", size=9)
    for title in ("Petugas stock opname", "Pengawas"):
        pdf.cell(width, _LINE, title, align="C")
    pdf.ln(22)
    for _ in range(2):
        pdf.cell(width, _LINE, "(.................................)", align="C")
    pdf.ln()
