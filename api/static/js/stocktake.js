// A stock-take (stock opname) on the scanner: start one for this officer's site, then
// every label read is queued at once as a signed `stocktake` scan (no form: a warehouse
// holds hundreds of boxes), offline too; close it once synced, and read what the
// server reckoned (found, missing, unexpected) with a link to its printed report.
// Its own card, built here, so the scanner page only mounts it (see scanner.js).

import { call, words } from "./api.js";
import { el, t } from "./i18n.js";
import * as idb from "./idb.js";

const key = (session) => `stocktake:${session.username}`;
let current = null; // {id, site, log, count, key}
let shown = () => {}; // the card, redrawn

// A stock-take id begins with the site's code (models/custody/rules.py stocktake_refusal).
export function newId(site, now = new Date()) {
  return `${site}-SO-${now.toISOString().slice(0, 16).replace(/[-:T]/g, "")}`;
}

export function active() {
  return current;
}

// The signed fields of a box counted in the current stock-take.
export function scanOf(item, label) {
  current.count += 1;
  idb.put("kv", current, current.key);
  shown();
  const scan = { type: "stocktake", item, site: current.site, stocktake: current.id };
  if (label) scan.label = label.n;
  return scan;
}

// Mount the card before `next`: `sync` sends the outbox (closing waits for it),
// `session` and `device` as the scanner has them.
export async function mount(next, { session, device, sync }) {
  current = (await idb.get("kv", key(session))) ?? null;
  const status = el("p", { class: "muted" });
  const start = el("button", { type: "button" }, t("stocktake_start"));
  const close = el("button", { type: "button", class: "primary" }, t("stocktake_close"));
  const result = el("p");
  const card = el("section", { class: "card", id: "stocktake" }, el("h2", {}, t("stocktake")), status, start, close, result);
  next.before(card);

  function show() {
    start.hidden = Boolean(current);
    close.hidden = !current;
    status.textContent = current ? t("stocktake_active", { id: current.id, n: current.count }) : t("stocktake_hint");
  }
  start.addEventListener("click", async () => {
    const site = session.jurisdiction;
    current = { id: newId(site), site, log: device().log, count: 0, key: key(session) };
    await idb.put("kv", current, key(session));
    result.textContent = "";
    show();
  });
  close.addEventListener("click", async () => {
    await sync();
    try {
      const path = `/api/v1/stocktakes/${current.log}/${encodeURIComponent(current.id)}/close`;
      const closed = await call(path, { method: "POST", token: session.token });
      const report = `/api/v1/stocktakes/${closed.log_id}/${encodeURIComponent(closed.id)}/report.pdf`;
      const print = el("button", { type: "button", class: "link" }, t("stocktake_report"));
      print.addEventListener("click", async () => {
        const pdf = await call(report, { token: session.token, blob: true });
        window.open(URL.createObjectURL(pdf), "_blank");
      });
      const counts = { found: closed.found.length, missing: closed.missing.length, unexpected: closed.unexpected.length };
      result.replaceChildren(t("stocktake_closed", counts), " ", print);
      current = null;
      await idb.remove("kv", key(session));
    } catch (failure) {
      result.textContent = words(failure);
    }
    show();
  });
  shown = show;
  show();
}
