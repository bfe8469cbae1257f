// A truckload's manifest (docs/LABELS.md, Manifests): its QR code holds
// `<public url>/v/m/<log>/<handoff>#<JWS>`, signed by the KPU's label key like a label
// and checked the same way, with no network. The JWS signs the boxes' count and digest;
// the boxes themselves are rebuilt from the log's dispatch entries, as the server builds
// them (models/custody/manifests.py).

import { hex, utf8 } from "./b64.js";
import { canonicalize } from "./jcs.js";
import { checkJws } from "./label.js";

export const MANIFEST_TYPE = "jejak-manifest+jws";

// {ok: true, payload} or {ok: false, why, handoff?}: `why` names a message key (why_*).
export async function checkManifest(handoff, jws, keys) {
  const checked = await checkJws(jws, keys, MANIFEST_TYPE);
  if (!checked.ok) return checked;
  if (checked.payload.handoff !== handoff) return { ok: false, why: "why_other_truckload", handoff: checked.payload.handoff };
  return checked;
}

const byItem = (a, b) => (a.item < b.item ? -1 : a.item > b.item ? 1 : 0);

// The boxes the truckload carried as of entry `last`, from entries {index, record}: for
// each box, the last dispatch naming the handoff that moved it (one flagged
// not_custodian was evidence only and loaded nothing).
export function boxesOf(handoff, entries, last = Infinity) {
  const loaded = new Map();
  for (const { index, record } of [...entries].sort((a, b) => a.index - b.index)) {
    const scan = record.scan ?? {};
    if (record.type !== "dispatch" || scan.handoff !== handoff || index > last) continue;
    if ((record.flags ?? []).includes("not_custodian")) continue;
    loaded.set(scan.item, { index, item: scan.item, seals: [...(scan.seals ?? [])].sort() });
  }
  return [...loaded.values()].sort(byItem);
}

// `sha256:<hex>` of the value's RFC 8785 form (manifests.digest).
export async function digest(value) {
  return "sha256:" + hex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonicalize(value)))));
}
