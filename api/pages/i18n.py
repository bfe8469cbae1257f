"""The pages' words, in Bahasa Indonesia (the default) and English.

One table serves both the server-rendered templates and the JS modules (each page
carries the table of its language as a JSON data block), so a phrase is written once."""

from __future__ import annotations

LANGUAGES = ("id", "en")
DEFAULT = "id"

# key: (Bahasa Indonesia, English). `{name}` marks a value filled in where it is used.
_TEXT: dict[str, tuple[str, str]] = {
    # Shared
    "app": ("Jejak", "Jejak"),
    "other_language": ("English", "Bahasa Indonesia"),
    "online": ("Daring", "Online"),
    "offline": ("Luring", "Offline"),
    "username": ("Nama pengguna", "Username"),
    "password": ("Kata sandi", "Password"),
    "sign_in": ("Masuk", "Sign in"),
    "sign_out": ("Keluar", "Sign out"),
    "signed_in_as": ("Masuk sebagai {user} ({role}, {area})", "Signed in as {user} ({role}, {area})"),
    "session_expired": ("Sesi berakhir: masuk lagi.", "Your session ended: sign in again."),
    "network_error": ("Tidak ada jaringan.", "No network."),
    "error": ("Galat: {detail}", "Error: {detail}"),
    "item_id": ("Nomor barang", "Item id"),
    "search": ("Cari", "Search"),
    "refresh": ("Muat ulang", "Refresh"),
    "loading": ("Memuat…", "Loading…"),
    "none": ("Tidak ada", "None"),
    "more": ("… dan {n} lainnya", "… and {n} more"),
    "hours_ago": ("{n} jam lalu", "{n} h ago"),
    "minutes_ago": ("{n} menit lalu", "{n} min ago"),
    # Roles
    "role_admin": ("Admin", "Admin"),
    "role_kpu": ("KPU", "KPU"),
    "role_ppk": ("PPK", "PPK"),
    "role_pps": ("PPS", "PPS"),
    "role_kpps": ("KPPS", "KPPS"),
    "role_escort": ("Pengawal (Polri)", "Escort (police)"),
    "role_auditor": ("Pengawas", "Auditor"),
    "role_integrator": ("Integrator", "Integrator"),
    # Item statuses
    "status_registered": ("Terdaftar", "Registered"),
    "status_sealed": ("Tersegel di gudang", "Sealed in the warehouse"),
    "status_in_transit": ("Dalam perjalanan", "In transit"),
    "status_held": ("Diterima dan disimpan", "Received and held"),
    "status_opened": ("Dibuka di TPS", "Opened at the TPS"),
    "status_counted": ("Dihitung", "Counted"),
    "status_resealed": ("Disegel ulang", "Resealed"),
    "status_returned": ("Kembali di KPU", "Back at the KPU"),
    # Scan and entry types
    "type_register": ("Didaftarkan", "Registered"),
    "type_label": ("Label dicetak", "Label printed"),
    "type_seal": ("Segel", "Seal"),
    "type_dispatch": ("Kirim", "Dispatch"),
    "type_receive": ("Terima", "Receive"),
    "type_open": ("Buka", "Open"),
    "type_count": ("Hitung", "Count"),
    "type_reseal": ("Segel ulang", "Reseal"),
    "type_incident": ("Laporkan kejadian", "Report an incident"),
    "type_correction": ("Koreksi", "Correction"),
    "type_store": ("Simpan", "Store"),
    "type_missing": ("Tidak tiba", "Did not arrive"),
    "type_pickup": ("Diambil pengawal", "Picked up by the escort"),
    "type_delivery": ("Diserahkan pengawal", "Delivered by the escort"),
    # Incidents
    "incident_damaged": ("Rusak", "Damaged"),
    "incident_wet": ("Basah", "Wet"),
    "incident_lost": ("Hilang", "Lost"),
    "incident_seal_broken": ("Segel rusak", "Seal broken"),
    "incident_other": ("Lainnya", "Other"),
    # Scanner
    "scan_title": ("Pemindai Jejak", "Jejak scanner"),
    "scan_intro": (
        "Pindai label kotak suara. Pemindaian ditandatangani di ponsel ini dan dikirim saat ada jaringan.",
        "Scan a ballot box label. Scans are signed on this phone and sent when there is a network.",
    ),
    "device": ("Perangkat", "Device"),
    "device_ready": ("Kunci perangkat terdaftar: {id}", "Device key registered: {id}"),
    "device_registering": ("Mendaftarkan kunci perangkat…", "Registering the device key…"),
    "device_fallback": (
        "Peramban ini tidak punya Ed25519: memakai pustaka cadangan (kunci dapat dibaca).",
        "This browser lacks Ed25519: using the fallback library (the key is readable).",
    ),
    "camera": ("Kamera", "Camera"),
    "stop_camera": ("Matikan kamera", "Stop camera"),
    "photo": ("Foto label", "Photo of a label"),
    "type_id": ("Ketik nomor barang", "Type the item id"),
    "open_item": ("Buka", "Open"),
    "camera_denied": ("Kamera tidak dapat dipakai: {detail}", "The camera cannot be used: {detail}"),
    "no_qr": ("Tidak ada kode QR terbaca pada foto.", "No QR code could be read in the photo."),
    "label_ok": ("Label asli", "Genuine label"),
    "label_ok_detail": (
        "Tanda tangan KPU {log} sah. Label ke-{n}, tujuan {dst}.",
        "Signed by KPU {log}. Label no. {n}, bound for {dst}.",
    ),
    "label_fake": ("LABEL PALSU — JANGAN TERIMA", "COUNTERFEIT LABEL — DO NOT ACCEPT"),
    "label_unchecked": (
        "Nomor diketik: label tidak diperiksa. Cocokkan dengan label pada kotak.",
        "Id typed: the label was not checked. Compare it with the label on the box.",
    ),
    "label_not_ours": ("Bukan label Jejak: {text}", "Not a Jejak label: {text}"),
    "label_no_keys": (
        "Kunci label {log} belum tersimpan di ponsel ini: sambungkan ke jaringan sekali.",
        "The label keys of {log} are not on this phone yet: connect to a network once.",
    ),
    "why_bad_format": ("format tanda tangan rusak", "the signature is malformed"),
    "why_bad_header": ("jenis tanda tangan salah", "wrong signature type"),
    "why_unknown_key": ("ditandatangani kunci yang tidak dikenal", "signed by an unknown key"),
    "why_bad_signature": ("tanda tangan tidak sah", "the signature does not verify"),
    "why_other_item": (
        "tanda tangan untuk barang lain ({item})",
        "the signature is for another item ({item})",
    ),
    "item_state": ("Status: {status}. Dipegang: {custodian}.", "Status: {status}. Held by: {custodian}."),
    "item_state_unknown": (
        "Status barang belum diketahui di ponsel ini (luring).",
        "The item's status is not known on this phone (offline).",
    ),
    "item_headed": ("Dikirim ke {to}.", "Dispatched to {to}."),
    "action": ("Tindakan", "Action"),
    "counterparty_dispatch": ("Tujuan", "Destination"),
    "counterparty_receive": ("Diterima dari", "Received from"),
    "site": ("Lokasi pemindaian", "Scanned at"),
    "seals": ("Nomor segel (pisahkan dengan koma)", "Seal numbers (comma separated)"),
    "scan_seal": ("Pindai segel", "Scan a seal"),
    "seals_recorded": ("Segel tercatat: {seals}", "Seals on record: {seals}"),
    "seals_differ": (
        "Nomor segel berbeda dari yang tercatat: periksa lagi!",
        "The seal numbers differ from those on record: check again!",
    ),
    "vehicle": ("Kendaraan (nomor polisi)", "Vehicle (plate)"),
    "escorts": ("NRP pengawal (pisahkan dengan koma)", "Escort NRPs (comma separated)"),
    "handoff": ("Nomor muatan", "Truckload id"),
    "incident_kind": ("Kejadian", "What happened"),
    "reason": ("Keterangan", "Details"),
    "attach_location": ("Lampirkan lokasi (GPS)", "Attach the location (GPS)"),
    "location_none": ("Lokasi tidak tersedia: dikirim tanpa lokasi.", "No location: sent without it."),
    "sign_and_queue": ("Tanda tangani & simpan", "Sign & save"),
    "saved": ("Tersimpan di kotak keluar.", "Saved in the outbox."),
    "outbox": ("Kotak keluar", "Outbox"),
    "outbox_empty": ("Belum ada pemindaian.", "No scans yet."),
    "sync_now": ("Kirim sekarang", "Send now"),
    "state_queued": ("Antre", "Queued"),
    "state_sent": ("Terkirim", "Sent"),
    "state_logged": ("Di log", "In the log"),
    "state_rejected": ("Ditolak", "Rejected"),
    "state_conflict": ("Bertentangan", "Conflict"),
    "conflict": (
        "Pindaian ini bertentangan dengan entri #{index} yang sudah tercatat: tidak dicatat. Hubungi operator KPU.",
        "This scan conflicts with entry #{index}, already recorded: it was not recorded. Contact the KPU operator.",
    ),
    "flags": ("Catatan: {flags}", "Flagged: {flags}"),
    "receipt": ("Tanda terima", "Receipt"),
    "receipt_verified": (
        "Tanda terima diperiksa: entri #{index} ada di checkpoint ukuran {size}.",
        "Receipt checked: entry #{index} is in the checkpoint of size {size}.",
    ),
    "receipt_bad": ("Tanda terima tidak sah: {reason}", "The receipt does not verify: {reason}"),
    "last_sync": ("Terakhir dikirim: {time}", "Last sent: {time}"),
    "not_a_scanner": (
        "Akun {role} tidak memindai barang.",
        "A {role} account does not scan items.",
    ),
    # Dashboard
    "dash_title": ("Dasbor distribusi", "Distribution dashboard"),
    "dash_roles": (
        "Dasbor untuk KPU, PPK, pengawas dan admin.",
        "The dashboard is for KPU, PPK, auditors and admins.",
    ),
    "area": ("Wilayah", "Area"),
    "progress": ("Kemajuan distribusi", "Distribution progress"),
    "outbound": ("Berangkat", "Outbound"),
    "return": ("Kembali", "Return"),
    "stage_out_kpu": ("Gudang KPU", "KPU warehouse"),
    "stage_out_in_transit": ("Di jalan", "On the road"),
    "stage_out_ppk": ("Di PPK", "At the PPK"),
    "stage_out_pps": ("Di PPS", "At the PPS"),
    "stage_out_tps": ("Di TPS", "At the TPS"),
    "stage_out_voting": ("Dibuka/dihitung", "Opened/counted"),
    "stage_back_tps": ("Disegel ulang di TPS", "Resealed at the TPS"),
    "stage_back_in_transit": ("Di jalan kembali", "On the road back"),
    "stage_back_pps": ("Kembali di PPS", "Back at the PPS"),
    "stage_back_ppk": ("Kembali di PPK", "Back at the PPK"),
    "stage_back_kpu": ("Kembali di KPU", "Back at the KPU"),
    "items_total": ("{n} barang", "{n} items"),
    "map": ("Peta lokasi (koordinat)", "Sites map (coordinates)"),
    "map_synthetic": ("Koordinat demo (rekaan).", "Demo coordinates (invented)."),
    "map_hint": ("Ketuk wilayah untuk membuka rinciannya.", "Tap an area to open it."),
    "in_transit": ("Dalam perjalanan", "In transit"),
    "from_to": ("{from} → {to}", "{from} → {to}"),
    "since_dispatch": ("sejak dikirim", "since dispatch"),
    "alerts": ("Peringatan terbuka", "Open alerts"),
    "severity_critical": ("Kritis", "Critical"),
    "severity_warning": ("Peringatan", "Warning"),
    "severity_info": ("Info", "Info"),
    "timeline": ("Riwayat barang", "Item timeline"),
    "log_status": ("Status log", "Log status"),
    "log_size": ("Ukuran log: {size} entri", "Log size: {size} entries"),
    "checkpoint": (
        "Checkpoint terakhir: ukuran {size}, akar {root}…",
        "Latest checkpoint: size {size}, root {root}…",
    ),
    "checkpoint_signed": ("Tanda tangan log sah.", "The log's signature verifies."),
    "cosignatures": ("Tanda tangan saksi: {n} ({names})", "Witness cosignatures: {n} ({names})"),
    # Public check page
    "check_title": ("Cek kotak {item}", "Check box {item}"),
    "check_intro": (
        "Riwayat kotak ini diperiksa di ponsel Anda terhadap log publik yang ditandatangani; server tidak perlu dipercaya.",
        "This box's trail is checked on your phone against the signed public log; the server need not be trusted.",
    ),
    "current_status": ("Status sekarang", "Current status"),
    "destination": ("Tujuan", "Destination"),
    "custodian": ("Dipegang oleh", "Held by"),
    "heading_to": ("Sedang dikirim ke", "On its way to"),
    "verifying": ("Memeriksa…", "Checking…"),
    "verified": ("Terverifikasi", "Verified"),
    "verified_detail": (
        "{n} catatan terbukti ada di log {origin} (checkpoint ukuran {size}, ditandatangani log).",
        "{n} records proven to be in the log {origin} (checkpoint of size {size}, signed by the log).",
    ),
    "verified_pending": (
        "{n} catatan terbaru belum tercakup checkpoint; muat ulang sebentar lagi.",
        "{n} newest records are not covered by a checkpoint yet; reload in a moment.",
    ),
    "failed": ("GAGAL diverifikasi", "Verification FAILED"),
    "label_checked": ("Label asli (label ke-{n}).", "Genuine label (label no. {n})."),
    "label_revoked": (
        "Label ke-{n} sudah diganti (label sekarang ke-{current}): label lama!",
        "Label no. {n} has been replaced (the current one is no. {current}): an old label!",
    ),
    "label_absent": (
        "Dibuka tanpa tanda tangan label: hanya riwayat yang diperiksa.",
        "Opened without the label signature: only the trail was checked.",
    ),
    "why_checkpoint": ("tanda tangan checkpoint tidak sah", "the checkpoint signature does not verify"),
    "why_origin": ("checkpoint milik log lain", "the checkpoint belongs to another log"),
    "why_leaf": ("catatan #{index} diubah (hash tidak cocok)", "record #{index} was altered (hash mismatch)"),
    "why_proof": (
        "bukti catatan #{index} tidak cocok dengan checkpoint",
        "the proof of record #{index} does not match the checkpoint",
    ),
    "why_chain": (
        "rantai catatan terputus di #{index} (catatan hilang atau disisipkan)",
        "the chain of records breaks at #{index} (a record missing or inserted)",
    ),
    "why_item": ("catatan #{index} bukan milik kotak ini", "record #{index} is not this box's"),
    "why_label": ("label: {reason}", "label: {reason}"),
    "trail": ("Riwayat", "Trail"),
    "escorted": ("pengawalan polisi: {n}", "police escort: {n}"),
    "record_ok": ("terbukti", "proven"),
    "seals_short": ("Segel", "Seals"),
    "record_pending": ("menunggu checkpoint", "awaiting a checkpoint"),
    "record_bad": ("tidak terbukti", "not proven"),
    "not_found": ("Kotak tidak ditemukan", "Box not found"),
    "not_found_detail": (
        "Tidak ada barang {item} di log mana pun di sini. Label palsu?",
        "There is no item {item} in any log here. A counterfeit label?",
    ),
    "bad_id_detail": ("{item} bukan nomor barang.", "{item} is not an item id."),
    "too_many": ("Terlalu banyak permintaan: coba lagi sebentar lagi.", "Too many requests: try again shortly."),
    # Public check page of a truckload
    "truck_title": ("Cek muatan {handoff}", "Check truckload {handoff}"),
    "truck_intro": (
        "Muatan ini diperiksa di ponsel Anda terhadap log publik yang ditandatangani: manifesnya, setiap barang "
        "yang dimuat, diterima atau hilang. Server tidak perlu dipercaya.",
        "This truckload is checked on your phone against the signed public log: its manifest, every box loaded, "
        "received or missing. The server need not be trusted.",
    ),
    "truck_from": ("Dari", "From"),
    "truck_to": ("Kepada", "To"),
    "truck_state": ("Status", "Status"),
    "truck_open": ("Dalam serah terima", "Being handed over"),
    "truck_closed": ("Serah terima ditutup", "Handover closed"),
    "truck_count": ("Jumlah barang", "Boxes"),
    "truck_escort": ("Pengawalan", "Escort"),
    "truck_boxes": ("Barang dan segel", "Boxes and seals"),
    "truck_box_received": ("Diterima {time} (#{index})", "Received {time} (#{index})"),
    "truck_box_missing": ("TIDAK DITERIMA saat serah terima ditutup (#{index})", "NOT RECEIVED when the handover closed (#{index})"),
    "truck_box_on_the_way": ("Belum diterima", "Not received yet"),
    "truck_box_stray": (
        "Diterima sebagai bagian muatan ini (#{index}), tetapi tidak tercantum dalam manifesnya",
        "Received as part of this truckload (#{index}), but not on its manifest",
    ),
    "truck_fragment_absent": (
        "Dibuka tanpa manifes atau tanda terima: hanya catatan log yang diperiksa.",
        "Opened without a manifest or a receipt: only the log's records were checked.",
    ),
    "truck_manifest_checked": (
        "Manifes asli: {n} barang, ditandatangani KPU, sama dengan pengiriman di log (pengawal: {escorts}).",
        "Genuine manifest: {n} boxes, signed by the KPU, the same as the log's dispatches (escorts: {escorts}).",
    ),
    "truck_receipt_checked": (
        "Tanda terima berita acara sah: penutupan serah terima adalah entri #{index}, terbukti di log.",
        "The berita acara's receipt verifies: the handover's closing is entry #{index}, proven in the log.",
    ),
    "truck_receipt_pending": (
        "Penutupan serah terima (entri #{index}) belum tercakup checkpoint; muat ulang sebentar lagi.",
        "The handover's closing (entry #{index}) is not covered by a checkpoint yet; reload in a moment.",
    ),
    "why_truckload": ("catatan #{index} bukan milik muatan ini", "record #{index} is not this truckload's"),
    "why_manifest": ("manifes: {reason}", "manifest: {reason}"),
    # The scanner's truckload (escort.js)
    "manifest_ok": ("Manifes asli", "Genuine manifest"),
    "manifest_ok_detail": (
        "Ditandatangani KPU: {n} kotak. Hitung kotaknya sebelum menandatangani.",
        "Signed by the KPU: {n} boxes. Count the boxes before you sign.",
    ),
    "manifest_fake": ("MANIFES PALSU", "COUNTERFEIT MANIFEST"),
    "manifest_no_keys": (
        "Kunci label log {log} belum tersimpan di ponsel ini: buka pemindai sekali saat ada sinyal.",
        "This phone has not stored the label keys of log {log}: open the scanner once with a signal.",
    ),
    "truck_detail": (
        "{n} kotak · kendaraan {vehicle} · NRP pengawal: {escorts}",
        "{n} boxes · vehicle {vehicle} · escort NRPs: {escorts}",
    ),
    "truck_unnamed": (
        "NRP Anda tidak tercantum di manifes ini: tanda tangan Anda dicatat sebagai bukti saja, bukan pengawalan.",
        "Your NRP is not on this manifest: your signature is recorded as evidence only, not as the escort.",
    ),
    "manifest_print": ("Cetak manifes muatan", "Print the truckload's manifest"),
    "attest_pickup": ("Ambil alih pengawalan di asal", "Take the truck under guard at its origin"),
    "attest_delivery": ("Serahkan di tujuan", "Hand it over at its destination"),
    "truck_count_hint": (
        "Ingin menghitung per kotak? Pindai label tiap kotak setelah ini.",
        "Counting box by box? Scan each box's label after this.",
    ),
    "truck_expected": ("Kotak yang seharusnya ada di truk ini ({n})", "Boxes this truck should carry ({n})"),
    "why_other_truckload": ("tanda tangan untuk muatan lain ({handoff})", "the signature is for another truckload ({handoff})"),
    "why_manifest_boxes": (
        "daftar barangnya berbeda dengan pengiriman di log",
        "its list of boxes differs from the log's dispatches",
    ),
    "why_receipt": (
        "tanda terima: entri #{index} bukan penutupan muatan ini",
        "receipt: entry #{index} is not this truckload's closing",
    ),
    "truck_not_found": ("Muatan tidak ditemukan", "Truckload not found"),
    "truck_not_found_detail": (
        "Tidak ada muatan {item} di log ini. Manifes palsu?",
        "There is no truckload {item} in this log. A counterfeit manifest?",
    ),
    "truck_bad_id_detail": ("{item} bukan nomor muatan.", "{item} is not a truckload id."),
    # The scanner's stock-take (stocktake.js)
    "type_stocktake": ("Stock opname", "Stock-take"),
    "stocktake": ("Stock opname", "Stock-take"),
    "stocktake_hint": (
        "Hitung semua kotak di tempat ini: mulai, pindai label tiap kotak, lalu tutup.",
        "Count every box here: start, scan each box's label, then close.",
    ),
    "stocktake_start": ("Mulai stock opname", "Start a stock-take"),
    "stocktake_active": (
        "Stock opname {id}: {n} kotak dipindai. Setiap label yang dipindai langsung dicatat.",
        "Stock-take {id}: {n} boxes scanned. Each label read is recorded at once.",
    ),
    "stocktake_close": ("Tutup stock opname", "Close the stock-take"),
    "stocktake_closed": (
        "Ditutup: {found} ditemukan, {missing} hilang, {unexpected} tak terduga.",
        "Closed: {found} found, {missing} missing, {unexpected} unexpected.",
    ),
    "stocktake_report": ("Cetak berita acara", "Print the report"),
    # The dashboard's completeness card (completeness.js)
    "kit_title": ("Kelengkapan logistik TPS", "Polling stations' kits"),
    "kit_counts": (
        "{complete} TPS lengkap · {incomplete} belum lengkap · {not_started} belum menerima apa pun",
        "{complete} polling stations complete · {incomplete} incomplete · {not_started} not started",
    ),
    "kit_complete": ("lengkap", "complete"),
    "kit_incomplete": ("belum lengkap", "incomplete"),
    "kit_not_started": ("belum diterima", "not started"),
    "kit_unregistered": ("belum didaftarkan", "never registered"),
    "kit_need_by": ("dibutuhkan {when}", "needed by {when}"),
    "kit_report": ("Laporan:", "Report:"),
    # The dashboard's convoy card (convoys.js)
    "convoys": ("Konvoi di jalan", "Convoys on the road"),
    "convoy_detail": (
        "{vehicle} · NRP pengawal {escorts} · {hours} dari {allowed} jam · {boxes} kotak di jalan",
        "{vehicle} · escort NRPs {escorts} · {hours} of {allowed} h · {boxes} boxes on the road",
    ),
    # The dashboard's returns card (returns.js)
    "returns_title": ("Pengembalian setelah penghitungan", "Returns after the count"),
    "return_back": ("Kembali di KPU", "Back at the KPU"),
    "return_on_the_way": ("Di jalan", "On the way"),
    "return_missing": ("Hilang", "Missing"),
    "return_at_tps": ("Di TPS", "At a TPS"),
    "return_at_pps": ("Di PPS", "At a PPS"),
    "return_at_ppk": ("Di PPK", "At a PPK"),
    "return_not_counted": ("Belum dihitung", "Not counted"),
    "reseal_mismatches": ("Segel berbeda dari segel ulang: {items}", "Seals differ from the reseal's: {items}"),
    "orphans_title": ("Kotak yatim (ditemukan di tempat yang tidak diharapkan log)", "Orphans (found where the log does not expect them)"),
    "orphan_now": ("Lalu: {next} · kini dipegang {custodian}", "Then: {next} · now held by {custodian}"),
    "kerawanan_sangat_rawan": ("sangat rawan", "very vulnerable"),
    "kerawanan_rawan": ("rawan", "vulnerable"),
    "kerawanan_kurang_rawan": ("kurang rawan", "less vulnerable"),
}

MESSAGES: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, pair in _TEXT.items()} for i, lang in enumerate(LANGUAGES)
}


def pick(requested: str | None, remembered: str | None) -> str:
    """The page's language: asked for in the URL, else remembered, else Bahasa Indonesia."""
    for choice in (requested, remembered):
        if choice in LANGUAGES:
            return choice
    return DEFAULT
