// The dashboard's convoy card: the truckloads on the road now (overdue first), with
// their escorts, time on the road against the allowance, and where they were last
// scanned: the 25 most urgent, and how many more. Its own card, filled from GET /api/v1/convoys; the dashboard only calls
// `showConvoys` with the answer (see dashboard.js).

import { ago, el, t } from "./i18n.js";

export function showConvoys(card, answer) {
  const list = el(
    "ol",
    { class: "list" },
    ...answer.convoys.map((c) =>
      el(
        "li",
        { class: c.overdue ? "alert critical" : "", "data-handoff": c.handoff },
        el("strong", {}, c.handoff),
        ` · ${c.from_name ?? c.from_site} → ${c.to_name ?? c.to_site}`,
        c.kerawanan ? ` (${t(`kerawanan_${c.kerawanan}`)})` : "",
        el("br"),
        el(
          "small",
          {},
          t("convoy_detail", {
            vehicle: c.vehicle ?? "—",
            escorts: c.escorts.join(", ") || "—",
            hours: (c.minutes_since_dispatch / 60).toFixed(1),
            allowed: c.allowance_hours,
            boxes: c.on_road,
          }) + (c.last_scan ? ` · ${t(`type_${c.last_scan.type}`)} ${c.last_scan.site_name ?? c.last_scan.site} ${ago(c.last_scan.observed_at)}` : ""),
        ),
      ),
    ),
  );
  if (!answer.convoys.length) list.append(el("li", { class: "muted" }, t("none")));
  // The answer lists the most urgent; the count is of all of them.
  if (answer.total > answer.convoys.length) list.append(el("li", { class: "muted" }, t("more", { n: answer.total - answer.convoys.length })));
  card.replaceChildren(el("h2", {}, t("convoys"), " ", el("span", { class: "muted" }, `(${answer.total})`)), list);
}
