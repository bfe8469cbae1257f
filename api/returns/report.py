"""After the count, printed: the return reconciliation of a regency or district and its
orphans list, each an A4 PDF in Bahasa Indonesia, and the words the CSVs share with them.

Pure presentation: it takes models/custody/returns.py's Reconciliation and Orphans
(with the names of the sites they cite) and returns bytes or words (built-in fonts: see
api/export/report_pdf.py)."""

from __future__ import annotations

from models.core.base import utcnow
from models.custody.returns import Orphan, Reconciliation
from models.places.sites import Site

from api.export.report_pdf import PERISTIWA, STATUS, Document, printable, table, tanggal, waktu

# The return stages (models/custody/returns.py STAGES), as the PDF's column headings; the
# CSV's header is the same words in snake case (`kembali_di_kpu`).
TAHAP_KEMBALI = {
    "back": "Kembali di KPU", "on_the_way": "Di jalan", "missing": "Hilang", "at_tps": "Di TPS", "at_pps": "Di PPS",
    "at_ppk": "Di PPK", "not_counted": "Belum dihitung",
}  # fmt: skip
# How an orphan was found (Orphan.how), in words; a stock-take's names its id after it.
DITEMUKAN = {"received (no_dispatch)": "diterima tanpa pengiriman", "received (wrong_site)": "diterima di tempat yang salah"}
_STOCKTAKE = "stocktake "
_LINE = 4.6


def tahap_csv() -> list[str]:
    """The stages as CSV column names: `kembali_di_kpu`, `di_jalan`, ..."""
    return [words.lower().replace(" ", "_") for words in TAHAP_KEMBALI.values()]


def ditemukan(orphan: Orphan) -> str:
    """How an orphan was found: `diterima tanpa pengiriman`, `ditemukan pada stock opname 53.03.08-SO-1`."""
    if orphan.how.startswith(_STOCKTAKE):
        return f"ditemukan pada stock opname {orphan.how.removeprefix(_STOCKTAKE)}"
    return DITEMUKAN.get(orphan.how, orphan.how)


def sesudahnya(orphan: Orphan, names: dict[str, str]) -> str:
    """What happened to the box next: `Pengiriman di Kecamatan (53.03.08), entri #12`."""
    if orphan.next_type is None:
        return "belum ada"
    where = f" di {_site(names, orphan.next_site)}" if orphan.next_site else ""
    return f"{PERISTIWA.get(orphan.next_type, orphan.next_type)}{where}, entri #{orphan.next_index}"


def posisi(orphan: Orphan, names: dict[str, str]) -> str:
    """Where the log places the box now: `dipegang KPU Kabupaten (53.03)`."""
    return f"{STATUS.get(orphan.status, orphan.status)} {_site(names, orphan.custodian)}"


def reconciliation_pdf(found: Reconciliation) -> bytes:
    site = found.site
    pdf = Document(f"Pengembalian logistik {site.code}")
    pdf.titled("LAPORAN PENGEMBALIAN LOGISTIK", "SETELAH PENGHITUNGAN SUARA", f"{site.name} ({site.code})")
    counts = found.total.counts
    still_out = counts["at_tps"] + counts["at_pps"] + counts["at_ppk"]
    mismatches = len(found.reseal_mismatches)
    _paragraph(
        pdf,
        f"Disusun oleh sistem Jejak dari log transparansi pada {tanggal(utcnow(), site.code)}. Dari "
        f"{sum(counts.values())} kotak yang menuju {site.name}, {counts['back']} telah kembali di KPU, "
        f"{counts['on_the_way']} di jalan, {counts['missing']} hilang (muatannya ditutup tanpa kotak itu), "
        f"{still_out} masih di TPS, PPS atau PPK, dan {counts['not_counted']} belum dihitung (belum disegel ulang). "
        f"{mismatches} kotak dipindai pada perjalanan kembali dengan segel yang berbeda dari segel penyegelan ulangnya.",
    )
    heading = ("Wilayah", *TAHAP_KEMBALI.values(), "Jumlah")
    widths = (40, *[17] * len(TAHAP_KEMBALI), 21)
    rows = [_tally_row(f"PPK {found.names.get(c, c)} ({c})", t.counts) for c, t in found.districts.items()]
    rows.append(_tally_row(f"Jumlah {site.name} ({site.code})", counts))
    table(pdf, heading, widths, rows)
    pdf.ln(3)
    _subheading(pdf, "Segel berbeda pada perjalanan kembali")
    if found.reseal_mismatches:
        rows = [[str(n), box, f"#{index}"] for n, (box, index) in enumerate(found.reseal_mismatches, start=1)]
        table(pdf, ("No", "Kotak", "Entri log yang menemukannya"), (10, 60, 50), rows)
    else:
        _paragraph(pdf, "Tidak ada: setiap kotak yang dipindai pada perjalanan kembali bersegel sesuai penyegelan ulangnya.")
    return bytes(pdf.output())


def orphan_list_pdf(area: Site, found: list[Orphan], names: dict[str, str]) -> bytes:
    pdf = Document(f"Kotak yatim {area.code}")
    pdf.titled("LAPORAN KOTAK YATIM", "KOTAK DI TEMPAT YANG TIDAK DIHARAPKAN LOG", f"{area.name} ({area.code})")
    made = f"Disusun oleh sistem Jejak dari log transparansi pada {tanggal(utcnow(), area.code)}."
    kinds = (
        "kotak yang diterima tanpa pengiriman atau di tempat yang salah, atau yang ditemukan pada stock opname di "
        "tempat yang tidak sesuai dengan log"
    )
    if not found:
        _paragraph(pdf, f"{made} Tidak ada kotak yatim di {area.name}: tidak ada {kinds}.")
        return bytes(pdf.output())
    _paragraph(
        pdf,
        f"{made} Di {area.name} tercatat {len(found)} temuan atas {len({o.item for o in found})} kotak: {kinds}. "
        "Setiap temuan disertai peristiwa kotak itu sesudahnya dan posisinya menurut log sekarang. Waktu adalah "
        "waktu pemindaian, menurut zona waktu setempat.",
    )
    rows = [
        [
            str(n), o.item, ditemukan(o), _site(names, o.site), waktu(o.observed_at, o.site) if o.observed_at else "-",
            f"#{o.entry_index}", sesudahnya(o, names), posisi(o, names),
        ]
        for n, o in enumerate(found, start=1)
    ]  # fmt: skip
    table(pdf, ("No", "Kotak", "Ditemukan", "Tempat", "Waktu", "Entri log", "Sesudahnya", "Posisi menurut log"),
          (7, 31, 27, 28, 21, 11, 27, 28), rows)  # fmt: skip
    return bytes(pdf.output())


def _tally_row(label: str, counts: dict[str, int]) -> list[str]:
    return [label, *(str(counts[stage]) for stage in TAHAP_KEMBALI), str(sum(counts.values()))]


def _site(names: dict[str, str], code: str) -> str:
    name = names.get(code)
    return f"{name} ({code})" if name else code


def _paragraph(pdf: Document, text: str) -> None:
    pdf.set_font("helvetica", size=9)
    pdf.multi_cell(0, _LINE, printable(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _subheading(pdf: Document, text: str) -> None:
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, printable(text), new_x="LMARGIN", new_y="NEXT")
