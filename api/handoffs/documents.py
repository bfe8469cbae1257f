"""A truckload's papers, as A4 PDFs in Bahasa Indonesia: its manifest (one page with the
signed QR code an escort or a receiver scans) and its berita acara serah terima (who
handed over, who guarded, who took over, every box and seal, the times in the site's
zone, each party's log entries, and the QR code of the truckload's receipt).

Pure presentation: it takes what models/custody/truckloads.py read and returns bytes.
Text is real text (selectable, searchable) in the built-in fonts (Windows-1252: anything
else is printed as '?', see api/export/report_pdf.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from fpdf import FPDF
from ledger.checkpoint import Checkpoint
from ledger.note import parse_note
from models.core.times import parse_time
from models.custody.manifests import Mismatch
from models.custody.truckloads import BeritaAcara, Entry, Leg, Person, SignedManifest
from models.log.sequencer import b64

from api.export.report_pdf import PERAN, Document, catatan, printable, table, tanggal, waktu
from api.labels import render

_MARGIN = 15.0
_LINE = 4.6  # mm: body text
_QR_MM = 66.0  # the manifest's code with its quiet zone: modules of about 0.5 mm
_RECEIPT_QR_MM = 42.0

def _site(names: dict[str, str], code: str) -> str:
    name = names.get(code)
    return f"{name} ({code})" if name else code

def _entries(indexes: Iterable[int]) -> str:
    """`#10-#12, #15`: log indexes, runs of consecutive ones shortened."""
    runs: list[list[int]] = []
    for index in sorted(set(indexes)):
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ", ".join(f"#{run[0]}" if len(run) == 1 else f"#{run[0]}-#{run[-1]}" for run in runs) or "-"

def _facts(pdf: FPDF, rows: Sequence[tuple[str, str]], width: float, label: float = 34) -> None:
    for name, value in rows:
        pdf.set_x(_MARGIN)
        pdf.set_font("helvetica", "B", 9)
        pdf.cell(label, _LINE, printable(name))
        pdf.set_font("helvetica", size=9)
        pdf.multi_cell(width - label, _LINE, printable(f": {value}"), new_x="LMARGIN", new_y="NEXT")


def draw_qr(pdf: FPDF, data: str, x: float, y: float, side: float, mask_pattern: int | None = None) -> None:
    """The code with its quiet zone in a `side` mm square (1-bit image, sharp at any dpi)."""
    modules = render.qr_modules(data, mask_pattern)
    module = side / (len(modules) + 2 * render.QUIET_ZONE)
    quiet = render.QUIET_ZONE * module
    pdf.image(render.code_image(modules, 4), x + quiet, y + quiet, side - 2 * quiet, side - 2 * quiet)

# ------------------------------------------------------------------------ manifest

def manifest_pdf(signed: SignedManifest) -> bytes:
    """One A4 page (a second only past about 200 boxes): the truckload's facts, its
    signed QR code, and every box with its seals."""
    handoff, payload = signed.truckload.handoff, signed.manifest.payload
    pdf = Document(f"Manifes muatan {handoff.id}")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(0, 7, "MANIFES MUATAN LOGISTIK PEMILIHAN", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    pdf.cell(0, 5, printable(f"Nomor muatan {handoff.id}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    top = pdf.get_y()
    text_width = pdf.w - 2 * _MARGIN - _QR_MM - 4
    boxes = signed.manifest.boxes
    escorts = ", ".join(payload["escorts"]) or "-"
    _facts(
        pdf,
        [
            ("Dari", _site(signed.names, payload["from"])),
            ("Kepada", _site(signed.names, payload["to"])),
            ("Kendaraan", payload["vehicle"] or "-"),
            ("Pengawal (NRP)", escorts),
            ("Dikirim", waktu(datetime.fromtimestamp(payload["observed"], UTC), payload["from"])),
            ("Jumlah barang", f"{payload['n']} (entri log {_entries(box['index'] for box in boxes)})"),
        ],
        text_width,
    )
    pdf.ln(1.5)
    pdf.set_font("helvetica", size=7.5)
    pdf.multi_cell(
        text_width,
        3.6,
        printable(
            "Manifes ini ditandatangani dengan kunci label KPU "
            f"{handoff.log_id} (kid {signed.kid}), seperti label kotak. Pindai kode QR: ponsel pengawal "
            "atau penerima memeriksa tanda tangannya tanpa jaringan, dan halaman publik memeriksa daftar "
            "barang ini terhadap log. Pengawal yang membuktikan seluruh muatan sekaligus mengutip sidik manifes:"
        ),
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("courier", size=6.5)
    pdf.multi_cell(text_width, 3.2, signed.manifest.digest, wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
    qr_x = pdf.w - _MARGIN - _QR_MM
    draw_qr(pdf, signed.url, qr_x, top, _QR_MM)
    pdf.set_font("helvetica", size=6.5)
    pdf.set_xy(qr_x, top + _QR_MM)
    pdf.cell(_QR_MM, 3, "Pindai untuk memeriksa manifes", align="C")
    _box_grid(pdf, boxes, max(pdf.get_y(), top + _QR_MM + 4) + 3)
    return bytes(pdf.output())

def _box_grid(pdf: FPDF, boxes: list[dict], top: float) -> None:
    """Every box and its seals, in columns filled top to bottom, each line its own
    (condensed rather than broken, so an id stays whole when copied or searched)."""
    bottom = pdf.h - _MARGIN
    columns = 1 if len(boxes) <= 40 else 2 if len(boxes) <= 100 else 3
    row = min(4.6, max(2.6, (bottom - top - 4) / math.ceil(len(boxes) / columns)))
    size = min(8.5, row / 1.3 / render.PT_MM)
    width = (pdf.w - 2 * _MARGIN) / columns
    number_w, item_w = size * 1.3, size * 4.4  # mm: room for 3 digits, and for an id at this size
    n = 0
    while n < len(boxes):
        if n:
            pdf.add_page()
            top = _MARGIN
        pdf.set_font("helvetica", "B", size)
        for column in range(columns):
            x = _MARGIN + column * width
            pdf.text(x + number_w, top + size * render.PT_MM, "Barang")
            pdf.text(x + number_w + item_w, top + size * render.PT_MM, "Segel")
        per_column = int((bottom - top - row) / row)
        for column in range(columns):
            x = _MARGIN + column * width
            for line in range(per_column):
                if n == len(boxes):
                    break
                box, y = boxes[n], top + row * (line + 1.2)
                n += 1
                render.fitted_text(pdf, x, y, f"{n}.", number_w - 0.8, "", size, size)
                render.fitted_text(pdf, x + number_w, y, box["item"], item_w - 1, "", size, 4.0)
                seals = ", ".join(box["seals"]) or "-"
                render.fitted_text(pdf, x + number_w + item_w, y, printable(seals), width - number_w - item_w - 2, "", size, 3.0)

# -------------------------------------------------------------------- berita acara

def berita_acara_pdf(ba: BeritaAcara) -> bytes:
    truckload = ba.truckload
    handoff = truckload.handoff
    closing = truckload.closing
    assert closing is not None
    pdf = Document(f"Berita acara serah terima {handoff.id}")
    pdf.titled("BERITA ACARA SERAH TERIMA", "LOGISTIK PEMILIHAN", f"Nomor muatan {handoff.id}")
    legs = truckload.legs
    received = [leg for leg in legs if leg.receive]
    missing = [leg for leg in legs if leg.missing]
    pdf.set_font("helvetica", size=9)
    pdf.multi_cell(
        0,
        _LINE,
        printable(
            f"Pada hari ini, {tanggal(_recorded(closing), handoff.to_site)}, serah terima muatan {handoff.id} "
            f"dari {_site(ba.names, handoff.from_site)} kepada {_site(ba.names, handoff.to_site)} ditutup oleh "
            f"pihak penerima (entri log #{closing.index}). Manifes muatan mencantumkan {len(legs)} barang; "
            f"{len(received)} diterima, {len(missing)} tidak diterima. {_differences(truckload.mismatches())} "
            "Berita acara ini disusun oleh sistem Jejak "
            f"dari log transparansi {ba.origin}: setiap pengiriman dan penerimaan di bawah ini adalah entri log "
            "yang ditandatangani perangkat pemindai pihak yang bersangkutan, dengan nomor indeksnya di log. "
            "Waktu adalah waktu pemindaian, menurut zona waktu setempat."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    _parties(pdf, ba)
    pdf.ln(2)
    _heading(pdf, "Barang dan segel")
    table(
        pdf,
        ("No", "Barang", "Segel dikirim", "Segel diterima", "Diserahkan", "Diterima", "Keterangan"),
        (8, 34, 24, 24, 28, 28, 34),
        [_leg_row(n, leg, handoff.from_site, handoff.to_site) for n, leg in enumerate(legs, start=1)],
    )
    if truckload.strays:
        pdf.ln(2)
        _heading(pdf, "Diterima sebagai bagian muatan ini, tetapi tidak tercantum dalam manifes")
        table(
            pdf,
            ("No", "Barang", "Segel diterima", "Diterima", "Keterangan"),
            (8, 40, 34, 40, 58),
            [
                [str(n), e.record["item"], ", ".join(e.record["scan"].get("seals") or []) or "-",
                 f"{waktu(e.observed, e.record['scan']['site'])}\n#{e.index}", catatan(e.flags)]
                for n, e in enumerate(truckload.strays, start=1)
            ],
        )  # fmt: skip
    _signatures(pdf, ba)
    _receipt(pdf, ba)
    return bytes(pdf.output())

def _differences(found: list[Mismatch]) -> str:
    if not found:
        return "Barang yang diterima sesuai dengan manifes."
    missing = [m.item for m in found if m.why == "missing"]
    strays = [m.item for m in found if m.why == "not_on_manifest"]
    parts = [f"{len(missing)} tidak diterima ({', '.join(missing)})"] if missing else []
    parts += [f"{len(strays)} diterima tetapi tidak tercantum dalam manifes ({', '.join(strays)})"] if strays else []
    return f"Selisih dengan manifes: {len(found)} barang, " + "; ".join(parts) + "."

def _recorded(entry: Entry) -> datetime:
    return parse_time(entry.record["received_at"])

def _heading(pdf: FPDF, text: str) -> None:
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, printable(text), new_x="LMARGIN", new_y="NEXT")

def _person(ba: BeritaAcara, actor: str | None) -> str:
    person = ba.people.get(actor or "")
    return f"{person.name} ({PERAN.get(person.role, person.role)})" if person else "-"

def _by_actor(entries: Iterable[Entry]) -> dict[str | None, list[int]]:
    found: dict[str | None, list[int]] = {}
    for entry in entries:
        found.setdefault(entry.actor, []).append(entry.index)
    return found

def _parties(pdf: FPDF, ba: BeritaAcara) -> None:
    truckload, names = ba.truckload, ba.names
    handoff, closing = truckload.handoff, truckload.closing
    assert closing is not None
    dispatched = _by_actor(leg.dispatch for leg in truckload.legs)
    took = _by_actor([leg.receive for leg in truckload.legs if leg.receive] + truckload.strays)
    rows = [
        ["Pihak yang menyerahkan", _site(names, handoff.from_site), _person(ba, actor), f"pengiriman {_entries(indexes)}"]
        for actor, indexes in dispatched.items()
    ]
    loads = [leg.dispatch.index for leg in truckload.legs]
    rows += [
        [
            "Pengawal (Polri)", "-", _escort(escort),
            f"disebut pada pengiriman {_entries(_naming(truckload.legs, escort))}{_attested(ba, escort)}",
        ]
        for escort in ba.escorts
    ] or [["Pengawal (Polri)", "-", "tidak ada yang disebut pada pengiriman", _entries(loads)]]
    rows += [
        ["Pihak yang menerima", _site(names, handoff.to_site), _person(ba, actor), f"penerimaan {_entries(indexes)}"]
        for actor, indexes in took.items()
    ]
    rows.append(
        ["Penutup serah terima", _site(names, handoff.to_site), _person(ba, closing.actor), f"penutupan #{closing.index}"]
    )
    _heading(pdf, "Para pihak")
    table(pdf, ("Pihak", "Tempat", "Nama", "Entri log"), (40, 50, 50, 40), rows)

def _escort(person: Person) -> str:
    return f"{person.name}, NRP {person.nrp}" if person.name else f"NRP {person.nrp} (tidak ada akun di Jejak)"

def _attested(ba: BeritaAcara, escort: Person) -> str:
    """What the escort signed of this truckload on their own phone: `; diambil #12
    (07/12/2026 09.15 WITA), diserahkan #40 (...)`, or that they signed nothing."""
    signed = [a for a in ba.attestations if a.nrp == escort.nrp and a.attests]
    if not signed:
        return "; tidak menandatangani pengambilan maupun penyerahan"
    words = {"pickup": "diambil", "delivery": "diserahkan"}
    return "; " + ", ".join(f"{words[a.type]} #{a.entry_index} ({waktu(a.observed_at, a.site)})" for a in signed)

def _naming(legs: Sequence[Leg], escort: Person) -> list[int]:
    return [leg.dispatch.index for leg in legs if escort.nrp in (leg.dispatch.record["scan"].get("escorts") or [])]

def _leg_row(number: int, leg: Leg, origin: str, destination: str) -> list[str]:
    out, into = leg.dispatch, leg.receive
    notes = out.flags + (into.flags if into else [])
    remark = catatan(notes)
    if leg.missing is not None:
        remark = f"TIDAK DITERIMA (entri #{leg.missing.index})" + ("" if remark == "sesuai" else f"; {remark}")
    elif into is None:
        remark = "belum diterima" + ("" if remark == "sesuai" else f"; {remark}")
    return [
        str(number),
        leg.item,
        ", ".join(sorted(leg.seals)) or "-",
        ", ".join(sorted(into.record["scan"].get("seals") or [])) or "-" if into else "-",
        f"{waktu(out.observed, origin)}\n#{out.index}",
        f"{waktu(into.observed, destination)}\n#{into.index}" if into else "-",
        remark,
    ]

def _signatures(pdf: FPDF, ba: BeritaAcara) -> None:
    """Each party with the entries that are their signatures: a paper copy adds ink."""
    truckload = ba.truckload
    assert truckload.closing is not None
    if pdf.will_page_break(42):
        pdf.add_page()
    pdf.ln(5)
    givers = {_person(ba, leg.dispatch.actor) for leg in truckload.legs}
    takers = {_person(ba, leg.receive.actor) for leg in truckload.legs if leg.receive} | {
        _person(ba, truckload.closing.actor)
    }
    escorts = {_escort(e) for e in ba.escorts} or {"-"}
    third = (pdf.w - 2 * _MARGIN) / 3
    pdf.set_font("helvetica", "B", 9)
    for heading in ("Yang menyerahkan,", "Pengawal,", "Yang menerima,"):
        pdf.cell(third, 5, heading)
    pdf.ln(16)
    pdf.set_font("helvetica", size=8)
    y = pdf.get_y()
    for column, names in enumerate((givers, escorts, takers)):
        pdf.set_xy(_MARGIN + column * third, y)
        pdf.multi_cell(third - 3, 3.8, printable("\n".join(sorted(names))), new_x="LEFT", new_y="NEXT")
    pdf.set_xy(_MARGIN, max(pdf.get_y(), y + 4) + 2)
    pdf.set_font("helvetica", size=7)
    pdf.multi_cell(
        0, 3.4, "Tanda tangan digital tiap pihak adalah entri log yang dibuatnya (tabel di atas).",
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip

def _receipt(pdf: FPDF, ba: BeritaAcara) -> None:
    """The truckload's receipt: the QR code pinning its closing entry, and the signed
    checkpoint the receipt leads to, printed whole so that the paper carries it."""
    closing, note = ba.truckload.closing, ba.receipt.checkpoint_note
    assert closing is not None
    handoff = ba.truckload.handoff
    size = Checkpoint.parse(parse_note(note).text).size
    needed = _RECEIPT_QR_MM + 12 + 3.4 * len(note.splitlines())
    if pdf.will_page_break(needed):
        pdf.add_page()
    pdf.ln(4)
    _heading(pdf, "TANDA TERIMA MUATAN (BUKTI LOG)")
    top = pdf.get_y()
    draw_qr(pdf, ba.url, _MARGIN, top, _RECEIPT_QR_MM)
    pdf.set_xy(_MARGIN + _RECEIPT_QR_MM + 3, top + 2)
    pdf.set_font("helvetica", size=8)
    pdf.multi_cell(
        0,
        4,
        printable(
            f"Penutupan serah terima adalah entri #{closing.index} log {ba.origin}, hash daun "
            f"{b64(closing.leaf_hash)}, tercakup checkpoint ukuran {size} di bawah ini. "
            "Pindai kode QR: halaman publik memeriksa entri itu dan bukti inklusinya terhadap checkpoint yang "
            "ditandatangani log, tanpa mempercayai server. Tanda terima lengkap (C2SP tlog-proof): "
            f"GET /api/v1/handoffs/{handoff.log_id}/{handoff.id}/receipt."
        ),
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_y(max(pdf.get_y(), top + _RECEIPT_QR_MM) + 2)
    pdf.set_font("courier", size=7)
    pdf.multi_cell(0, 3.4, printable(note), border=1, padding=1.5, wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
