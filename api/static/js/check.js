// The public check page (/v/<item>#<label JWS>): the box's trail, checked here in the
// browser, not taken on the server's word (1 and 2 as every check page, proven.js):
//   1. the checkpoint is signed by the log's key (its verifier key from /api/v1/logs);
//   2. every entry's bytes hash to its leaf, and its inclusion proof leads to the
//      checkpoint's root;
//   3. the entries chain (seq 1, 2, 3…, each `prev` the leaf hash of the one before), so
//      none was dropped from the middle or slipped in;
//   4. the label signature in the URL fragment is the KPU's, for this item, and current;
//      a label that is not is called counterfeit, and the trail stays the genuine box's.
// It shows what it finds in plain words. No personal names are shown (entries hold
// none); the escorts' NRPs are counted, not listed.

import { call } from "./api.js";
import { encode, hex, utf8 } from "./b64.js";
import { el, flagWords, t, when } from "./i18n.js";
import { checkLabel } from "./label.js";
import { Failure, proveEntry, verifyPage } from "./proven.js";

const { item, log } = document.getElementById("check").dataset;
const names = JSON.parse(document.getElementById("names").textContent);
const place = (code) => (names[code] ? `${names[code]} (${code})` : code);

// Each entry of the trail, checked: {record, index, state: "ok" | "pending"}.
async function checkTrail(history, checkpoint) {
  const checked = [];
  let previous = null;
  for (const [n, entry] of history.trail.entries()) {
    const proven = await proveEntry(entry, checkpoint);
    const { record } = proven;
    if (record.item !== item) throw new Failure(t("why_item", { index: entry.index }));
    if (record.seq !== n + 1 || record.prev !== (previous && encode(previous))) {
      throw new Failure(t("why_chain", { index: entry.index }));
    }
    previous = proven.leaf;
    checked.push(proven);
  }
  return checked;
}

// A line about the label in the URL fragment: {line, bad}, or {line, counterfeit} for a
// label that is not the KPU's (the trail, proven, is still the genuine box's).
async function checkFragment(records) {
  const jws = location.hash.slice(1);
  if (!jws) return { line: t("label_absent"), bad: false };
  const { keys } = await call(`/api/v1/logs/${log}/label-keys`);
  const label = await checkLabel(item, jws, keys);
  if (!label.ok) {
    return { line: t("label_counterfeit_detail", { reason: t(label.why, { item: label.item }) }), counterfeit: true };
  }
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
        el("small", {}, `${when(moment, site)} · ${place(site)}`),
        el("br"),
        el("small", {}, describe(record)),
        record.flags?.length ? el("p", { class: "warning" }, t("flags", { flags: [...new Set(record.flags)].map(flagWords).join("; ") })) : null,
      );
    }),
  );
}

// Checked on opening, and again whenever the fragment changes (another label's
// signature pasted into the address bar, say), without a reload.
const run = () =>
  verifyPage({
    path: `/api/v1/items/${encodeURIComponent(item)}/history`,
    log,
    entriesOf: (history) => history.trail,
    check: async (history, checkpoint) => {
      const checked = await checkTrail(history, checkpoint);
      return { checked, fragment: await checkFragment(checked) };
    },
    show: showTrail,
    counterfeitTrail: (n) => t("label_counterfeit_trail", { item, n }),
  });
run();
window.addEventListener("hashchange", run);
