// The dashboard's card for after the count: the area's boxes by where they stand on
// the way home, and the orphans (boxes received or found where the log did not expect
// them) with what happened next. Filled from GET /api/v1/returns and /api/v1/orphans;
// the dashboard only calls `showReturns` (see dashboard.js).

import { el, t } from "./i18n.js";

const STAGES = ["back", "on_the_way", "missing", "at_tps", "at_pps", "at_ppk", "not_counted"];

export function showReturns(card, returns, orphans) {
  card.replaceChildren(
    el("h2", {}, t("returns_title")),
    el("table", { class: "numbers", id: "returns-table" },
      el("tr", {}, el("th", {}, t("area")), ...STAGES.map((s) => el("th", {}, t(`return_${s}`)))),
      ...[{ name: returns.name, counts: returns.counts }, ...returns.districts].map((a) =>
        el("tr", {}, el("td", {}, a.name ?? a.code), ...STAGES.map((s) => el("td", { "data-stage": s }, String(a.counts[s])))),
      ),
    ),
    returns.reseal_mismatches.length
      ? el("p", { class: "warning" }, t("reseal_mismatches", { items: returns.reseal_mismatches.map((m) => m.item).join(", ") }))
      : null,
    el("h3", {}, t("orphans_title"), " ", el("span", { class: "muted" }, `(${orphans.length})`)),
    el(
      "ol",
      { class: "list", id: "orphans" },
      ...orphans.map((o) =>
        el("li", { "data-item": o.item }, el("strong", {}, o.item), ` · ${o.how} · ${o.site}`, el("br"),
          el("small", {}, t("orphan_now", { next: o.next_type ? `${t(`type_${o.next_type}`)} ${o.next_site}` : "—", custodian: o.custodian }))),
      ),
    ),
  );
}
