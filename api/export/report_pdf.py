"""The custody report as a printable PDF, in Bahasa Indonesia, in the style of a berita
acara: an opening statement, each item's handoffs (who handed over, who took over,
escorts, seals, times, irregularities, the log entries), its other events, and the
signed checkpoint that proves them, printed whole so that the paper carries it.

Pure presentation: it takes a models.custody.reports.CustodyReport and returns bytes. The
built-in fonts cover Windows-1252 only (Latin-1 and the dash of a signed note);
anything else a scan carries (a free-text reason, say) is printed with '?' in its
place rather than failing the report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode
from models.core.base import utcnow
from models.custody.reports import CustodyReport, Handoff, ItemCustody, Step
from models.log.sequencer import b64
from models.places.sites import SiteLevel
from models.places.zones import zone_of

from api.pages.i18n import flags_in_words

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
PERAN = {
    "kpu": "KPU Kab/Kota",
    "ppk": "PPK",
    "pps": "PPS",
    "kpps": "KPPS",
    "escort": "Pengawal (Polri)",
    "auditor": "Pengawas",
    "admin": "Admin",
    "integrator": "Integrator",
}
PERISTIWA = {
    "seal": "Penyegelan",
    "dispatch": "Pengiriman",
    "receive": "Penerimaan",
    "open": "Pembukaan",
    "count": "Penghitungan",
    "reseal": "Penyegelan ulang",
    "incident": "Insiden",
    "correction": "Koreksi",
    "store": "Penyimpanan",
    "pickup": "Diambil pengawal (Polri)",
    "delivery": "Diserahkan pengawal (Polri)",
    "missing": "Tidak diterima saat serah terima ditutup",
}
STATUS = {
    "registered": "terdaftar",
    "sealed": "tersegel",
    "in_transit": "dalam perjalanan",
    "held": "dipegang",
    "opened": "dibuka",
    "counted": "dihitung",
    "resealed": "disegel ulang",
    "returned": "kembali ke KPU",
}
TAHAP = {"outbound": "distribusi", "return": "pengembalian"}
# The officials who sign a printed area report.
PENANDA_TANGAN = {
    SiteLevel.KPU: ("Ketua KPU Kabupaten/Kota", "Bawaslu Kabupaten/Kota"),
    SiteLevel.PPK: ("Ketua PPK", "Panwaslu Kecamatan"),
    SiteLevel.PPS: ("Ketua PPS", "Pengawas Kelurahan/Desa"),
}
_HEAD = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
_MARGIN = 15.0
_KEEP_TOGETHER = 45.0  # mm: a heading is not left at the foot of a page


ENCODING = "windows-1252"


def printable(text: str) -> str:
    return text.encode(ENCODING, "replace").decode(ENCODING)


class Document(FPDF):
    def __init__(self, title: str, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.report_title = title
        self.core_fonts_encoding = ENCODING
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(True, margin=_MARGIN)
        self.set_title(title)
        self.set_creator("Jejak")

    def titled(self, title: str, subtitle: str, reference: str) -> None:
        """A new page headed like a berita acara: its title, what it is about, its number."""
        self.add_page()
        self.set_font("helvetica", "B", 13)
        self.cell(0, 7, title, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font("helvetica", "B", 11)
        self.cell(0, 6, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font("helvetica", size=9)
        self.cell(0, 5, printable(reference), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("helvetica", size=7)
        self.set_text_color(110)
        self.cell(0, 4, printable(f"Jejak \u00b7 {self.report_title} \u00b7 halaman {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0)


def custody_pdf(report: CustodyReport) -> bytes:
    """The report as an A4 PDF; its text is real text (selectable, searchable)."""
    subject = _area(report) if report.area else report.items[0].item.id
    pdf = Document(f"Berita acara riwayat penguasaan {subject}")
    pdf.titled("BERITA ACARA", "RIWAYAT PENGUASAAN DAN SERAH TERIMA LOGISTIK PEMILIHAN", subject)
    _opening(pdf, report)
    for number, section in enumerate(report.items, start=1):
        _item(pdf, report, number, section)
    _proof(pdf, report)
    if report.area is not None:
        _signatures(pdf, report)
    return bytes(pdf.output())


def _opening(pdf: FPDF, report: CustodyReport) -> None:
    now = utcnow()
    where = report.area.code if report.area is not None else report.log_id
    count = len(report.items)
    pdf.multi_cell(
        0,
        4.6,
        printable(
            f"Pada hari ini, {tanggal(now, where)}, sistem Jejak menyusun berita acara ini dari log transparansi "
            f"{report.origin} (KPU {report.log_id}) untuk {count} barang logistik. Setiap serah terima dan "
            "peristiwa di bawah ini adalah entri log yang ditandatangani perangkat pemindai pihak yang "
            "bersangkutan; nomor indeks entri menunjukkan tempatnya di log, dan setiap entri dapat "
            "dibuktikan terhadap checkpoint log yang dicantumkan pada bagian akhir. Pihak disebut menurut "
            "peran dan tempatnya; log tidak memuat nama orang, kecuali NRP pengawal yang tercatat pada pengiriman."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)


def _item(pdf: FPDF, report: CustodyReport, number: int, section: ItemCustody) -> None:
    item = section.item
    if pdf.will_page_break(_KEEP_TOGETHER):  # an item's heading stays with its first rows
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 10)
    what = item.kind.value.replace("_", " ") + (f" {item.contest}" if item.contest else "")
    pdf.multi_cell(0, 5.5, printable(f"{number}. {item.id} ({what})"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)
    facts = [
        ("Tujuan", _site(report, item.destination)),
        ("Dipegang oleh", _site(report, item.custodian)),
        ("Status", f"{STATUS.get(item.status.value, item.status.value)}, tahap {TAHAP.get(item.leg.value, item.leg.value)}"),
        ("Segel terakhir", ", ".join(item.seals) or "-"),
        ("Entri terakhir", f"#{item.last_index}"),
    ]
    for label, value in facts:
        pdf.cell(30, 4.2, printable(label))
        pdf.multi_cell(0, 4.2, printable(f": {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    _subheading(pdf, "Serah terima")
    if section.handoffs:
        table(
            pdf,
            ("No", "Diserahkan oleh", "Diterima oleh", "Waktu", "Pengawal (NRP)", "Segel", "Catatan", "Entri log"),
            (8, 30, 30, 28, 22, 22, 24, 16),
            [_handoff_row(report, n, h) for n, h in enumerate(section.handoffs, start=1)],
        )
    else:
        pdf.cell(0, 4.5, "Belum ada serah terima.", new_x="LMARGIN", new_y="NEXT")
    if section.others:
        pdf.ln(1.5)
        _subheading(pdf, "Peristiwa lain")
        table(
            pdf,
            ("No", "Peristiwa", "Tempat", "Pihak", "Waktu", "Segel", "Catatan", "Entri log"),
            (8, 26, 34, 18, 28, 22, 28, 16),
            [_other_row(report, n, s) for n, s in enumerate(section.others, start=1)],
        )


def _subheading(pdf: FPDF, text: str) -> None:
    pdf.set_font("helvetica", "B", 8)
    pdf.cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT")


def table(pdf: FPDF, heading: Sequence[str], widths: Sequence[float], rows: list[list[str]]) -> None:
    pdf.set_font("helvetica", size=7)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        text_align="LEFT",
        line_height=3.4,
        headings_style=_HEAD,
        cell_fill_mode=TableCellFillMode.NONE,
        padding=0.8,
    ) as table:
        for row in [list(heading), *rows]:
            cells = table.row()
            for text in row:
                cells.cell(printable(text))


def _handoff_row(report: CustodyReport, number: int, handoff: Handoff) -> list[str]:
    out, into = handoff.dispatch, handoff.receive
    giver = _party(report, out) if out else _party_at(report, into.counterparty if into else None)
    taker = _party(report, into) if into else "belum diterima" + (
        f"\n(tujuan: {_site(report, out.counterparty)})" if out and out.counterparty else ""
    )
    times = "\n".join(
        f"{label}: {_when(step)}" for label, step in (("Serah", out), ("Terima", into)) if step is not None
    )
    escorts = ""
    if out is not None:
        escorts = ", ".join(out.listed("escorts")) or "-"
        if vehicle := out.scan.get("vehicle"):
            escorts += f"\nKendaraan {vehicle}"
        if handoff_id := out.scan.get("handoff"):
            escorts += f"\nMuatan {handoff_id}"
    seals = "\n".join(
        f"{label}: {', '.join(step.listed('seals')) or '-'}" for label, step in (("Serah", out), ("Terima", into)) if step
    )
    flags = [flag for step in (out, into) if step is not None for flag in step.flags]
    return [str(number), giver, taker, times, escorts, seals, catatan(flags), _entries(report, out, into)]


def _other_row(report: CustodyReport, number: int, step: Step) -> list[str]:
    what = PERISTIWA.get(step.type, step.type)  # an incident's kind is among its flags
    if reason := step.scan.get("reason"):
        what += f": {reason}"
    if ref := step.scan.get("ref"):
        what += f" (atas {ref})"
    return [
        str(number),
        what,
        _site(report, step.site),
        PERAN.get(step.role, step.role),
        _when(step),
        ", ".join(step.listed("seals")) or "-",
        catatan(step.flags),
        _entries(report, step),
    ]


def _party(report: CustodyReport, step: Step) -> str:
    return f"{PERAN.get(step.role, step.role)}\n{_site(report, step.site)}"


def _party_at(report: CustodyReport, code: str | None) -> str:
    return _site(report, code) if code else "-"


def _site(report: CustodyReport, code: str) -> str:
    name = report.names.get(code)
    return f"{name} ({code})" if name else code


def _when(step: Step) -> str:
    """The time the scan was made, on the clock of the site where it was made; an entry
    that is not a scan has the time the log recorded it."""
    if step.observed_at is None:
        return waktu(step.received_at, step.site) + " (dicatat)"
    return waktu(datetime.fromisoformat(step.observed_at.replace("Z", "+00:00")), step.site)


def waktu(moment: datetime, code: str) -> str:
    """A time as the people at the site read it: `07/12/2026 09.15 WITA` (24-hour clock)."""
    zone, name = zone_of(code)
    local = moment.astimezone(zone)
    return f"{local:%d/%m/%Y %H.%M} {name}"


def tanggal(moment: datetime, code: str) -> str:
    """`Senin, 7 Desember 2026, pukul 09.15 WITA`."""
    zone, name = zone_of(code)
    local = moment.astimezone(zone)
    return f"{HARI[local.weekday()]}, {local.day} {BULAN[local.month - 1]} {local.year}, pukul {local:%H.%M} {name}"


def catatan(flags: list[str]) -> str:
    """The flags of an entry in words, once each; "sesuai" when there are none."""
    return flags_in_words(flags) or "sesuai"


def _entries(report: CustodyReport, *steps: Step | None) -> str:
    """Entry indexes; a '*' marks one the printed checkpoint does not cover yet."""
    return "\n".join(f"#{s.index}" + ("" if report.proven(s) else "*") for s in steps if s is not None)


def _proof(pdf: FPDF, report: CustodyReport) -> None:
    checkpoint = report.checkpoint
    # The statement and the signed note it quotes stay on one page.
    if pdf.will_page_break(_KEEP_TOGETHER + 3.4 * len(checkpoint.note.splitlines())):
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, "BUKTI LOG", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)
    pdf.multi_cell(
        0,
        4.2,
        printable(
            f"Checkpoint log {report.origin}: ukuran {checkpoint.tree_size}, root {b64(checkpoint.root_hash)}. "
            f"Setiap entri dengan indeks di bawah {checkpoint.tree_size} tercakup checkpoint ini: bukti "
            f"inklusinya diperoleh dari /api/v1/logs/{report.log_id}/proof/inclusion?index=<indeks>"
            f"&tree_size={checkpoint.tree_size}, dan dapat diperiksa terhadap kunci verifikasi log tanpa "
            "mempercayai server. Entri bertanda * dicatat setelah checkpoint ini. Checkpoint bertanda tangan, "
            "sebagaimana diterbitkan:"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1)
    pdf.set_font("courier", size=7)
    pdf.multi_cell(0, 3.4, printable(checkpoint.note), border=1, padding=1.5, wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")


def _signatures(pdf: FPDF, report: CustodyReport) -> None:
    assert report.area is not None
    left, right = PENANDA_TANGAN[report.area.level]
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.ln(8)
    pdf.set_font("helvetica", size=9)
    half = (pdf.w - 2 * _MARGIN) / 2
    pdf.cell(0, 5, "Mengetahui,", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(half, 5, left)
    pdf.cell(half, 5, right, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(18)
    pdf.cell(half, 5, "( ................................ )")
    pdf.cell(half, 5, "( ................................ )", new_x="LMARGIN", new_y="NEXT")


def _area(report: CustodyReport) -> str:
    assert report.area is not None
    level = {SiteLevel.KPU: "KPU", SiteLevel.PPK: "PPK"}.get(report.area.level, "PPS")
    return f"{level} {report.area.name} ({report.area.code})"
