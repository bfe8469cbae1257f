// A label's QR code: `<public url>/v/<item id>#<JWS>` (docs/LABELS.md). The JWS is
// checked against the label keys of the item's log (a JWK Set), with no network.

import { decodeUrl, text, utf8 } from "./b64.js";
import { verify } from "./ed25519.js";

export const ITEM_ID = /^\d{2}\.\d{2}\.\d{2}\.\d{4}-\d{3}-[A-Z0-9]{2,12}(-\d{1,4})?$/;
export const logOf = (item) => item.slice(0, 5);

// {item, jws} from what a QR code holds; null if it is not a Jejak label.
export function parseLabel(scanned) {
  const match = /\/v\/([^/#?]+)#([A-Za-z0-9_.-]+)$/.exec(scanned.trim());
  if (!match) return null;
  const item = decodeURIComponent(match[1]);
  return ITEM_ID.test(item) ? { item, jws: match[2] } : null;
}

// A compact JWS of type `typ` signed by one of `keys` (a JWK Set's keys), checked with
// no network: {ok: true, header, payload} or {ok: false, why} (`why` names a message key).
export async function checkJws(jws, keys, typ) {
  const parts = jws.split(".");
  if (parts.length !== 3) return { ok: false, why: "why_bad_format" };
  let header, payload, signature;
  try {
    header = JSON.parse(text(decodeUrl(parts[0])));
    payload = JSON.parse(text(decodeUrl(parts[1])));
    signature = decodeUrl(parts[2]);
  } catch {
    return { ok: false, why: "why_bad_format" };
  }
  if (header.alg !== "EdDSA" || header.typ !== typ) return { ok: false, why: "why_bad_header" };
  const key = keys.find((k) => k.kid === header.kid && k.kty === "OKP" && k.crv === "Ed25519");
  if (!key) return { ok: false, why: "why_unknown_key" };
  if (!(await verify(decodeUrl(key.x), signature, utf8(parts[0] + "." + parts[1])))) {
    return { ok: false, why: "why_bad_signature" };
  }
  return { ok: true, header, payload };
}

// {ok: true, payload} or {ok: false, why, item?}: `why` names a message key (why_*).
export async function checkLabel(item, jws, keys) {
  const checked = await checkJws(jws, keys, "jejak-label+jws");
  if (!checked.ok) return checked;
  if (checked.payload.item !== item) return { ok: false, why: "why_other_item", item: checked.payload.item };
  return checked;
}
