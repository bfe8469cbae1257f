// The dashboard (/dashboard), for KPU, PPK, auditors and admins: distribution progress
// of an area and each area below it, a map of them, the boxes on the road, open alerts,
// a box's custody timeline and the state of the log. Everything comes from the REST
// API with the signed-in person's token, so it shows only their jurisdiction.

import { call } from "./api.js";
import { ago, el, t, when } from "./i18n.js";
import { bars, legend, map } from "./charts.js";
import { showCompleteness } from "./completeness.js";
import { showConvoys } from "./convoys.js";
import { showReturns } from "./returns.js";
import { openCheckpoint } from "./note.js";
import { askAgain, signIn } from "./session.js";

const READERS = new Set(["kpu", "ppk", "auditor", "admin"]);
const REFRESH_EVERY = 60_000;
const $ = (id) => document.getElementById(id);
const names = {}; // code → name, as areas are seen

let session;
let area; // the site code shown

const get = (path, options = {}) => call(path, { token: session.token, ...options });

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
        el("small", {}, `${t("from_to", { from: item.custodian, to: item.dispatch_to })} · ${ago(item.dispatched_at)} ${t("since_dispatch")}`),
      ),
    ),
  );
  if (!items.length) $("transit").append(el("li", { class: "muted" }, t("none")));
  if (items.length > TRANSIT_SHOWN) $("transit").append(el("li", { class: "muted" }, t("more", { n: items.length - TRANSIT_SHOWN })));
}

function showAlerts(alerts) {
  $("alert-count").textContent = `(${alerts.length})`;
  $("alerts").replaceChildren(
    ...alerts.map((alert) =>
      el(
        "li",
        { class: `alert ${alert.severity}` },
        el("span", { class: `badge ${alert.severity}` }, t(`severity_${alert.severity}`)),
        ` ${alert.rule} · ${alert.item_id ?? alert.site ?? ""}`,
        el("br"),
        el("small", {}, `${alert.detail} · ${ago(alert.created_at)}`),
      ),
    ),
  );
  if (!alerts.length) $("alerts").append(el("li", { class: "muted" }, t("none")));
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

async function search(id) {
  $("found").textContent = t("loading");
  try {
    const [item, history] = await Promise.all([get(`/api/v1/items/${encodeURIComponent(id)}`), call(`/api/v1/items/${encodeURIComponent(id)}/history`)]);
    $("found").textContent = `${id}: ${t(`status_${item.status}`)} · ${t("custodian")}: ${item.custodian}` +
      (item.dispatch_to ? ` → ${item.dispatch_to}` : "");
    $("timeline").replaceChildren(
      ...history.trail.map(({ entry, index }) =>
        el(
          "li",
          { "data-type": entry.type, "data-index": index },
          el("strong", {}, t(`type_${entry.type}`)),
          ` · ${t(`role_${entry.role}`)}`,
          el("br"),
          el("small", {}, `${when(entry.scan?.observed_at ?? entry.received_at)} · ${entry.scan?.site ?? entry.site ?? item.log_id}` +
            (entry.scan?.counterparty ? ` (${entry.type === "receive" ? "←" : "→"} ${entry.scan.counterparty})` : "") +
            (entry.scan?.seals?.length ? ` · ${entry.scan.seals.join(", ")}` : "")),
          entry.flags?.length ? el("p", { class: "warning" }, t("flags", { flags: entry.flags.join(", ") })) : null,
        ),
      ),
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
    showCompleteness($("completeness"), kits, session.token);
    showConvoys($("convoys"), trucks);
    showReturns($("returns"), returns, orphans);
    showProgress(report);
    showTransit(transit.items);
    showAlerts(alerts.alerts);
    crumbs();
    document.body.dataset.loaded = String(Date.now());
  } catch (failure) {
    if (failure.status === 401) askAgain();
    else $("total").textContent = t("error", { detail: failure.message });
  }
}

function pick(code) {
  area = code;
  history.replaceState(null, "", `?site=${code}`);
  load();
}

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
  if (id) {
    $("search").elements.box.value = id;
    search(id);
  }
});
$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  search(event.target.elements.box.value.trim().toUpperCase());
});

signIn(async (signedIn) => {
  session = signedIn;
  if (!READERS.has(session.role)) {
    $("refused").hidden = false;
    return;
  }
  $("app").hidden = false;
  const asked = new URLSearchParams(location.search).get("site");
  // A national account starts with the first log hosted here.
  area = asked && asked.startsWith(session.jurisdiction) ? asked : session.jurisdiction;
  area ||= (await call("/api/v1/logs")).logs[0]?.log;
  await load();
  setInterval(load, REFRESH_EVERY);
});
