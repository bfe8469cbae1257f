// The field scanner (/scan): sign in, give this phone its own registered Ed25519 key,
// read a label (camera, photo or typed id), check its signature offline, offer the scan
// the custody rules expect, sign it and keep it in the outbox until the log holds it.
// A truckload's manifest read the same way opens the truckload: an escort attests its
// pickup or delivery in one tap; a custodian sees what the truck should carry.
// Works with no network once opened online: the service worker keeps the app, IndexedDB
// the keys, the boxes due here and the outbox.

import { ApiError, call, words } from "./api.js";
import { encode, utf8 } from "./b64.js";
import * as camera from "./camera.js";
import { expected, routeTo, scanningSite, scans } from "./custody.js";
import * as ed25519 from "./ed25519.js";
import { ATTESTATIONS, attestation, names, parseManifest, readManifest } from "./escort.js";
import { ago, el, flagWords, lang, t } from "./i18n.js";
import * as idb from "./idb.js";
import { canonicalize } from "./jcs.js";
import { checkLabel, ITEM_ID, logOf, parseLabel } from "./label.js";
import * as outbox from "./outbox.js";
import { askAgain, signIn } from "./session.js";
import * as stocktake from "./stocktake.js";

const SYNC_EVERY = 15_000; // ms between syncs while online
const RETRY_MAX = 300_000; // ms: the longest wait after failed uploads, however many
// Scans that must name the box's seals: the custody rules compare them along the way.
const SEALED = ["seal", "dispatch", "receive"];
// Each province's zone, else the default (models/places/zones.py): [IANA zone, "WITA"].
const ZONES = JSON.parse(document.getElementById("zones").textContent);
const $ = (id) => document.getElementById(id);
const form = $("scan");

let session = null;
let device = null; // {id, log, key, seq, nrp (an escort's)}
let opened = null; // the item being scanned: {id, item (state or null), label (payload or null)}
let truck = null; // the truckload whose manifest was read last: {log, handoff, payload, digest}
let places = {}; // names of the log's regency, its districts and the villages of one's own
let retryTimer;
let failures = 0; // uploads failed in a row: the wait before the next grows with them
let nextTry = 0; // ms: no automatic upload before then
let stopCamera = null;

// ---- network indicator and service worker

function showNetwork() {
  const pill = $("network");
  pill.hidden = false;
  pill.textContent = navigator.onLine ? t("online") : t("offline");
  pill.className = `pill ${navigator.onLine ? "on" : "off"}`;
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/scan/sw.js", { scope: "/scan" });
}

// ---- the clock: 24-hour, in the zone of the area of the person signed in (WIB/WITA/WIT)

function clock(moment = new Date()) {
  const [timeZone, name] = ZONES[session?.jurisdiction?.slice(0, 2)] ?? ZONES.default;
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone };
  return `${moment.toLocaleTimeString(lang === "id" ? "id-ID" : "en-GB", options)} ${name}`;
}

// ---- the device key

async function ensureDevice() {
  const slot = `device:${session.username}`;
  device = await idb.get("kv", slot);
  if (!device && navigator.onLine) {
    $("device").textContent = t("device_registering");
    const key = await ed25519.generate();
    const registered = await call("/api/v1/devices", {
      token: session.token,
      method: "POST",
      json: { public_key: encode(key.public), name: "Pemindai web Jejak" },
    });
    // An escort's phone carries their NRP (from their account): the manifests that name them.
    device = { id: registered.id, log: registered.log_id, key, seq: 0, nrp: registered.nrp ?? null };
    await idb.put("kv", device, slot);
  }
  showDevice();
}

function showDevice() {
  if (device) {
    $("device").textContent =
      t("device_ready") + (device.key.native ? "" : " " + t("device_fallback"));
  }
}

// ---- what is kept for offline use: label keys, the log's key, the boxes due here

async function cacheForOffline() {
  const log = session.jurisdiction.slice(0, 5);
  // The villages of one's own district too: the places a PPK sends to, a PPS receives from.
  const district = session.jurisdiction.slice(0, 8);
  const [keys, logs, regency, districts, villages] = await Promise.all([
    call(`/api/v1/logs/${log}/label-keys`),
    call("/api/v1/logs"),
    call(`/api/v1/sites/${log}`),
    call(`/api/v1/sites?parent=${log}&limit=100`),
    district.length === 8 ? call(`/api/v1/sites?parent=${district}&limit=100`) : { sites: [] },
  ]);
  await idb.put("kv", keys.keys, `labelkeys:${log}`);
  places = Object.fromEntries([regency, ...districts.sites, ...villages.sites].map((s) => [s.code, s.name]));
  await idb.put("kv", places, `places:${log}`);
  await idb.put("kv", logs.logs.find((l) => l.log === log)?.verifier_key, `vkey:${log}`);
  const site = session.jurisdiction;
  const due = await Promise.all([
    call(`/api/v1/items?status=in_transit&site=${encodeURIComponent(site)}&limit=500`, { token: session.token }),
    call(`/api/v1/items?custodian=${encodeURIComponent(site)}&limit=500`, { token: session.token }),
  ]);
  for (const page of due) for (const item of page.items) await idb.put("kv", item, `item:${item.id}`);
}

// ---- reading a label

function verdict(kind, title, detail = "") {
  const box = $("verdict");
  delete box.dataset.saved;
  box.hidden = false;
  box.className = `verdict ${kind}`;
  box.querySelector("h2").textContent = title;
  box.querySelector("p").textContent = detail;
}

// "53.03.08 Insana", "53.03.08.2010-001 TPS 001 Tapenpah", or a village's code with its
// district's name: names are cached for the regency, its districts and one's own villages.
function placeName(code) {
  if (!code) return "—";
  if (places[code]) return `${code} ${places[code]}`;
  const tps = /^(.{13})-(\d{3})$/.exec(code);
  if (tps && places[tps[1]]) return `${code} ${t("tps_name", { n: tps[2] })} ${places[tps[1]]}`;
  const district = places[code.slice(0, 8)];
  return district ? `${code} (${district})` : code;
}

// The person's own area in the line under the header: "(PPK, 53.03.08 Insana)".
function showArea() {
  const who = document.querySelector("#who span");
  who.textContent = t("signed_in_as", {
    user: session.username,
    role: t(`role_${session.role}`),
    area: session.jurisdiction ? placeName(session.jurisdiction) : "—",
  });
}

// "Kotak suara BUP untuk 53.03.08.2010-001 TPS 001 Tapenpah".
function boxName(id, item) {
  const [, tps, code] = /^(.{17})-([A-Z0-9]+)/.exec(id) ?? [];
  return t("box_name", { kind: t(`kind_${item?.kind ?? "kotak_suara"}`), contest: code ?? "", place: placeName(tps ?? id) });
}

// Whatever was open is closed before anything new is read: never the previous box's form.
function closeForm() {
  stopReading();
  opened = null;
  form.hidden = true;
}

async function onCode(scanned) {
  closeForm();
  const manifest = parseManifest(scanned);
  if (manifest) return onManifest(manifest);
  const label = parseLabel(scanned);
  if (!label) {
    verdict("bad", t("label_not_ours", { text: scanned.slice(0, 80) }));
    form.hidden = true;
    return;
  }
  const log = logOf(label.item);
  const keys = await idb.get("kv", `labelkeys:${log}`);
  if (!keys) {
    verdict("warn", t("label_no_keys", { log }));
    return openItem(label.item, null);
  }
  const checked = await checkLabel(label.item, label.jws, keys);
  if (!checked.ok) {
    verdict("bad", t("label_fake"), `${label.item}: ${t(checked.why, { item: checked.item })}`);
    form.hidden = true;
    return;
  }
  const p = checked.payload;
  verdict("good", t("label_ok"), t("label_ok_detail", { log: placeName(log), n: p.n, dst: placeName(p.dst) }));
  return openItem(label.item, p);
}

// ---- a truckload's manifest

async function onManifest(read) {
  form.hidden = true;
  $("truck").hidden = true;
  const keys = await idb.get("kv", `labelkeys:${read.log}`);
  if (!keys) return verdict("warn", t("manifest_no_keys", { log: read.log }));
  const checked = await readManifest(read, keys);
  if (!checked.ok) {
    truck = null;
    return verdict("bad", t("manifest_fake"), `${read.handoff}: ${t(checked.why, { handoff: checked.handoff })}`);
  }
  truck = checked.truck;
  verdict("good", t("manifest_ok"), t("manifest_ok_detail", { n: truck.payload.n }));
  showTruck();
}

function showTruck() {
  const p = truck.payload;
  const escort = session.role === "escort";
  $("truck-id").textContent = truck.handoff;
  $("truck-route").textContent = `${placeName(p.from)} → ${placeName(p.to)}`;
  $("truck-detail").textContent = t("truck_detail", {
    n: p.n,
    vehicle: p.vehicle ?? "—",
    escorts: p.escorts.join(", ") || "—",
  });
  // A phone cached before it knew its NRP cannot tell: no warning rather than a false one.
  $("truck-unnamed").hidden = !escort || !device?.nrp || names(truck, device.nrp);
  for (const node of $("truck").querySelectorAll("[data-attest], [data-attest-hint]")) node.hidden = !escort;
  $("truck-boxes").replaceChildren();
  $("truck").hidden = false;
  if (!escort && navigator.onLine) showExpectedBoxes();
}

// The receiver, online, sees every box the truck should carry and its seals.
async function showExpectedBoxes() {
  const shown = truck;
  try {
    const manifest = await call(
      `/api/v1/handoffs/${shown.log}/${encodeURIComponent(shown.handoff)}/manifest`,
      { token: session.token },
    );
    if (truck !== shown) return;
    $("truck-boxes").replaceChildren(
      el("summary", {}, t("truck_expected", { n: manifest.boxes.length })),
      el("ul", {}, ...manifest.boxes.map((b) => el("li", {}, `${b.item} · ${b.seals.join(", ") || "—"}`))),
    );
  } catch (failure) {
    if (failure.status === 401) askAgain();
  }
}

$("truck").addEventListener("click", async (event) => {
  const type = event.target.closest("[data-attest]")?.dataset.attest;
  if (!type || !truck) return;
  if (!device) return verdict("warn", t("network_error"));
  truck.counting = type; // boxes counted after this are attested the same way
  await queue(await sign(attestation(type, truck)), truck.handoff);
  $("truck").hidden = true;
});

// Opens the form for box `id` once the server (or, offline, the phone's copy) knows it.
// A box outside one's area or unknown closes the form and says so: nothing to sign.
async function openItem(id, label) {
  closeForm();
  if (stocktake.active() && device) return queue(await sign(stocktake.scanOf(id, label)), id); // counted, no form
  let item = await idb.get("kv", `item:${id}`);
  if (navigator.onLine) {
    try {
      item = await call(`/api/v1/items/${encodeURIComponent(id)}`, { token: session.token });
      await idb.put("kv", item, `item:${id}`);
    } catch (failure) {
      if (failure.status === 401) askAgain();
      if (failure.status === 0) {
        // offline in fact: the phone's copy, as with no network
      } else if (failure.code === "outside_jurisdiction") {
        return verdict("bad", t("item_outside", { item: id, area: placeName(session.jurisdiction) }));
      } else if (failure.code === "item_not_found") {
        return verdict("bad", t("item_missing", { item: id }));
      } else {
        return verdict("bad", t("item_failed", { item: id, reason: words(failure) }));
      }
    }
  }
  opened = { id, item: item ?? null, label };
  showForm();
}

// ---- the scan form

function showForm() {
  const { id, item } = opened;
  const site = scanningSite(session);
  const next = expected(item, site, session.role, truck);
  $("scan-item").textContent = id;
  $("scan-name").textContent = boxName(id, item);
  $("scan-state").textContent = item
    ? t("item_state", { status: t(`status_${item.status}`), custodian: placeName(item.custodian) }) +
      (item.dispatch_to ? " " + t("item_headed", { to: placeName(item.dispatch_to) }) : "")
    : t("item_state_unknown");
  const types = scans(session.role).filter((type) => truck || !(type in ATTESTATIONS));
  form.elements.type.replaceChildren(
    ...types.map((type) => el("option", { value: type, selected: type === next.type }, t(`type_${type}`))),
  );
  form.elements.counterparty.value = next.counterparty ?? "";
  // Escorts report where the box is: at its custodian's, or where it was going.
  const places = item ? [item.custodian, item.dispatch_to].filter(Boolean) : routeTo(id.slice(0, 17));
  form.elements.site.replaceChildren(...[...new Set(places)].map((code) => el("option", { value: code }, placeName(code))));
  form.elements.seals.value = "";
  $("seals-missing").hidden = true;
  // A receive names the truckload whose manifest was read here, so a box it does not
  // carry is flagged; a dispatch proposes a truckload of this site's for today.
  const today = new Date().toISOString().slice(0, 10);
  form.elements.handoff.value =
    next.type === "receive"
      ? (truck?.payload.to === site ? truck.handoff : "")
      : (next.counterparty ? `${site}-${next.counterparty}-${today}` : "");
  $("seals-recorded").textContent = item?.seals?.length ? t("seals_recorded", { seals: item.seals.join(", ") }) : "";
  form.hidden = false;
  showFields();
  showCounterparty();
}

function showCounterparty() {
  const code = form.elements.counterparty.value.trim();
  $("counterparty-name").textContent = code && placeName(code) !== code ? placeName(code).slice(code.length + 1) : "";
}

function showFields() {
  const type = form.elements.type.value;
  for (const node of form.querySelectorAll("[data-for]")) node.hidden = !node.dataset.for.split(" ").includes(type);
  for (const node of form.querySelectorAll("[data-when]")) node.hidden = node.dataset.when !== type;
  checkSeals();
}

const listOf = (text) => text.split(/[\s,;]+/).filter(Boolean);

const sealsNeeded = () => SEALED.includes(form.elements.type.value) && !listOf(form.elements.seals.value).length;

function checkSeals() {
  if (!sealsNeeded()) $("seals-missing").hidden = true;
  const typed = listOf(form.elements.seals.value).sort().join(",");
  const recorded = [...(opened?.item?.seals ?? [])].sort().join(",");
  const type = form.elements.type.value;
  $("seals-differ").hidden = !(typed && recorded && typed !== recorded && ["dispatch", "receive"].includes(type));
}

function position() {
  return new Promise((resolve) => {
    if (!form.elements.locate.checked || !navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      ({ coords }) =>
        resolve({
          lat: Number(coords.latitude.toFixed(6)),
          lon: Number(coords.longitude.toFixed(6)),
          accuracy_m: Math.round(coords.accuracy),
        }),
      () => resolve(null),
      { timeout: 10_000, maximumAge: 60_000, enableHighAccuracy: true },
    );
  });
}

// The form's scan (models/custody/scans.py): only the fields this scan type uses, nothing empty.
function formScan() {
  const f = form.elements;
  const type = f.type.value;
  if (type in ATTESTATIONS) return attestation(type, truck, opened.id); // one box of the truck, counted
  const scan = { type, item: opened.id, site: session.role === "escort" ? f.site.value : scanningSite(session) };
  // The serial of the label read, so a revoked (reprinted) label scanned raises an alert.
  if (opened.label) scan.label = opened.label.n;
  const shown = (name) => !form.querySelector(`[name=${name}]`).closest("[data-for]")?.hidden;
  if (["dispatch", "receive"].includes(type)) {
    if (f.counterparty.value) scan.counterparty = f.counterparty.value.trim();
    if (f.handoff.value.trim()) scan.handoff = f.handoff.value.trim();
  }
  if (shown("seals") && f.seals.value.trim()) scan.seals = listOf(f.seals.value);
  if (type === "dispatch") {
    if (f.vehicle.value.trim()) scan.vehicle = f.vehicle.value.trim();
    if (f.escorts.value.trim()) scan.escorts = listOf(f.escorts.value);
  }
  if (type === "incident") {
    scan.incident = f.incident.value;
    if (f.reason.value.trim()) scan.reason = f.reason.value.trim();
  }
  return scan;
}

// The scan made, numbered and signed by this phone: {scan, sig}.
async function sign(fields) {
  const scan = {
    event_id: crypto.randomUUID(),
    ...fields,
    observed_at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    device: device.id,
  };
  const location = await position();
  if (location) scan.location = location;
  scan.device_seq = await outbox.nextSeq(`device:${session.username}`);
  const sig = await ed25519.sign(device.key, utf8(canonicalize(scan)));
  return { scan, sig: encode(sig) };
}

async function queue(envelope, about) {
  await outbox.add({ device: device.id, seq: envelope.scan.device_seq, username: session.username, log: device.log, envelope });
  verdict("good", t("saved"), `${t(`type_${envelope.scan.type}`)} ${about}`);
  $("verdict").dataset.saved = "true"; // until another verdict: an upload that fails says so here
  await render();
  sync();
}

form.addEventListener("change", (event) => {
  if (event.target.name === "type") showFields();
});
form.elements.seals.addEventListener("input", checkSeals);
form.elements.counterparty.addEventListener("input", showCounterparty);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!device) return verdict("warn", t("network_error"));
  if (!opened) return;
  stopReading();
  // No seal, dispatch or receive without the seals: the rules would flag it as a mismatch.
  if (sealsNeeded()) {
    $("seals-missing").hidden = false;
    form.elements.seals.focus();
    $("seals-missing").scrollIntoView({ block: "center" });
    return;
  }
  const envelope = await sign(formScan());
  if (envelope.scan.type in ATTESTATIONS) truck.counting = envelope.scan.type;
  form.hidden = true;
  await queue(envelope, opened.id);
});

// ---- the outbox, and syncing it

async function render() {
  const records = (await outbox.mine(session.username)).reverse(); // newest first
  $("outbox").replaceChildren(
    ...records.map((r) => {
      const s = r.envelope.scan;
      const state = el("span", { class: `state ${r.state}` }, t(`state_${r.state}`));
      const item = el(
        "li",
        { "data-event": s.event_id, "data-state": r.state },
        el("strong", {}, `${t(`type_${s.type}`)} `),
        s.item ?? s.handoff,
        " ",
        state,
        el("br"),
        el("small", {}, `${clock(new Date(s.observed_at))} · ${ago(s.observed_at)}`),
      );
      if (r.flags?.length) item.append(el("p", { class: "warning" }, t("flags", { flags: r.flags.map(flagWords).join(", ") })));
      if (r.state === "conflict") item.append(el("p", { class: "error" }, t("conflict", { index: r.index })));
      if (r.reason) item.append(el("p", { class: r.state === "conflict" ? "muted" : "error" }, t("refused_because", { reason: r.reason })));
      if (r.receiptError) item.append(el("p", { class: "error" }, t("receipt_bad", { reason: r.receiptError })));
      // A truckload dispatched from here: its manifest, to print and hand to the escort.
      if (s.type === "dispatch" && s.handoff && ["sent", "logged"].includes(r.state)) {
        item.append(el("button", { type: "button", class: "link", "data-manifest": s.handoff }, t("manifest_print")));
      }
      if (r.receipt) {
        const href = URL.createObjectURL(new Blob([r.receipt], { type: "text/plain" }));
        item.append(
          el("p", { class: "muted" }, t("receipt_verified", r.proven)),
          el("a", { href, download: `receipt-${s.event_id}.tlog-proof`, class: "receipt" }, t("receipt")),
        );
      }
      return item;
    }),
  );
  if (!records.length) $("outbox").append(el("li", { class: "muted" }, t("outbox_empty")));
}

// An upload that fails (no answer, a timeout, the server's 5xx) says so, and when it is
// tried again: sooner after a first failure, later after many (Retry-After if given).
function uploadFailed(failure) {
  failures += 1;
  const delay = Math.min(RETRY_MAX, Math.max((failure.retryAfter ?? 0) * 1000, SYNC_EVERY * 2 ** (failures - 1)));
  const seconds = Math.round(delay / 1000);
  nextTry = Date.now() + delay;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(sync, delay);
  const failed = $("sync-failed");
  const wait = seconds < 120 ? t("wait_seconds", { n: seconds }) : t("wait_minutes", { n: Math.round(seconds / 60) });
  failed.textContent = t("sync_failed", { time: clock(), reason: words(failure), wait, retry: clock(new Date(nextTry)) });
  failed.hidden = false;
  if ($("verdict").dataset.saved) verdict("warn", t("saved"), failed.textContent);
}

let syncing = false;
// `{automatic}`: the timer's upload, which waits out a failure's delay; a tap does not.
async function sync({ automatic = false } = {}) {
  if (!session || syncing) return;
  if (!navigator.onLine) {
    const waiting = (await outbox.mine(session.username)).filter((r) => r.state === "queued").length;
    $("sync-failed").textContent = t("sync_waiting", { n: waiting });
    $("sync-failed").hidden = !waiting;
    return;
  }
  if (automatic && Date.now() < nextTry) return;
  syncing = true;
  clearTimeout(retryTimer);
  try {
    if (!device) await ensureDevice();
    const log = device?.log;
    const vkey = log && (await idb.get("kv", `vkey:${log}`));
    const retry = await outbox.sync(session, vkey);
    failures = 0;
    nextTry = 0;
    $("sync-failed").hidden = true;
    $("last-sync").textContent = t("last_sync", { time: clock() });
    if (retry) retryTimer = setTimeout(sync, retry * 1000);
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) askAgain();
    else uploadFailed(failure);
  } finally {
    syncing = false;
    await render();
  }
}

// ---- wiring

// One camera at a time: reading a label or a box's seals.
function stopReading() {
  stopCamera?.();
  stopCamera = null;
  $("camera").textContent = t("camera");
  $("scan-seal").textContent = t("scan_seal");
}

$("camera").addEventListener("click", async () => {
  if (stopCamera) return stopReading();
  try {
    $("camera").textContent = t("stop_camera");
    stopCamera = await camera.scan($("video"), (text) => {
      stopCamera = null;
      $("camera").textContent = t("camera");
      onCode(text);
    });
  } catch (failure) {
    stopCamera = null;
    $("camera").textContent = t("camera");
    verdict("warn", t("camera_denied", { detail: failure.message }));
  }
});

$("photo").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (!file) return;
  const text = await camera.decodeFile(file);
  event.target.value = "";
  if (text) onCode(text);
  else verdict("warn", t("no_qr"));
});

$("typed").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = event.target.elements.box.value.trim().toUpperCase();
  if (!ITEM_ID.test(id)) return verdict("warn", t("bad_id_detail", { item: id }));
  verdict("warn", t("label_unchecked"));
  openItem(id, null);
});

// The seals are read one after another, each once, until the box's recorded seals are all
// read (or, for a first seal, until the signature or a second tap stops the camera).
$("scan-seal").addEventListener("click", async () => {
  if (stopCamera) return stopReading();
  const seals = form.elements.seals;
  const recorded = opened?.item?.seals ?? [];
  const read = (text) => {
    const seal = text.trim().toUpperCase();
    if (parseLabel(seal) || parseManifest(seal)) {
      $("seals-missing").textContent = t("seal_is_label");
      $("seals-missing").hidden = false;
      return true;
    }
    const list = listOf(seals.value);
    if (!list.includes(seal)) seals.value = [...list, seal].join(", ");
    checkSeals();
    const done = recorded.length && recorded.every((s) => listOf(seals.value).includes(s));
    if (done) {
      stopCamera = null;
      $("scan-seal").textContent = t("scan_seal");
    }
    return !done;
  };
  try {
    $("scan-seal").textContent = t("stop_camera");
    stopCamera = await camera.scan($("video"), read);
  } catch (failure) {
    stopReading();
    verdict("warn", t("camera_denied", { detail: failure.message }));
  }
});

$("outbox").addEventListener("click", async (event) => {
  const handoff = event.target.closest("[data-manifest]")?.dataset.manifest;
  if (!handoff || !device) return;
  try {
    const path = `/api/v1/handoffs/${device.log}/${encodeURIComponent(handoff)}/manifest.pdf`;
    const pdf = await call(path, { token: session.token, blob: true });
    window.open(URL.createObjectURL(pdf), "_blank");
  } catch (failure) {
    if (failure.status === 401) askAgain();
    else verdict("warn", words(failure));
  }
});

$("sync").addEventListener("click", sync);
window.addEventListener("online", () => {
  showNetwork();
  sync();
});
window.addEventListener("offline", showNetwork);
setInterval(() => sync({ automatic: true }), SYNC_EVERY);
showNetwork();

signIn(
  async (signedIn) => {
    session = signedIn;
    $("app").hidden = false;
    showArea();
    if (!scans(session.role).length) {
      verdict("bad", t("not_a_scanner", { role: t(`role_${session.role}`) }));
      $("reader").hidden = true;
      return;
    }
    try {
      if (navigator.onLine) {
        await ensureDevice();
        await cacheForOffline();
        showArea();
      } else {
        device = await idb.get("kv", `device:${session.username}`);
        places = (await idb.get("kv", `places:${session.jurisdiction.slice(0, 5)}`)) ?? {};
        showDevice();
        showArea();
      }
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) askAgain();
      else verdict("warn", words(failure));
    }
    if (session.role !== "escort") await stocktake.mount($("outbox").closest("section"), { session, device: () => device, sync });
    document.body.dataset.ready = "true"; // keys and boxes cached: ready to work offline
    await render();
    sync();
  },
  { stale: true },
);
