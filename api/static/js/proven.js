// What the public check pages (check.js for a box, truckload.js for a truckload) check
// alike, in the browser rather than on the server's word:
//   1. the checkpoint is signed by the log's key (its verifier key from /api/v1/logs);
//   2. every entry's bytes hash to its leaf, and its inclusion proof leads to the
//      checkpoint's root (an entry newer than the checkpoint is pending, proven later).
// The page adds its own checks, and says Verified or FAILED with the reason.

import { call } from "./api.js";
import { decode, equal, text } from "./b64.js";
import { t } from "./i18n.js";
import { leafHash, rootFromInclusionProof } from "./merkle.js";
import { openCheckpoint } from "./note.js";

// A check that failed: its message, in the page's language, says why.
export class Failure extends Error {}

// An entry {index, leaf_hash, entry_b64, inclusion_proof} checked against the checkpoint:
// {record, index, leaf, state: "ok" | "pending"}.
export async function proveEntry(entry, checkpoint) {
  const bytes = decode(entry.entry_b64);
  const leaf = await leafHash(bytes);
  if (!equal(leaf, decode(entry.leaf_hash))) throw new Failure(t("why_leaf", { index: entry.index }));
  let state = "pending";
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
  return { record: JSON.parse(text(bytes)), index: entry.index, leaf, state };
}

function verdict(ok, detail, fragment) {
  const box = document.getElementById("verdict");
  box.hidden = false;
  box.className = `verdict ${ok ? "good" : "bad"}`;
  box.dataset.result = ok ? "verified" : "failed";
  box.querySelector("h2").textContent = ok ? t("verified") : t("failed");
  document.getElementById("verdict-detail").textContent = detail;
  const line = document.getElementById("fragment-result");
  line.textContent = fragment?.line ?? "";
  line.className = fragment?.bad ? "error" : "";
}

// A label that is not the KPU's on a box whose trail is proven: the label is what is
// false, said first and plainly; the trail below is the genuine box's.
function counterfeit(fragment, trailLine) {
  const box = document.getElementById("verdict");
  box.hidden = false;
  box.className = "verdict bad";
  box.dataset.result = "counterfeit";
  box.querySelector("h2").textContent = t("label_counterfeit");
  document.getElementById("verdict-detail").textContent = fragment.line;
  const line = document.getElementById("fragment-result");
  line.textContent = trailLine;
  line.className = "";
}

function pending() {
  const box = document.getElementById("verdict");
  box.hidden = false;
  box.className = "verdict pending";
  delete box.dataset.result;
  box.querySelector("h2").textContent = t("verifying");
  document.getElementById("verdict-detail").textContent = "";
  document.getElementById("fragment-result").textContent = "";
}

let runs = 0; // a check started later (the fragment changed) overrules one still running

// The page's whole check: fetch its history (`path`) and the logs, open the checkpoint,
// run `check(history, checkpoint)` → {checked, fragment: {line, bad, counterfeit}}
// (throwing Failure if anything is wrong), show the verdict, then `show(checked, proven)`.
// A failed check shows the history's entries (`entriesOf(history)`) for what they claim,
// unproven. A counterfeit fragment on a proven history is said so with
// `counterfeitTrail(n)`, the proven entries shown as such.
export async function verifyPage({ path, log, entriesOf, check, show, counterfeitTrail }) {
  const run = ++runs;
  const latest = () => run === runs;
  pending();
  try {
    const [history, { logs }] = await Promise.all([call(path), call("/api/v1/logs")]);
    const info = logs.find((l) => l.log === log);
    let checked;
    let proven = true;
    let outcome;
    try {
      let checkpoint;
      try {
        checkpoint = await openCheckpoint(history.checkpoint, info.verifier_key);
      } catch {
        throw new Failure(t("why_checkpoint"));
      }
      if (checkpoint.origin !== info.origin) throw new Failure(t("why_origin"));
      const result = await check(history, checkpoint);
      checked = result.checked;
      const pendingCount = checked.filter((c) => c.state === "pending").length;
      let detail = t("verified_detail", { n: checked.length - pendingCount, origin: checkpoint.origin, size: checkpoint.size });
      if (pendingCount) detail += " " + t("verified_pending", { n: pendingCount });
      outcome = result.fragment?.counterfeit && counterfeitTrail
        ? () => counterfeit(result.fragment, `${counterfeitTrail(checked.length)} ${detail}`)
        : () => verdict(true, detail, result.fragment);
    } catch (failure) {
      if (!(failure instanceof Failure)) throw failure;
      outcome = () => verdict(false, failure.message);
      checked = entriesOf(history).map((entry) => ({ record: entry.entry, index: entry.index, state: "bad" }));
      proven = false;
    }
    if (!latest()) return;
    outcome();
    show(checked, proven);
  } catch (failure) {
    if (latest()) verdict(false, t("error", { detail: failure.message }));
  }
}
