"""The pages' words, in Bahasa Indonesia (the default) and English.

One table serves both the server-rendered templates and the JS modules (each page
carries the table of its language as a JSON data block), so a phrase is written once."""

from __future__ import annotations

from datetime import datetime

from models.core.times import parse_time
from models.places.zones import zone_of

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
    "type_dispatch": ("Kirim kotak", "Dispatch"),
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
    # Flags the custody rules set on an entry (models/custody/rules.py, docs/ENTRIES.md):
    # the scanner, the public page, the dashboard and the PDFs say them in these words.
    "flag_not_custodian": ("bukan pemegang barang: dicatat sebagai bukti", "not the custodian: recorded as evidence"),
    "flag_in_transit": ("barang sedang dalam perjalanan: dicatat sebagai bukti", "the box is on the road: recorded as evidence"),
    "flag_already_in_transit": ("dikirim lagi sebelum diterima", "dispatched again before it was received"),
    "flag_level_skipped": ("melompati tingkatan", "a level of the route skipped"),
    "flag_off_route": ("di luar rute", "off the route"),
    "flag_seal_mismatch": ("nomor segel tidak cocok", "seal numbers do not match"),
    "flag_wrong_site": ("diterima di tempat yang salah", "received at the wrong site"),
    "flag_wrong_origin": ("pengirim tidak sesuai", "not from the site that dispatched it"),
    "flag_no_dispatch": ("diterima tanpa pengiriman", "received with no dispatch"),
    "flag_manifest_mismatch": ("tidak ada dalam manifes muatan", "not on the truckload's manifest"),
    "flag_not_at_destination": ("bukan di TPS tujuan", "not at its polling station"),
    "flag_out_of_order": ("urutan tidak sesuai", "out of order"),
    "flag_late_sync": ("terlambat disinkronkan", "synced late"),
    "flag_future_time": ("waktu melewati jam server", "later than the server's clock"),
    "flag_far_from_site": ("jauh dari lokasi", "far from the site"),
    "flag_impossible_travel": ("perjalanan mustahil: terlalu jauh dari pindaian sebelumnya", "impossible travel: too far from the previous scan"),
    "flag_revoked_label": ("label lama yang sudah diganti", "an old, replaced label"),
    "flag_late_return": ("kembali melewati batas waktu", "returned after the deadline"),
    "flag_no_escort": ("tanpa pengawal yang wajib", "no escort, though one is required"),
    "flag_unknown_escort": ("pengawal tidak dikenal", "an unknown escort"),
    "flag_no_delivery": ("diterima tanpa penyerahan pengawal", "received with no escort's delivery"),
    "flag_not_escort": ("bukan pengawal muatan ini", "not this truckload's escort"),
    "flag_pickup_wrong_site": ("diambil bukan di tempat asal muatan", "picked up away from the truckload's origin"),
    "flag_delivery_wrong_site": ("diserahkan bukan di tujuan muatan", "delivered away from the truckload's destination"),
    "flag_not_in_truckload": ("tidak termasuk muatan ini", "not in this truckload"),
    "flag_unknown_manifest": ("manifes tidak dikenal (palsu?)", "an unknown manifest (forged?)"),
    "flag_out_of_order_sync": ("dikirim tidak berurutan dari ponsel", "synced out of order from the phone"),
    "flag_incident_damaged": ("insiden: rusak", "incident: damaged"),
    "flag_incident_wet": ("insiden: basah", "incident: wet"),
    "flag_incident_lost": ("insiden: hilang", "incident: lost"),
    "flag_incident_seal_broken": ("insiden: segel rusak", "incident: seal broken"),
    "flag_incident_other": ("insiden: lainnya", "incident: other"),
    "flag_unknown": ("catatan {flag}", "flag {flag}"),
    # Alert rules (models/custody/alerts.py SEVERITY): what each alert means, for the dashboard.
    "rule_seal_mismatch": (
        "Nomor segel yang dipindai berbeda dari yang tercatat: periksa segel kotak.",
        "The seal numbers scanned differ from those on record: check the box's seals.",
    ),
    "rule_wrong_site": (
        "Kotak diterima di tempat yang bukan tujuan pengirimannya; penguasaan tetap pada pengirim.",
        "The box was received somewhere it was not dispatched to; custody stays with the dispatcher.",
    ),
    "rule_wrong_origin": ("Kotak diterima dari pihak yang tidak mengirimnya.", "The box was received from a party that did not dispatch it."),
    "rule_missing": (
        "Kotak tercantum dalam muatan tetapi tidak diterima saat serah terima ditutup.",
        "The box was in the truckload but not received when the handover closed.",
    ),
    "rule_not_received": (
        "Kotak dikirim tetapi belum diterima dalam batas waktu.",
        "The box was dispatched and not received in time.",
    ),
    "rule_impossible_travel": (
        "Kotak dipindai terlalu jauh dari pindaian sebelumnya untuk ditempuh dalam waktu itu: dua kotak dengan satu label?",
        "The box was scanned too far from its previous scan to have travelled there: two boxes with one label?",
    ),
    "rule_revoked_label": ("Label lama yang sudah diganti dipindai.", "An old label, replaced by a reprint, was scanned."),
    "rule_incident_lost": ("Dilaporkan hilang.", "Reported lost."),
    "rule_incident_seal_broken": ("Dilaporkan segelnya rusak.", "Reported with a broken seal."),
    "rule_incident_damaged": ("Dilaporkan rusak.", "Reported damaged."),
    "rule_incident_wet": ("Dilaporkan basah.", "Reported wet."),
    "rule_incident_other": ("Kejadian lain dilaporkan.", "Another incident reported."),
    "rule_delivery_wrong_site": (
        "Pengawal menyerahkan muatan bukan di tujuannya: ke mana truk pergi?",
        "The escort handed the truckload over away from its destination: where did the truck go?",
    ),
    "rule_no_dispatch": (
        "Kotak diterima padahal tidak ada pengiriman yang menunggu; penguasaan tidak berpindah.",
        "The box was received while no dispatch was pending; custody did not move.",
    ),
    "rule_level_skipped": ("Kotak dikirim melompati satu tingkatan rute.", "The box was dispatched skipping a level of its route."),
    "rule_off_route": ("Kotak dikirim ke luar rutenya.", "The box was dispatched off its route."),
    "rule_already_in_transit": (
        "Kotak dikirim lagi sebelum pengiriman sebelumnya diterima.",
        "The box was dispatched again before the earlier dispatch was received.",
    ),
    "rule_not_custodian": (
        "Dipindai oleh tempat yang tidak memegang kotak: dicatat sebagai bukti, tidak ada yang berpindah.",
        "Scanned by a site that does not hold the box: recorded as evidence, nothing moved.",
    ),
    "rule_in_transit": (
        "Dipindai saat kotak dalam perjalanan ke tempat lain: dicatat sebagai bukti.",
        "Scanned while the box was on its way elsewhere: recorded as evidence.",
    ),
    "rule_not_at_destination": ("Dibuka atau dihitung bukan di TPS tujuannya.", "Opened or counted away from its polling station."),
    "rule_out_of_order": ("Urutan segel, buka, hitung, segel ulang tidak diikuti.", "The order seal, open, count, reseal was not followed."),
    "rule_future_time": ("Waktu pindaian melewati jam server: jam ponsel salah?", "Scanned later than the server's clock: a wrong phone clock?"),
    "rule_far_from_site": ("Dipindai jauh dari lokasi tempatnya.", "Scanned far from its site."),
    "rule_late_return": ("Kotak kembali melewati batas waktu pengembalian.", "The box came back after the return deadline."),
    "rule_no_escort": (
        "Dikirim tanpa pengawal ke tempat yang mewajibkan pengawalan.",
        "Dispatched with no escort where an escort is required.",
    ),
    "rule_unknown_escort": (
        "Pengiriman menyebut pengawal yang bukan akun pengawal untuk muatan ini.",
        "The dispatch names escorts who are not escort accounts for this truckload.",
    ),
    "rule_no_pickup": (
        "Muatan berpengawal belum diambil alih pengawalnya tepat waktu.",
        "An escorted truckload was not taken under guard in time.",
    ),
    "rule_no_delivery": (
        "Diterima dari muatan berpengawal yang belum diserahkan pengawalnya di sini.",
        "Received from an escorted truckload its escort has not delivered here.",
    ),
    "rule_not_escort": (
        "Pengambilan atau penyerahan oleh pengawal yang tidak disebut manifes: hanya bukti.",
        "A pickup or delivery by an escort the manifest does not name: evidence only.",
    ),
    "rule_pickup_wrong_site": ("Muatan diambil pengawal bukan di tempat asalnya.", "The truckload was picked up away from its origin."),
    "rule_not_in_truckload": ("Kotak dipindai dengan muatan yang tidak membawanya.", "The box was scanned with a truckload that does not carry it."),
    "rule_unknown_manifest": (
        "Pengawal ditunjukkan manifes yang tidak pernah dimiliki muatan ini: manifes palsu?",
        "The escort was shown a manifest this truckload never had: a forged manifest?",
    ),
    "rule_out_of_order_sync": (
        "Pindaian ponsel tiba setelah pindaian bernomor lebih besar: ditahan di ponsel?",
        "A phone's scan arrived after a later-numbered one: held back on the phone?",
    ),
    "rule_device_gap": (
        "Ada pindaian ponsel yang tidak pernah sampai ke log, padahal pindaian berikutnya sampai.",
        "A phone's scan never reached the log, though later ones did.",
    ),
    "rule_outside_jurisdiction": (
        "Pindaian ditolak: di luar wilayah petugas.",
        "A scan refused: outside the officer's area.",
    ),
    "rule_manifest_mismatch": (
        "Kotak diterima sebagai bagian muatan yang manifesnya tidak mencantumkannya: truk tertukar?",
        "The box was received as part of a truckload whose manifest does not list it: trucks swapped?",
    ),
    "rule_late_sync": ("Pindaian terlambat disinkronkan.", "A scan synced late."),
    "rule_unknown": ("Aturan {rule}.", "Rule {rule}."),
    # Scanner
    "scan_title": ("Pemindai Jejak", "Jejak scanner"),
    "scan_intro": (
        "Pindai label kotak suara. Pemindaian ditandatangani di ponsel ini dan diunggah saat ada jaringan.",
        "Scan a ballot box label. Scans are signed on this phone and uploaded when there is a network.",
    ),
    "device": ("Perangkat", "Device"),
    "device_ready": (
        "Ponsel ini terdaftar: pemindaian Anda ditandatangani dengan kunci ponsel ini sendiri.",
        "This phone is registered: your scans are signed with its own key.",
    ),
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
    "item_state": ("Status: {status}. Dipegang oleh {custodian}.", "Status: {status}. Held by {custodian}."),
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
    "saved": ("Tersimpan di antrean unggah.", "Saved in the upload queue."),
    "outbox": ("Antrean unggah", "Upload queue"),
    "outbox_empty": ("Belum ada pemindaian.", "No scans yet."),
    "sync_now": ("Unggah sekarang", "Upload now"),
    "state_queued": ("Antre, belum diunggah", "Queued, not uploaded yet"),
    "state_sent": ("Terunggah", "Uploaded"),
    "state_logged": ("Tercatat di log", "In the log"),
    "state_rejected": ("Ditolak", "Refused"),
    "state_conflict": ("Bentrok", "Conflict"),
    "conflict": (
        "Pemindaian ini bentrok dengan entri ke-{index} yang sudah tercatat: tidak dicatat. Hubungi operator KPU.",
        "This scan conflicts with entry no. {index}, already recorded: it was not recorded. Contact the KPU operator.",
    ),
    "flags": ("Catatan: {flags}", "Flagged: {flags}"),
    "receipt": ("Tanda terima", "Receipt"),
    "receipt_verified": (
        "Tanda terima diperiksa: pemindaian ini tercatat permanen di log publik KPU (entri ke-{index}).",
        "Receipt checked: this scan is recorded for good in the KPU's public log (entry no. {index}).",
    ),
    "receipt_bad": ("Tanda terima tidak sah: {reason}", "The receipt does not verify: {reason}"),
    "last_sync": ("Terakhir diunggah: {time}", "Last upload: {time}"),
    "not_a_scanner": (
        "Akun {role} tidak memindai barang.",
        "A {role} account does not scan items.",
    ),
    # Scanner field (issue 23): what the scanner says in the field, in words
    "noscript_scan": (
        "Pemindai Jejak memerlukan JavaScript. Aktifkan JavaScript di peramban ini, atau pakai Chrome atau Firefox terbaru.",
        "The Jejak scanner needs JavaScript. Turn JavaScript on in this browser, or use a recent Chrome or Firefox.",
    ),
    "seals_required": (
        "Nomor segel wajib: pindai segel atau ketik nomornya. Belum ditandatangani.",
        "Seal numbers are required: scan the seals or type their numbers. Nothing was signed.",
    ),
    "seal_is_label": ("Itu label kotak, bukan segel: arahkan kamera ke segel.", "That is a box label, not a seal: point the camera at a seal."),
    "item_outside": (
        "Kotak {item} di luar wilayah Anda ({area}): tidak dapat dipindai dari akun ini. Formulir ditutup.",
        "Box {item} is outside your area ({area}): it cannot be scanned from this account. The form was closed.",
    ),
    "item_missing": (
        "Kotak {item} tidak terdaftar di Jejak. Periksa nomornya, atau laporkan ke KPU. Formulir ditutup.",
        "Box {item} is not registered in Jejak. Check the number, or report it to the KPU. The form was closed.",
    ),
    "item_failed": ("Kotak {item} tidak dapat dibuka: {reason} Formulir ditutup.", "Box {item} could not be opened: {reason} The form was closed."),
    "box_name": ("{kind} {contest} untuk {place}", "{kind} {contest} for {place}"),
    "tps_name": ("TPS {n}", "Polling station {n}"),
    "kind_kotak_suara": ("Kotak suara", "Ballot box"),
    "kind_surat_suara": ("Surat suara", "Ballot papers"),
    "kind_formulir": ("Formulir", "Forms"),
    "kind_segel": ("Segel", "Seals"),
    "kind_tinta": ("Tinta", "Ink"),
    "kind_bilik": ("Bilik suara", "Voting booth"),
    "kind_lainnya": ("Barang", "Item"),
    "sync_failed": (
        "Unggah gagal pukul {time}: {reason} Dicoba lagi otomatis dalam {wait}, pukul {retry}.",
        "Upload failed at {time}: {reason} Trying again automatically in {wait}, at {retry}.",
    ),
    "wait_seconds": ("{n} detik", "{n} s"),
    "wait_minutes": ("{n} menit", "{n} min"),
    "sync_waiting": (
        "Luring: {n} pemindaian diunggah otomatis saat ada jaringan.",
        "Offline: {n} scans upload automatically when there is a network.",
    ),
    "server_unreachable": ("server tidak dapat dihubungi.", "the server cannot be reached."),
    "server_timeout": ("server tidak menjawab tepat waktu.", "the server did not answer in time."),
    "server_failed": ("server sedang bermasalah (galat {status}).", "the server has a problem (error {status})."),
    "refused_because": ("Alasan dari server: {reason}", "The server's reason: {reason}"),
    # Why the server refused a scan, by its reason_code (models/custody/refusals.py)
    "refusal_malformed_envelope": ("Pemindaian rusak (bukan pemindaian bertanda tangan).", "The scan is damaged (not a signed scan)."),
    "refusal_invalid_scan": ("Isian pemindaian tidak sah atau tidak lengkap.", "A field of the scan is missing or not valid."),
    "refusal_unknown_log": ("Kabupaten/kota kotak ini tidak dikenal server ini.", "This server keeps no log for this box's regency."),
    "refusal_not_this_role": ("Peran Anda tidak membuat pemindaian ini di tempat ini.", "Your role does not make this scan at this place."),
    "refusal_outside_jurisdiction": ("Tempat ini di luar wilayah Anda.", "This place is outside your area."),
    "refusal_missing_field": ("Isian yang wajib belum diisi (pihak lain, kejadian atau rujukan).", "A required field is missing (counterparty, incident or reference)."),
    "refusal_device_not_registered": ("Ponsel ini belum terdaftar: dikirim ulang setelah terdaftar.", "This phone is not registered yet: it is sent again once it is."),
    "refusal_device_of_another_user": ("Ponsel ini milik akun lain.", "This phone belongs to another account."),
    "refusal_bad_signature": ("Tanda tangan ponsel tidak sah.", "The phone's signature does not verify."),
    "refusal_device_without_nrp": ("Ponsel pengawal ini didaftarkan sebelum akunnya punya NRP: daftarkan ulang.", "This escort's phone was registered before the account had an NRP: register it again."),
    "refusal_device_revoked": ("Ponsel ini sudah dicabut.", "This phone was revoked."),
    "refusal_item_unknown": ("Kotak ini belum terdaftar di server.", "This box is not registered on the server yet."),
    "refusal_label_unknown": ("Label ini tidak pernah dicetak (palsu?).", "This label was never printed (forged?)."),
    "refusal_site_unknown": ("Tempat ini belum terdaftar di server.", "This place is not registered on the server yet."),
    "refusal_handoff_not_sites": ("Nomor muatan tidak diawali kode tempat pengirim.", "The truckload id does not begin with the sending site's code."),
    "refusal_handoff_closed": ("Muatan ini sudah ditutup: muatan baru perlu nomor baru.", "This truckload was closed: a new one needs a new id."),
    "refusal_handoff_other_route": ("Muatan ini berjalan antara tempat lain.", "This truckload runs between other places."),
    "refusal_truckload_unknown": ("Pengiriman muatan ini belum tercatat.", "This truckload's dispatch is not recorded yet."),
    "refusal_truckload_outside_jurisdiction": ("Muatan ini di luar wilayah Anda.", "This truckload is outside your area."),
    "refusal_stocktake_not_sites": ("Nomor stock opname tidak diawali kode tempat ini.", "The stock-take id does not begin with this place's code."),
    "refusal_stocktake_closed": ("Stock opname ini sudah ditutup.", "This stock-take was closed."),
    "refusal_correction_target_unknown": ("Pemindaian yang dikoreksi belum tercatat.", "The scan being corrected is not recorded yet."),
    "refusal_event_id_reused": ("Nomor pemindaian ini sudah dipakai pemindaian lain.", "Another scan holds this scan's id."),
    "refusal_device_seq_reused": ("Nomor urut ponsel ini sudah dipakai pemindaian lain.", "Another scan of this phone holds this sequence number."),
    # Problems: the API's problem `code` (api/problems.py, models/core/errors.py), in words
    "problem_item_not_found": ("barang itu tidak terdaftar.", "there is no such item."),
    "problem_outside_jurisdiction": ("di luar wilayah Anda.", "outside your area."),
    "problem_role_not_allowed": ("peran akun Anda tidak boleh melakukan ini.", "your account's role may not do this."),
    "problem_scope_missing": ("akun ini tidak diberi izin untuk ini.", "this account has not been granted this."),
    "problem_not_signed_in": ("sesi berakhir: masuk lagi.", "your session ended: sign in again."),
    "problem_invalid_token": ("sesi tidak sah: masuk lagi.", "the session is not valid: sign in again."),
    "problem_invalid_credentials": ("Nama pengguna atau kata sandi salah.", "Wrong username or password."),
    "problem_account_locked": (
        "Akun dikunci sementara setelah terlalu banyak percobaan. Coba lagi nanti atau hubungi admin KPU.",
        "The account is locked for a while after too many attempts. Try later or contact the KPU admin.",
    ),
    "problem_rate_limited": ("Terlalu banyak permintaan: tunggu sebentar lalu coba lagi.", "Too many requests: wait a moment and try again."),
    "problem_invalid_request": ("isian tidak sah.", "the request is not valid."),
    "problem_database_unavailable": ("server sedang tidak dapat menyimpan: dicoba lagi nanti.", "the server cannot store now: it will be retried."),
    "problem_unavailable": ("server sedang tidak tersedia.", "the server is unavailable."),
    "problem_disk_full": ("penyimpanan server penuh: hubungi operator KPU.", "the server's storage is full: contact the KPU operator."),
    "problem_body_too_large": ("unggahan terlalu besar.", "the upload is too large."),
    "problem_code_unknown": (
        "Kode pendaftaran tidak dikenal: cocokkan dengan lembar, atau minta kode baru.",
        "This enrollment code is not known: check it against the sheet, or ask for a new one.",
    ),
    "problem_code_spent": (
        "Kode pendaftaran ini sudah dipakai: satu kode untuk satu ponsel; minta kode baru ke PPK atau KPU.",
        "This enrollment code was already used: one code, one phone; ask your PPK or KPU for a new one.",
    ),
    "problem_code_revoked": (
        "Kode pendaftaran ini dicabut (sudah ada yang lebih baru): pakai lembar terbaru.",
        "This enrollment code was revoked (a newer one was issued): use the newest sheet.",
    ),
    "problem_code_expired": (
        "Kode pendaftaran ini kedaluwarsa: minta kode baru ke PPK atau KPU.",
        "This enrollment code has expired: ask your PPK or KPU for a new one.",
    ),
    "problem_account_disabled": (
        "Akun ini dinonaktifkan: minta KPU atau PPK Anda mengaktifkannya.",
        "This account is disabled: ask your KPU or PPK to enable it.",
    ),
    "problem_forbidden": ("tidak diizinkan.", "not allowed."),
    "problem_not_found": ("tidak ditemukan.", "not found."),
    "problem_conflict": ("bertentangan dengan yang sudah tercatat.", "conflicts with what is already recorded."),
    "problem_error": ("galat di server.", "an error on the server."),
    "problem_network": ("Tidak ada jaringan: server tidak dapat dihubungi.", "No network: the server cannot be reached."),
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
    # Dashboard: acting on alerts, reports, the map, timelines (issue 23)
    "dash_noscript": (
        "Dasbor ini memerlukan JavaScript: aktifkan JavaScript di peramban untuk melihat kemajuan distribusi, "
        "peringatan dan laporan.",
        "This dashboard needs JavaScript: turn JavaScript on in the browser to see distribution progress, "
        "alerts and reports.",
    ),
    "alert_item": ("Kotak {item}", "Box {item}"),
    "alert_technical": ("Rincian teknis (bahasa Inggris)", "Technical details"),
    "ack": ("Akui peringatan…", "Acknowledge…"),
    "ack_reason": (
        "Alasan atau tindakan yang diambil (masuk log publik)",
        "Reason, or what was done (it enters the public log)",
    ),
    "ack_submit": ("Akui", "Acknowledge"),
    "ack_done": ("Diakui: entri log #{index}.", "Acknowledged: log entry #{index}."),
    "problem_ack_own_entry": (
        "Anda membuat entri yang dikutip peringatan ini: pejabat lain harus mengakuinya.",
        "You made an entry this alert cites: another official must acknowledge it.",
    ),
    "problem_ack_critical_role": (
        "Peringatan kritis diakui oleh KPU kabupaten (di gudang KPU sendiri: oleh Bawaslu kabupaten).",
        "A critical alert is acknowledged by the regency's KPU (at the KPU's own warehouse: by the regency's Bawaslu).",
    ),
    "problem_ack_own_site": (
        "Peringatan ini ada di tempat yang Anda pegang: atasan Anda atau Bawaslu harus mengakuinya.",
        "This alert is at a site in your custody: your superior or Bawaslu must acknowledge it.",
    ),
    "ack_refused": ("Tidak dapat diakui: {reason}", "Cannot be acknowledged: {reason}"),
    "reports": ("Laporan", "Reports"),
    "report_custody_pdf": ("Berita acara penguasaan {area} (PDF)", "Custody report of {area} (PDF)"),
    "report_custody_csv": ("Penguasaan saat ini di {area} (CSV)", "Current custody in {area} (CSV)"),
    "report_events_csv": ("Semua peristiwa di {area} (CSV)", "Every event in {area} (CSV)"),
    "report_completeness_pdf": ("Kelengkapan TPS di {area} (PDF)", "Completeness of the TPS in {area} (PDF)"),
    "report_completeness_csv": ("Kelengkapan TPS di {area} (CSV)", "Completeness of the TPS in {area} (CSV)"),
    "report_convoys_pdf": ("Lembar konvoi hari ini, {area} (PDF)", "Today's convoy sheet, {area} (PDF)"),
    "report_returns_pdf": ("Pengembalian kotak setelah penghitungan, {area} (PDF)", "Boxes' return after the count, {area} (PDF)"),
    "report_returns_csv": ("Pengembalian kotak setelah penghitungan, {area} (CSV)", "Boxes' return after the count, {area} (CSV)"),
    "report_orphans_pdf": ("Kotak yatim di {area} (PDF)", "Orphan boxes in {area} (PDF)"),
    "report_orphans_csv": ("Kotak yatim di {area} (CSV)", "Orphan boxes in {area} (CSV)"),
    "report_item_pdf": ("Berita acara kotak ini (PDF)", "This box's custody report (PDF)"),
    "report_downloading": ("Mengunduh…", "Downloading…"),
    "recorded_at": ("dicatat {time}", "recorded {time}"),
    "map_sites": ("Wilayah di peta", "Areas on the map"),
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
    "check_noscript": (
        "JavaScript mati di peramban ini: riwayat di bawah ditampilkan menurut server dan BELUM diperiksa. "
        "Pemeriksaan tanda tangan label dan bukti log dilakukan di ponsel Anda dan memerlukan JavaScript.",
        "JavaScript is off in this browser: the trail below is as the server tells it and NOT checked. "
        "Checking the label's signature and the log's proofs happens on your phone and needs JavaScript.",
    ),
    "truck_noscript": (
        "JavaScript mati di peramban ini: muatan di atas ditampilkan menurut server dan BELUM diperiksa. "
        "Pemeriksaan manifes dan bukti log dilakukan di ponsel Anda dan memerlukan JavaScript.",
        "JavaScript is off in this browser: the truckload above is as the server tells it and NOT checked. "
        "Checking the manifest and the log's proofs happens on your phone and needs JavaScript.",
    ),
    "record_unchecked": ("belum diperiksa", "not checked yet"),
    "label_counterfeit": ("LABEL PALSU", "COUNTERFEIT LABEL"),
    "label_counterfeit_detail": (
        "Label yang Anda pindai tidak sah ({reason}): label itu bukan buatan KPU untuk kotak ini.",
        "The label you scanned is not genuine ({reason}): the KPU did not make it for this box.",
    ),
    "label_counterfeit_trail": (
        "Riwayat di bawah adalah riwayat kotak asli {item}, terbukti di log ({n} catatan). Kotak yang memakai label ini belum tentu kotak itu.",
        "The trail below is the genuine box {item}'s, proven in the log ({n} records). The box wearing this label may not be that box.",
    ),
    "error_page": ("Halaman tidak dapat dibuka", "The page cannot be opened"),
    "error_page_detail": (
        "Alamat ini tidak dapat dibuka (galat {item}). Periksa alamatnya, atau pindai kode QR pada label lagi.",
        "This address cannot be opened (error {item}). Check the address, or scan the label's QR code again.",
    ),
    "error_unavailable": (
        "Layanan sedang tidak tersedia: coba lagi sebentar lagi.",
        "The service is unavailable right now: try again shortly.",
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
    # Enrolling a phone (enroll.js)
    "enroll_title": ("Daftarkan HP petugas", "Enroll an officer's phone"),
    "enroll_intro": (
        "Pindai QR pada lembar pendaftaran, atau ketik kodenya. Kode hanya sekali pakai: HP ini membuat kuncinya sendiri dan Anda memilih kata sandi.",
        "Scan the QR on the enrollment sheet, or type its code. A code works once: this phone makes its own key and you choose a password.",
    ),
    "enroll_code": ("Kode pendaftaran", "Enrollment code"),
    "enroll_password": ("Kata sandi baru (minimal 10 karakter)", "New password (at least 10 characters)"),
    "enroll_again": ("Ulangi kata sandi", "Repeat the password"),
    "enroll_mismatch": ("Kedua kata sandi tidak sama.", "The two passwords differ."),
    "enroll_submit": ("Daftarkan HP ini", "Enroll this phone"),
    "enroll_working": ("Membuat kunci dan mendaftarkan HP…", "Making the key and enrolling the phone…"),
    "enroll_done": ("HP terdaftar untuk {user}. Simpan nama pengguna ini.", "Phone enrolled for {user}. Keep this username."),
    "enroll_revoked": ("HP lama dicabut: {devices}", "Earlier phones revoked: {devices}"),
    "enroll_open_scanner": ("Buka pemindai", "Open the scanner"),
    # Accounts page (accounts.js)
    "acc_title": ("Akun petugas", "Officers' accounts"),
    "acc_roles": ("Halaman ini untuk KPU, PPK dan admin.", "This page is for the KPU, PPK and admins."),
    "acc_import": ("Impor petugas (CSV)", "Import officers (CSV)"),
    "acc_import_hint": (
        "Kolom: name, role, jurisdiction, nik, nrp, phone. Seluruh berkas diperiksa dulu: satu baris salah, tidak ada yang dibuat.",
        "Columns: name, role, jurisdiction, nik, nrp, phone. The whole file is checked first: one wrong row and nothing is created.",
    ),
    "acc_file": ("Berkas CSV", "CSV file"),
    "acc_period": ("Periode pemilu", "Election period"),
    "acc_check": ("Periksa saja", "Check only"),
    "acc_do_import": ("Impor", "Import"),
    "acc_errors": ("{n} kesalahan; tidak ada yang dibuat:", "{n} errors; nothing was created:"),
    "acc_row_error": ("Baris {row}, {field}: {message}", "Row {row}, {field}: {message}"),
    "acc_imported": ("{created} akun dibuat, {unchanged} tidak berubah.", "{created} accounts created, {unchanged} unchanged."),
    "acc_checked": ("Berkas benar: {created} akun akan dibuat, {unchanged} tidak berubah.", "The file is right: {created} accounts would be created, {unchanged} unchanged."),
    "acc_sheet": ("Cetak lembar QR pendaftaran", "Print the enrollment QR sheet"),
    "acc_sheet_site": ("Kode wilayah (PPK/PPS)", "Area code (PPK/PPS)"),
    "acc_list": ("Daftar akun", "Accounts"),
    "acc_search": ("Nama, NIK, telepon atau pengguna", "Name, NIK, phone or username"),
    "acc_enrolled": ("terdaftar", "enrolled"),
    "acc_not_enrolled": ("belum mendaftar", "not enrolled"),
    "acc_disabled": ("nonaktif", "disabled"),
    "acc_phones": ("HP: {n}", "Phones: {n}"),
    "acc_last_scan": ("pindaian terakhir {when}", "last scan {when}"),
    "acc_disable": ("Nonaktifkan", "Disable"),
    "acc_enable": ("Aktifkan", "Enable"),
    "acc_reset": ("Atur ulang (kode baru)", "Reset (new code)"),
    "acc_new_code": ("Kode baru untuk {user}: {code}", "New code for {user}: {code}"),
    "acc_password": ("Ganti kata sandi saya", "Change my password"),
    "acc_current": ("Kata sandi sekarang", "Current password"),
    "acc_changed": ("Kata sandi diganti: masuk lagi.", "Password changed: sign in again."),

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
    "kit_report": ("Laporannya (PDF, CSV) ada di Laporan.", "Its report (PDF, CSV) is under Reports."),
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


def flag_words(flag: str, lang: str = DEFAULT) -> str:
    """A custody flag in words ("seal_mismatch" → "nomor segel tidak cocok")."""
    messages = MESSAGES[lang]
    return messages.get(f"flag_{flag}") or messages["flag_unknown"].format(flag=flag)


def flags_in_words(flags: list[str], lang: str = DEFAULT) -> str:
    """An entry's flags in words, once each, separated by semicolons ("" for none)."""
    return "; ".join(flag_words(flag, lang) for flag in dict.fromkeys(flags))


_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def when(moment: datetime | str, site: str, lang: str = DEFAULT) -> str:
    """A time as people at the site read it, on a 24-hour clock: "7 Des 2026 09.15 WITA"
    (English: "7 Dec 2026 09:15 WITA"). Takes a datetime or an RFC 3339 string."""
    zone, name = zone_of(site)
    local = (parse_time(moment) if isinstance(moment, str) else moment).astimezone(zone)
    clock = f"{local:%H.%M}" if lang == "id" else f"{local:%H:%M}"
    return f"{local.day} {_MONTHS[lang][local.month - 1]} {local.year} {clock} {name}"
