// A truckload read from its manifest's QR code in the scanner (docs/SCANNER.md,
// Truckloads): checked with no network against the cached label keys of its log, then
// attested by the escort in one scan, or shown to the receiver before the boxes come off.

import { checkManifest, digest } from "./manifest.js";

// The escort's attestations (models/custody/rules.py ATTESTATIONS): where each is made.
export const ATTESTATIONS = { pickup: "from", delivery: "to" };

// {log, handoff, jws} from what a QR code holds; null if it is not a Jejak manifest
// (`<public url>/v/m/<log>/<handoff>#<JWS>`, docs/LABELS.md).
export function parseManifest(scanned) {
  const match = /\/v\/m\/(\d{2}\.\d{2})\/([^/#?]+)#([A-Za-z0-9_.-]+)$/.exec(scanned.trim());
  return match ? { log: match[1], handoff: decodeURIComponent(match[2]), jws: match[3] } : null;
}

// {ok: true, truck: {log, handoff, payload, digest}} or {ok: false, why, handoff?}.
export async function readManifest({ log, handoff, jws }, keys) {
  const checked = await checkManifest(handoff, jws, keys);
  if (!checked.ok) return checked;
  return { ok: true, truck: { log, handoff, payload: checked.payload, digest: await digest(checked.payload) } };
}

// The fields of an escort's pickup or delivery of `truck`: the whole truckload by its
// manifest's digest, or one box of it (`item`), counted by its own label.
export function attestation(type, truck, item = null) {
  const fields = { type, handoff: truck.handoff, site: truck.payload[ATTESTATIONS[type]] };
  if (item) fields.item = item;
  else fields.manifest = truck.digest;
  return fields;
}

// Whether the escort whose phone records `nrp` is one the manifest names.
export const names = (truck, nrp) => Boolean(nrp) && truck.payload.escorts.includes(nrp);
