// The public check page (/v/<item>#<label JWS>): the box's trail, checked here in the
// browser, not taken on the server's word:
//   1. the checkpoint is signed by the log's key (its verifier key from /api/v1/logs);
//   2. every entry's bytes hash to its leaf, and its inclusion proof leads to the
//      checkpoint's root;
//   3. the entries chain (seq 1, 2, 3…, each `prev` the leaf hash of the one before), so
//      none was dropped from the middle or slipped in;
//   4. the label signature in the URL fragment is the KPU's, for this item, and current.
// It shows what it finds in plain words. No personal names are shown (entries hold
// none); the escorts' NRPs are counted, not listed.

import { call } from "./api.js";
import { decode, encode, equal, hex, text, utf8 } from "./b64.js";
import { el, t, when } from "./i18n.js";
import { checkLabel } from "./label.js";
import { leafHash, rootFromInclusionProof } from "./merkle.js";
import { openCheckpoint } from "./note.js";

const { item, log } = document.getElementById("check").dataset;
const names = JSON.parse(document.getElementById("names").textContent);
const place = (code) => (names[code] ? `${names[code]} (${code})` : code);

class Failure extends Error {}

// Each entry of the trail, checked: {record, index, state: "ok" | "pending"}.
async function checkTrail(history, checkpoint) {
  const checked = [];
  let previous = null;
  for (const [n, entry] of history.trail.entries()) {
    const bytes = decode(entry.entry_b64);
    const leaf = await leafHash(bytes);
    if (!equal(leaf, decode(entry.leaf_hash))) throw new Failure(t("why_leaf", { index: entry.index }));
    const record = JSON.parse(text(bytes));
    if (record.item !== item) throw new Failure(t("why_item", { index: entry.index }));
    if (record.seq !== n + 1 || record.prev !== (previous && encode(previous))) {
      throw new Failure(t("why_chain", { index: entry.index }));
    }
    previous = leaf;
    let state = "pending"; // newer than the checkpoint: proven on a later visit
    if (entry.index < checkpoint.size) {
      if (!entry.inclusion_proof) throw new Failure(t("why_proof", { index: entry.index }));
      let root;
      try {
        root = await rootFromInclusionProof(leaf, entry.index, checkpoint.size, entry.inclusion_proof.map(decode));
      } catch {
        throw new Failure(t("why_proof", { index: entry.index }));
      }
      if (!equal(root, checkpoint.root)) throw new Failure(t("why_proof", { index: entry.index }));
      state = "ok";
    }
    checked.push({ record, index: entry.index, state });
  }
  return checked;
}

// A line about the label in the URL fragment, and whether it is a failure.
async function checkFragment(records) {
  const jws = location.hash.slice(1);
  if (!jws) return { line: t("label_absent"), bad: false };
  const { keys } = await call(`/api/v1/logs/${log}/label-keys`);
  const label = await checkLabel(item, jws, keys);
  if (!label.ok) throw new Failure(t("why_label", { reason: t(label.why, { item: label.item }) }));
  const current = records.filter((r) => r.record.type === "label").at(-1)?.record;
  const digest = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(jws))));
  if (current && (current.serial !== label.payload.n || current.jws_sha256 !== digest)) {
    return { line: t("label_revoked", { n: label.payload.n, current: current.serial }), bad: true };
  }
  return { line: t("label_checked", { n: label.payload.n }), bad: false };
}

function describe(record) {
  const scan = record.scan ?? {};
  const parts = [t(`role_${record.role}`)];
  if (scan.counterparty) {
    // A dispatch names where it goes, a receive where it came from.
    const [from, to] = record.type === "receive" ? [scan.counterparty, scan.site] : [scan.site, scan.counterparty];
    parts.push(t("from_to", { from: place(from), to: place(to) }));
  }
  if (scan.seals?.length) parts.push(`${t("seals_short")}: ${scan.seals.join(", ")}`);
  if (scan.escorts?.length) parts.push(t("escorted", { n: scan.escorts.length }));
  if (scan.incident) parts.push(t(`incident_${scan.incident}`) + (scan.reason ? `: ${scan.reason}` : ""));
  if (record.type === "label") parts.push(`#${record.serial}`);
  return parts.join(" · ");
}

const STATE_CLASS = { ok: "logged", pending: "queued", bad: "rejected" };

function showTrail(checked) {
  document.getElementById("trail").replaceChildren(
    ...checked.map(({ record, index, state }) => {
      const site = record.scan?.site ?? record.site ?? log;
      const moment = record.scan?.observed_at ?? record.received_at;
      return el(
        "li",
        { class: state, "data-index": index, "data-type": record.type },
        el("strong", {}, t(`type_${record.type}`)),
        " ",
        el("span", { class: `state ${STATE_CLASS[state]}` }, t(`record_${state}`)),
        el("br"),
        el("small", {}, `${when(moment)} · ${place(site)}`),
        el("br"),
        el("small", {}, describe(record)),
        record.flags?.length ? el("p", { class: "warning" }, t("flags", { flags: record.flags.join(", ") })) : null,
      );
    }),
  );
}

function verdict(ok, detail, label) {
  const box = document.getElementById("verdict");
  box.className = `verdict ${ok ? "good" : "bad"}`;
  box.dataset.result = ok ? "verified" : "failed";
  box.querySelector("h2").textContent = ok ? t("verified") : t("failed");
  document.getElementById("verdict-detail").textContent = detail;
  const line = document.getElementById("label-result");
  line.textContent = label?.line ?? "";
  line.className = label?.bad ? "error" : "";
}

async function main() {
  const [history, { logs }] = await Promise.all([
    call(`/api/v1/items/${encodeURIComponent(item)}/history`),
    call("/api/v1/logs"),
  ]);
  const info = logs.find((l) => l.log === log);
  let checked = [];
  try {
    let checkpoint;
    try {
      checkpoint = await openCheckpoint(history.checkpoint, info.verifier_key);
    } catch {
      throw new Failure(t("why_checkpoint"));
    }
    if (checkpoint.origin !== info.origin) throw new Failure(t("why_origin"));
    checked = await checkTrail(history, checkpoint);
    const label = await checkFragment(checked);
    const pending = checked.filter((c) => c.state === "pending").length;
    let detail = t("verified_detail", { n: checked.length - pending, origin: checkpoint.origin, size: checkpoint.size });
    if (pending) detail += " " + t("verified_pending", { n: pending });
    verdict(true, detail, label);
  } catch (failure) {
    if (!(failure instanceof Failure)) throw failure;
    verdict(false, failure.message);
    // Shown for what it claims, each entry marked unproven.
    checked = history.trail.map((entry) => ({ record: entry.entry, index: entry.index, state: "bad" }));
  }
  showTrail(checked);
}

main().catch((failure) => verdict(false, t("error", { detail: failure.message })));
