// The public check page of a truckload (/v/m/<log>/<handoff>#…): its entries, checked
// here in the browser, not taken on the server's word, as the box page does:
//   1. the checkpoint is signed by the log's key (its verifier key from /api/v1/logs);
//   2. every entry's bytes hash to its leaf, and its inclusion proof leads to the
//      checkpoint's root;
//   3. a manifest in the fragment (`#<JWS>`, from the manifest's QR code) is the KPU's,
//      for this truckload, and lists exactly the boxes the log's dispatches loaded;
//   4. a receipt pin in the fragment (`#r=<index>.<leaf hash>`, from the berita acara's
//      QR code) names this truckload's closing, proven in the log.
// No personal names are shown (entries hold none); the escorts' NRPs are counted.

import { call } from "./api.js";
import { decode, decodeUrl, equal, text } from "./b64.js";
import { el, t, when } from "./i18n.js";
import { boxesOf, checkManifest, digest } from "./manifest.js";
import { leafHash, rootFromInclusionProof } from "./merkle.js";
import { openCheckpoint } from "./note.js";

const { handoff, log, to } = document.getElementById("check").dataset;

class Failure extends Error {}

// Each entry, checked: {record, index, leaf, state: "ok" | "pending"}.
async function checkEntries(history, checkpoint) {
  const checked = [];
  for (const entry of history.entries) {
    const bytes = decode(entry.entry_b64);
    const leaf = await leafHash(bytes);
    if (!equal(leaf, decode(entry.leaf_hash))) throw new Failure(t("why_leaf", { index: entry.index }));
    const record = JSON.parse(text(bytes));
    const named = record.scan?.handoff ?? record.handoff;
    if (record.type !== "receive" && named !== handoff) throw new Failure(t("why_truckload", { index: entry.index }));
    let state = "pending"; // newer than the checkpoint: proven on a later visit
    if (entry.index < checkpoint.size) {
      let root;
      try {
        root = await rootFromInclusionProof(leaf, entry.index, checkpoint.size, (entry.inclusion_proof ?? []).map(decode));
      } catch {
        throw new Failure(t("why_proof", { index: entry.index }));
      }
      if (!equal(root, checkpoint.root)) throw new Failure(t("why_proof", { index: entry.index }));
      state = "ok";
    }
    checked.push({ record, index: entry.index, leaf, state });
  }
  return checked;
}

// A line about what the fragment holds (a manifest or a receipt pin), and whether it is bad.
async function checkFragment(checked) {
  const fragment = location.hash.slice(1);
  if (!fragment) return { line: t("truck_fragment_absent"), bad: false };
  const pin = /^r=(\d+)\.([A-Za-z0-9_-]+)$/.exec(fragment);
  if (pin) {
    const closing = checked.find((c) => c.index === Number(pin[1]));
    if (!closing || closing.record.type !== "handoff_close" || !equal(closing.leaf, decodeUrl(pin[2]))) {
      throw new Failure(t("why_receipt", { index: pin[1] }));
    }
    if (closing.state !== "ok") return { line: t("truck_receipt_pending", { index: closing.index }), bad: false };
    return { line: t("truck_receipt_checked", { index: closing.index }), bad: false };
  }
  const { keys } = await call(`/api/v1/logs/${log}/label-keys`);
  const manifest = await checkManifest(handoff, fragment, keys);
  if (!manifest.ok) throw new Failure(t("why_manifest", { reason: t(manifest.why, { handoff: manifest.handoff }) }));
  const { payload } = manifest;
  const boxes = boxesOf(handoff, checked, payload.last);
  if (boxes.length !== payload.n || (await digest(boxes)) !== payload.boxes) {
    throw new Failure(t("why_manifest", { reason: t("why_manifest_boxes") }));
  }
  return { line: t("truck_manifest_checked", { n: payload.n, escorts: payload.escorts.length }), bad: false };
}

// Each box loaded, what became of it, then the boxes received under this truckload that
// it did not carry; unproven ones (the check failed) marked so.
function showBoxes(checked, proven) {
  const loaded = boxesOf(handoff, checked);
  const onBoard = new Set(loaded.map((box) => box.item));
  const fate = (box) => {
    const later = checked.filter((c) => c.record.item === box.item && c.index > box.index);
    const missing = later.find((c) => c.record.type === "missing");
    if (missing) return { key: "truck_box_missing", at: missing };
    const received = later.find((c) => c.record.type === "receive" && c.record.scan.site === to);
    return received ? { key: "truck_box_received", at: received } : { key: "truck_box_on_the_way", at: null };
  };
  const strays = checked.filter((c) => c.record.type === "receive" && !onBoard.has(c.record.item));
  document.getElementById("boxes").replaceChildren(
    ...loaded.map((box) => {
      const { key, at } = fate(box);
      return el(
        "li",
        { "data-item": box.item, "data-fate": key.slice(10), class: proven ? null : "bad" },
        el("strong", {}, box.item),
        el("br"),
        el("small", {}, `${t("seals_short")}: ${box.seals.join(", ") || "-"} · #${box.index}`),
        el("br"),
        el("small", { class: key === "truck_box_missing" ? "error" : "" },
          t(key, { index: at?.index, time: at ? when(at.record.scan?.observed_at ?? at.record.received_at) : "" })),
        proven ? null : el("span", { class: "state rejected" }, t("record_bad")),
      );
    }),
    ...strays.map(({ record, index }) =>
      el("li", { "data-item": record.item, "data-fate": "stray" }, el("strong", {}, record.item), el("br"),
        el("p", { class: "warning" }, t("truck_box_stray", { index }))),
    ),
  );
}

function verdict(ok, detail, fragment) {
  const box = document.getElementById("verdict");
  box.className = `verdict ${ok ? "good" : "bad"}`;
  box.dataset.result = ok ? "verified" : "failed";
  box.querySelector("h2").textContent = ok ? t("verified") : t("failed");
  document.getElementById("verdict-detail").textContent = detail;
  const line = document.getElementById("fragment-result");
  line.textContent = fragment?.line ?? "";
  line.className = fragment?.bad ? "error" : "";
}

async function main() {
  const [history, { logs }] = await Promise.all([
    call(`/api/v1/handoffs/${log}/${encodeURIComponent(handoff)}/history`),
    call("/api/v1/logs"),
  ]);
  const info = logs.find((l) => l.log === log);
  let checked = [];
  let proven = true;
  try {
    let checkpoint;
    try {
      checkpoint = await openCheckpoint(history.checkpoint, info.verifier_key);
    } catch {
      throw new Failure(t("why_checkpoint"));
    }
    if (checkpoint.origin !== info.origin) throw new Failure(t("why_origin"));
    checked = await checkEntries(history, checkpoint);
    const fragment = await checkFragment(checked);
    const pending = checked.filter((c) => c.state === "pending").length;
    let detail = t("verified_detail", { n: checked.length - pending, origin: checkpoint.origin, size: checkpoint.size });
    if (pending) detail += " " + t("verified_pending", { n: pending });
    verdict(true, detail, fragment);
  } catch (failure) {
    if (!(failure instanceof Failure)) throw failure;
    verdict(false, failure.message);
    // Shown for what they claim, marked unproven.
    checked = history.entries.map((entry) => ({ record: entry.entry, index: entry.index }));
    proven = false;
  }
  showBoxes(checked, proven);
}

main().catch((failure) => verdict(false, t("error", { detail: failure.message })));
