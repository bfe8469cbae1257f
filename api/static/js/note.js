// C2SP signed notes and checkpoints (ledger/note.py, ledger/checkpoint.py): a log's
// checkpoint is checked with its verifier key `<name>+<key id hex>+<base64(0x01 ‖ key)>`.

import { decode, equal, hex, utf8 } from "./b64.js";
import { verify } from "./ed25519.js";

const DASH = "\u2014 ";

export async function parseVerifierKey(vkey) {
  // The base64 may hold "+": only the first two separate fields.
  const [name, id, ...rest] = vkey.split("+");
  const key64 = rest.join("+");
  const material = decode(key64);
  if (material.length !== 33 || material[0] !== 1) throw new Error("not an Ed25519 verifier key");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array([...utf8(name + "\n"), ...material])));
  if (hex(digest.slice(0, 4)) !== id.toLowerCase()) throw new Error("verifier key id does not match");
  return { name, id: digest.slice(0, 4), key: material.slice(1) };
}

// The note's text and its signature lines {name, id (4 bytes), signature (64 bytes)}.
export function parseNote(note) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Error("not a signed note");
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2, -1)
    .split("\n")
    .map((line) => {
      if (!line.startsWith(DASH)) throw new Error("malformed signature line");
      const [name, sig64] = line.slice(DASH.length).split(" ");
      const raw = decode(sig64);
      return { name, id: raw.slice(0, 4), signature: raw.slice(4) };
    });
  return { text, signatures };
}

// The checkpoint {origin, size, root, signatures} if the log's signature verifies; throws otherwise.
export async function openCheckpoint(note, vkey) {
  const verifier = await parseVerifierKey(vkey);
  const { text, signatures } = parseNote(note);
  const mine = signatures.find((s) => s.name === verifier.name && equal(s.id, verifier.id));
  if (!mine || !(await verify(verifier.key, mine.signature, utf8(text)))) {
    throw new Error("the checkpoint signature does not verify");
  }
  const [origin, size, root] = text.split("\n");
  return { origin, size: Number(size), root: decode(root), signatures };
}
