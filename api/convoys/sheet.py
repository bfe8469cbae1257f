"""The day's convoy sheet for a Polres command post: A4 landscape, Bahasa Indonesia,
every truckload dispatched that day with its ends, kerawanan, vehicle, escorts' NRPs,
times in the site's zone, and where its last scan was made.

Pure presentation: it takes models/custody/convoys.py's ConvoyPicture."""

from __future__ import annotations

from datetime import date

from models.core.base import utcnow
from models.custody.convoys import ConvoyPicture

from api.completeness.report import RAWAN
from api.export.report_pdf import BULAN, HARI, Document, printable, table
from api.handoffs.documents import tanggal, waktu

PERISTIWA = {"dispatch": "dikirim", "pickup": "diambil pengawal", "delivery": "diserahkan pengawal", "receive": "diterima"}


def convoy_sheet_pdf(code: str, day: date, picture: ConvoyPicture) -> bytes:
    names = picture.names
    pdf = Document(f"Lembar konvoi {code} {day}", orientation="L")
    pdf.titled(
        "LEMBAR PENGAWALAN KONVOI LOGISTIK PEMILIHAN", f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}",
        f"Wilayah {names.get(code, code)} ({code})",
    )  # fmt: skip
    pdf.multi_cell(
        0, 4.6,
        printable(
            f"Disusun oleh sistem Jejak dari log transparansi pada {tanggal(utcnow(), code)}: {len(picture.convoys)} "
            "muatan dikirim pada hari ini. Batas waktu adalah jam yang diizinkan menurut kerawanan tujuan sebelum "
            "peringatan 'belum diterima'."
        ),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(2)
    rows = []
    for n, convoy in enumerate(picture.convoys, start=1):
        h, last = convoy.handoff, convoy.last
        hours = convoy.since_dispatch.total_seconds() / 3600
        rows.append([
            str(n), h.id, f"{names.get(h.from_site, '')} ({h.from_site})", f"{names.get(h.to_site, '')} ({h.to_site})",
            RAWAN.get(convoy.kerawanan or "", "-"), h.vehicle or "-", ", ".join(h.escorts) or "-",
            waktu(h.dispatched_at, h.from_site), f"{hours:.1f} / {convoy.allowance_hours:g} jam" + (" TERLAMBAT" if convoy.overdue else ""),
            f"{convoy.on_road}/{convoy.boxes}",
            "-" if last is None else f"{PERISTIWA.get(last.type, last.type)} di {names.get(last.site, '')} ({last.site}), {waktu(last.observed_at, last.site)}",
        ])  # fmt: skip
    if rows:
        headings = ("No", "Muatan", "Dari", "Tujuan", "Kerawanan", "Kendaraan", "Pengawal (NRP)", "Dikirim",
                    "Lama / batas", "Di jalan", "Pindaian terakhir")  # fmt: skip
        table(pdf, headings, (8, 30, 30, 30, 16, 18, 22, 24, 22, 12, 48), rows)
    else:
        pdf.cell(0, 5, "Tidak ada muatan yang dikirim pada hari ini.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.cell(0, 5, "Kepala pos komando pengamanan (Polres)", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(18)
    pdf.cell(0, 5, "(.................................)", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
