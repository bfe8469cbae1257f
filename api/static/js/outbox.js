// The outbox: every signed scan waits here (IndexedDB) until the log holds it. States:
//   queued   signed on the phone, not yet accepted by the server
//   sent     accepted (it has its log index); its receipt follows once a checkpoint covers it
//   logged   the receipt is here and checked: the scan is provably in the signed log
//   rejected refused by the server, with the reason (kept, never resent)
//   conflict its event_id or device_seq is another scan's, entry `index`, already in the log:
//            not recorded (kept, never resent: sending it again conflicts again)
// Scans go out in device_seq order, the order this phone made them: the server enters an
// offline batch in the log in that order too.

import { ApiError, call, words } from "./api.js";
import * as idb from "./idb.js";
import { checkReceipt } from "./receipt.js";
import { t } from "./i18n.js";

const BATCH = 100; // scans per request: a slow link still finishes one
const UPLOAD_TIMEOUT = 120_000; // ms: 100 signed scans (about 70 KB) over 2G, with room

export async function add(record) {
  await idb.put("outbox", { ...record, state: "queued" });
}

export async function mine(username) {
  return (await idb.all("outbox")).filter((r) => r.username === username);
}

// The next number of this device's counter, kept with the device.
export async function nextSeq(deviceKey) {
  let seq;
  await idb.update("kv", deviceKey, (device) => {
    seq = (device.seq ?? 0) + 1;
    return { ...device, seq };
  });
  return seq;
}

// Sends what is queued, then fetches missing receipts. Returns the seconds after which
// to try again for receipts not ready yet (0: nothing pending). Throws ApiError 401 when
// the session has expired, status 0 when the server cannot be reached or does not answer
// in time, 5xx when it fails: the scans stay queued.
// Why the server refused a scan, in the page's language from its reason_code, else its
// prose (a conflict's, or a server older than the codes).
function refusalWords(result) {
  const key = `refusal_${result.reason_code}`;
  return result.reason_code && t(key) !== key ? t(key) : result.reason;
}

export async function sync(session, vkey) {
  const records = await mine(session.username);
  const queued = records.filter((r) => r.state === "queued");
  for (let start = 0; start < queued.length; start += BATCH) {
    const chunk = queued.slice(start, start + BATCH);
    let results;
    try {
      ({ results } = await call("/api/v1/events", {
        token: session.token,
        method: "POST",
        json: { scans: chunk.map((r) => r.envelope) },
        timeout: UPLOAD_TIMEOUT,
      }));
    } catch (failure) {
      if (failure.status === 0 || failure.status === 401 || failure.status >= 500) throw failure;
      results = chunk.map((r) => ({ event_id: r.envelope.scan.event_id, status: "rejected", reason: words(failure) }));
    }
    for (const [record, result] of chunk.map((r, i) => [r, results[i]])) {
      // accepted or duplicate: in the log; rejected or conflict: refused, with the reason.
      const refused = ["rejected", "conflict"].includes(result.status);
      await idb.put("outbox", {
        ...record,
        state: refused ? result.status : "sent",
        reason: refusalWords(result),
        index: result.index,
        flags: result.flags ?? [],
      });
    }
  }
  const sent = (await mine(session.username)).filter((r) => r.state === "sent");
  if (!sent.length) return 0;
  // A receipt exists once a signed checkpoint covers the entry: ask only for those.
  const { logs } = await call("/api/v1/logs");
  const covered = new Map(logs.map((l) => [l.log, l.checkpoint_size]));
  let retry = 0;
  for (const record of sent) {
    if (!(record.index < covered.get(record.log))) {
      retry = 1;
      continue;
    }
    try {
      const receipt = await call(`/api/v1/events/${encodeURIComponent(record.envelope.scan.event_id)}/receipt`, {
        token: session.token,
        text: true,
      });
      const proven = await checkReceipt(receipt, record.envelope, vkey);
      await idb.put("outbox", { ...record, state: "logged", receipt, proven });
    } catch (failure) {
      if (!(failure instanceof ApiError)) {
        await idb.put("outbox", { ...record, receiptError: failure.message });
      } else if (failure.status === 409) {
        retry = Math.max(retry, failure.retryAfter ?? 1);
      } else {
        throw failure;
      }
    }
  }
  return retry;
}
