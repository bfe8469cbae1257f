// A scan's receipt, a C2SP tlog-proof (ledger/proof_bundle.py), checked on the phone:
// the entry it carries is the scan sent, and its inclusion proof leads to the root of a
// checkpoint the log signed.

import { canonicalize } from "./jcs.js";
import { decode, equal, text } from "./b64.js";
import { leafHash, rootFromInclusionProof } from "./merkle.js";
import { openCheckpoint } from "./note.js";

// The checkpoint it leads to ({index, size}); throws with the reason otherwise.
export async function checkReceipt(bundle, envelope, vkey) {
  const split = bundle.indexOf("\n\n");
  const lines = bundle.slice(0, split).split("\n");
  if (lines[0] !== "c2sp.org/tlog-proof@v1" || !lines[1].startsWith("extra ") || !lines[2].startsWith("index ")) {
    throw new Error("not a tlog-proof receipt");
  }
  const entry = decode(lines[1].slice(6));
  const index = Number(lines[2].slice(6));
  const proof = lines.slice(3).map(decode);
  const record = JSON.parse(text(entry));
  if (record.event_id !== envelope.scan.event_id || canonicalize(record.scan) !== canonicalize(envelope.scan)) {
    throw new Error("the receipt is for another scan");
  }
  const checkpoint = await openCheckpoint(bundle.slice(split + 2), vkey);
  const root = await rootFromInclusionProof(await leafHash(entry), index, checkpoint.size, proof);
  if (!equal(root, checkpoint.root)) throw new Error("the inclusion proof does not lead to the checkpoint");
  return { index, size: checkpoint.size };
}
