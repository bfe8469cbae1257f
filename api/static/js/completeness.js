// The dashboard's completeness card (kelengkapan): the area's TPS complete, incomplete
// and not started, and those not complete (sangat rawan first) with what is missing
// and where it is. Its own card, filled from GET /api/v1/completeness; the dashboard
// only calls `showCompleteness` with the answer (see dashboard.js).

import { el, t, when } from "./i18n.js";

const SHOWN = 25; // the most urgent; the report lists them all

function missing(m) {
  if (!m.item) return `${m.code}: ${t("kit_unregistered")}`;
  const where = m.dispatch_to ? `${m.custodian} → ${m.dispatch_to}` : m.custodian;
  return `${m.code}: ${t(`status_${m.status}`)} ${where}`;
}

export function showCompleteness(card, report) {
  const { counts } = report;
  const list = el(
    "ol",
    { class: "list" },
    ...report.stations.slice(0, SHOWN).map((s) =>
      el(
        "li",
        { class: `alert ${s.kerawanan === "sangat_rawan" ? "critical" : "warning"}`, "data-tps": s.code },
        el("strong", {}, `${s.name} (${s.code})`),
        ` · ${t(`kit_${s.state}`)} ${s.reached}/${s.required}`,
        s.kerawanan ? ` · ${t(`kerawanan_${s.kerawanan}`)}` : "",
        s.need_by ? ` · ${t("kit_need_by", { when: when(s.need_by) })}` : "",
        el("br"),
        el("small", {}, s.missing.map(missing).join("; ")),
      ),
    ),
  );
  if (!report.stations.length) list.append(el("li", { class: "muted" }, t("none")));
  if (report.stations_total > SHOWN) list.append(el("li", { class: "muted" }, t("more", { n: report.stations_total - SHOWN })));
  card.replaceChildren(
    el("h2", {}, t("kit_title")),
    el("p", { id: "kit-counts" }, t("kit_counts", counts)),
    list,
    el("p", { class: "muted" }, t("kit_report")),
  );
}
