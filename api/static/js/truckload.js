// The public check page of a truckload (/v/m/<log>/<handoff>#…): its entries, checked
// here in the browser, not taken on the server's word (1 and 2 as every check page,
// proven.js):
//   1. the checkpoint is signed by the log's key (its verifier key from /api/v1/logs);
//   2. every entry's bytes hash to its leaf, and its inclusion proof leads to the
//      checkpoint's root;
//   3. a manifest in the fragment (`#<JWS>`, from the manifest's QR code) is the KPU's,
//      for this truckload, and lists exactly the boxes the log's dispatches loaded;
//   4. a receipt pin in the fragment (`#r=<index>.<leaf hash>`, from the berita acara's
//      QR code) names this truckload's closing, proven in the log.
// No personal names are shown (entries hold none); the escorts' NRPs are counted.

import { call } from "./api.js";
import { decodeUrl, equal } from "./b64.js";
import { el, t, when } from "./i18n.js";
import { boxesOf, checkManifest, digest } from "./manifest.js";
import { Failure, proveEntry, verifyPage } from "./proven.js";

const { handoff, log, to } = document.getElementById("check").dataset;

// Each entry, checked: {record, index, leaf, state: "ok" | "pending"}; every entry but a
// receive names this truckload.
async function checkEntries(history, checkpoint) {
  const checked = [];
  for (const entry of history.entries) {
    const proven = await proveEntry(entry, checkpoint);
    const { record } = proven;
    if (record.type !== "receive" && (record.scan?.handoff ?? record.handoff) !== handoff) {
      throw new Failure(t("why_truckload", { index: entry.index }));
    }
    checked.push(proven);
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
          t(key, { index: at?.index, time: at ? when(at.record.scan?.observed_at ?? at.record.received_at, at.record.scan?.site ?? to) : "" })),
        proven ? null : el("span", { class: "state rejected" }, t("record_bad")),
      );
    }),
    ...strays.map(({ record, index }) =>
      el("li", { "data-item": record.item, "data-fate": "stray", class: proven ? null : "bad" },
        el("strong", {}, record.item), el("br"), el("p", { class: "warning" }, t("truck_box_stray", { index })),
        proven ? null : el("span", { class: "state rejected" }, t("record_bad"))),
    ),
  );
}

verifyPage({
  path: `/api/v1/handoffs/${log}/${encodeURIComponent(handoff)}/history`,
  log,
  entriesOf: (history) => history.entries,
  check: async (history, checkpoint) => {
    const checked = await checkEntries(history, checkpoint);
    return { checked, fragment: await checkFragment(checked) };
  },
  show: showBoxes,
});
