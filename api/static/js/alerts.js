// The dashboard's open alerts, the most severe first (then the oldest), each in words:
// what its rule means, the box and the site, and the acknowledge action with its reason.
// Who may acknowledge what is the server's to judge (models/accounts/policy.py
// permit_acknowledgement); a refusal is shown in words from its problem code.

import { el, ruleWords, t, ago } from "./i18n.js";

const RANK = { critical: 0, warning: 1, info: 2 };

export function bySeverity(alerts) {
  return [...alerts].sort((a, b) => RANK[a.severity] - RANK[b.severity] || Date.parse(a.created_at) - Date.parse(b.created_at));
}

// `place(code)` names a site; `open(item)` shows a box's timeline; `acknowledge(alert,
// reason)` posts the acknowledgement and resolves to the updated alert.
export function showAlerts(list, count, alerts, { place, open, acknowledge }) {
  count.textContent = `(${alerts.length})`;
  list.replaceChildren(...bySeverity(alerts).map((alert) => row(alert, { place, open, acknowledge })));
  if (!alerts.length) list.append(el("li", { class: "muted" }, t("none")));
}

function row(alert, { place, open, acknowledge }) {
  const where = [];
  if (alert.item_id) {
    const link = el("a", { href: "#timeline", "data-item": alert.item_id }, t("alert_item", { item: alert.item_id }));
    link.addEventListener("click", () => open(alert.item_id));
    where.push(link, " · ");
  }
  if (alert.site) where.push(place(alert.site), " · ");
  where.push(ago(alert.created_at));
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const reason = el("textarea", { name: "reason", required: true, maxlength: 1000, rows: 2 });
  const form = el(
    "form",
    { class: "ack-form" },
    el("label", {}, t("ack_reason"), reason),
    el("button", { type: "submit" }, t("ack_submit")),
    error,
  );
  const item = el(
    "li",
    { class: `alert ${alert.severity}`, "data-alert": alert.id, "data-rule": alert.rule, "data-severity": alert.severity },
    el("span", { class: `badge ${alert.severity}` }, t(`severity_${alert.severity}`)),
    " ",
    el("strong", {}, ruleWords(alert.rule)),
    el("br"),
    el("small", {}, ...where),
    el("details", { class: "technical" }, el("summary", {}, t("alert_technical")), el("small", { lang: "en" }, alert.detail)),
    el("details", { class: "ack" }, el("summary", {}, t("ack")), form),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const done = await acknowledge(alert, reason.value.trim());
      item.replaceChildren(
        el("span", { class: `badge ${alert.severity}` }, t(`severity_${alert.severity}`)),
        " ",
        el("strong", {}, ruleWords(alert.rule)),
        el("p", { class: "done" }, t("ack_done", { index: done.ack_index })),
      );
      item.dataset.acked = "true";
    } catch (failure) {
      const words = failure.code && t(`problem_${failure.code}`);
      const reasonText = words && words !== `problem_${failure.code}` ? words : failure.message;
      error.textContent = t("ack_refused", { reason: reasonText });
      error.hidden = false;
    }
  });
  return item;
}
