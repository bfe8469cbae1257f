// The dashboard (/dashboard), for KPU, PPK, auditors and admins: open alerts to act on
// (alerts.js), distribution progress of an area and each area below it, a map of them,
// the area's reports (reports.js), the boxes on the road, a box's custody timeline and
// the state of the log. Everything comes from the REST API with the signed-in person's
// token, so it shows only their jurisdiction. The area shown is in the URL (?site=), so
// Back and bookmarks work.

import { call } from "./api.js";
import { ago, el, flagWords, t, when } from "./i18n.js";
import { showAlerts } from "./alerts.js";
import { bars, legend, map } from "./charts.js";
import { showCompleteness } from "./completeness.js";
import { showConvoys } from "./convoys.js";
import { showReturns } from "./returns.js";
import { openCheckpoint } from "./note.js";
import { download, reportLinks, showReports } from "./reports.js";
import { askAgain, signIn } from "./session.js";

const READERS = new Set(["kpu", "ppk", "auditor", "admin"]);
const REFRESH_EVERY = 60_000;
const $ = (id) => document.getElementById(id);
const names = {}; // code → name, as areas are seen

let session;
let area; // the site code shown

const get = (path, options = {}) => call(path, { token: session.token, ...options });
const place = (code) => (names[code] ? `${names[code]} (${code})` : code);

function crumbs() {
  const codes = [area.slice(0, 5), area.slice(0, 8), area.slice(0, 13), area.slice(0, 17)];
  const mine = session.jurisdiction;
  const shown = [...new Set(codes)].filter((code) => code.length <= area.length && code.length >= mine.length);
  $("crumbs").replaceChildren(
    ...shown.map((code) =>
      code === area ? el("strong", {}, names[code] ?? code) : el("a", { href: `?site=${code}`, "data-code": code }, names[code] ?? code),
    ),
  );
}

function showProgress(report) {
  const { site, areas } = report;
  names[site.code] = site.name;
  for (const a of areas) names[a.code] = a.name;
  $("total").textContent = t("items_total", { n: site.items.total });
  // The area itself first (not a link), then each area below it.
  const rows = [site, ...areas].map((a, i) => ({ label: a.name, code: i ? a.code : null, items: a.items }));
  for (const leg of ["outbound", "return"]) {
    const stages = Object.keys(site.items[leg]);
    legend($(`legend-${leg}`), leg, stages);
    bars($(`bars-${leg}`), rows.map((r) => ({ ...r, counts: r.items[leg] })), leg, stages, pick);
  }
  $("return-part").hidden = !Object.values(site.items.return).some(Boolean);
  const stages = Object.keys(site.items.outbound);
  $("progress-table").replaceChildren(
    el("tr", {}, el("th", {}, t("area")), ...stages.map((s) => el("th", {}, t(`stage_out_${s}`)))),
    ...[site, ...areas].map((a) =>
      el("tr", { "data-code": a.code }, el("td", {}, a.name), ...stages.map((s) => el("td", { "data-stage": s }, String(a.items.outbound[s])))),
    ),
  );
  map($("map"), site, areas, pick);
  $("map-synthetic").hidden = !areas.some((a) => a.coords_synthetic);
}

const TRANSIT_SHOWN = 25; // the longest on the road; search finds the others

function showTransit(items) {
  items.sort((a, b) => Date.parse(a.dispatched_at) - Date.parse(b.dispatched_at));
  $("transit-count").textContent = `(${items.length})`;
  $("transit").replaceChildren(
    ...items.slice(0, TRANSIT_SHOWN).map((item) =>
      el(
        "li",
        { "data-item": item.id },
        el("a", { href: "#timeline", "data-item": item.id }, item.id),
        el("br"),
        el("small", {}, `${t("from_to", { from: place(item.custodian), to: place(item.dispatch_to) })} · ${ago(item.dispatched_at)} ${t("since_dispatch")}`),
      ),
    ),
  );
  if (!items.length) $("transit").append(el("li", { class: "muted" }, t("none")));
  if (items.length > TRANSIT_SHOWN) $("transit").append(el("li", { class: "muted" }, t("more", { n: items.length - TRANSIT_SHOWN })));
}

function acknowledge(alert, reason) {
  return get(`/api/v1/alerts/${alert.id}/ack?log=${alert.log_id}`, { method: "POST", json: { reason } });
}

async function showLog(log) {
  const [{ logs }, note] = await Promise.all([call("/api/v1/logs"), call(`/api/v1/logs/${log}/checkpoint`, { text: true })]);
  const info = logs.find((l) => l.log === log);
  $("log-size").textContent = t("log_size", { size: info.size });
  try {
    const checkpoint = await openCheckpoint(note, info.verifier_key);
    const root = Array.from(checkpoint.root.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
    $("log-checkpoint").textContent = t("checkpoint", { size: checkpoint.size, root });
    $("log-signed").textContent = t("checkpoint_signed");
    const witnesses = checkpoint.signatures.filter((s) => s.name !== info.origin).map((s) => s.name);
    $("log-cosigned").textContent = t("cosignatures", { n: witnesses.length, names: witnesses.join(", ") || "—" });
  } catch (failure) {
    $("log-signed").textContent = t("why_checkpoint");
    $("log-signed").className = "error";
  }
}

// Names for the codes a timeline shows that no progress report has named yet.
async function learnNames(codes) {
  const unknown = [...new Set(codes.filter((code) => code && !(code in names)))];
  const sites = await Promise.all(unknown.map((code) => call(`/api/v1/sites/${code}`).catch(() => null)));
  for (const site of sites) if (site) names[site.code] = site.name;
}

// The moment a step happened: the scan's, else when the log recorded it.
const observed = (entry) => entry.scan?.observed_at ?? entry.received_at;

async function search(id) {
  $("found").textContent = t("loading");
  $("item-report").hidden = true;
  try {
    const [item, history] = await Promise.all([get(`/api/v1/items/${encodeURIComponent(id)}`), call(`/api/v1/items/${encodeURIComponent(id)}/history`)]);
    await learnNames([item.custodian, item.dispatch_to, ...history.trail.flatMap(({ entry }) => [entry.scan?.site, entry.scan?.counterparty])]);
    $("found").textContent = `${id}: ${t(`status_${item.status}`)} · ${t("custodian")}: ${place(item.custodian)}` +
      (item.dispatch_to ? ` → ${place(item.dispatch_to)}` : "");
    const report = el("a", { href: `/api/v1/items/${encodeURIComponent(id)}/report.pdf`, "data-report": `berita-acara-${id}.pdf` }, t("report_item_pdf"));
    $("item-report").replaceChildren(download(report, () => session.token, $("found")));
    $("item-report").hidden = false;
    // In the order things happened (a phone offline syncs late), the log's time beside.
    const steps = [...history.trail].sort((a, b) => Date.parse(observed(a.entry)) - Date.parse(observed(b.entry)));
    $("timeline").replaceChildren(
      ...steps.map(({ entry, index }) => {
        const site = entry.scan?.site ?? entry.site ?? item.log_id;
        return el(
          "li",
          { "data-type": entry.type, "data-index": index, "data-observed": observed(entry) },
          el("strong", {}, t(`type_${entry.type}`)),
          ` · ${t(`role_${entry.role}`)} · ${when(observed(entry), site)}`,
          el("br"),
          el("small", {}, `${place(site)}` +
            (entry.scan?.counterparty ? ` (${entry.type === "receive" ? "←" : "→"} ${place(entry.scan.counterparty)})` : "") +
            (entry.scan?.seals?.length ? ` · ${t("seals_short")}: ${entry.scan.seals.join(", ")}` : "") +
            ` · #${index} ${t("recorded_at", { time: when(entry.received_at, site) })}`),
          entry.flags?.length ? el("p", { class: "warning" }, t("flags", { flags: [...new Set(entry.flags)].map(flagWords).join("; ") })) : null,
        );
      }),
    );
  } catch (failure) {
    $("found").textContent = t("error", { detail: failure.message });
    $("timeline").replaceChildren();
  }
}

async function load() {
  crumbs();
  const log = area.slice(0, 5);
  try {
    const [report, transit, alerts, kits, trucks, returns, orphans] = await Promise.all([
      get(`/api/v1/stats/progress?site=${area}`),
      get(`/api/v1/items?status=in_transit&site=${area}&limit=500`),
      get(`/api/v1/alerts?log=${log}&site=${area}&limit=500`),
      get(`/api/v1/completeness?site=${area}&limit=25`),
      get(`/api/v1/convoys?site=${area}`),
      get(`/api/v1/returns?site=${area}`),
      get(`/api/v1/orphans?site=${area}`),
      showLog(log),
    ]);
    showCompleteness($("completeness"), kits);
    showConvoys($("convoys"), trucks);
    showReturns($("returns"), returns, orphans);
    showProgress(report);
    showAlerts($("alerts"), $("alert-count"), alerts.alerts, { place, open, acknowledge });
    showReports($("reports"), reportLinks(area, names[area], log), () => session.token, $("report-status"));
    showTransit(transit.items);
    crumbs();
    document.body.dataset.loaded = String(Date.now());
  } catch (failure) {
    if (failure.status === 401) askAgain();
    else $("total").textContent = t("error", { detail: failure.message });
  }
}

function open(id) {
  $("search").elements.box.value = id;
  search(id);
}

// Drilling into an area is a step in the browser's history: Back comes up again.
function pick(code) {
  area = code;
  history.pushState({ site: code }, "", `?site=${code}`);
  load();
}

// The area the URL asks for, if it is within the person's jurisdiction.
function asked() {
  const code = new URLSearchParams(location.search).get("site");
  return code && code.startsWith(session.jurisdiction) ? code : null;
}

window.addEventListener("popstate", () => {
  if (!session || !READERS.has(session.role)) return;
  area = asked() ?? home;
  load();
});

$("refresh").addEventListener("click", load);
$("crumbs").addEventListener("click", (event) => {
  const code = event.target.dataset?.code;
  if (code) {
    event.preventDefault();
    pick(code);
  }
});
$("transit").addEventListener("click", (event) => {
  const id = event.target.dataset?.item;
  if (id) open(id);
});
$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  search(event.target.elements.box.value.trim().toUpperCase());
});

let home; // the person's own area: where Back ends

signIn(async (signedIn) => {
  session = signedIn;
  if (!READERS.has(session.role)) {
    $("refused").hidden = false;
    return;
  }
  $("app").hidden = false;
  // A national account starts with the first log hosted here.
  home = session.jurisdiction || (await call("/api/v1/logs")).logs[0]?.log;
  area = asked() ?? home;
  await load();
  setInterval(load, REFRESH_EVERY);
});
