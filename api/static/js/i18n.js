// The page's words (api/pages/i18n.py): a file of their own, named by its version, which
// the browser and the scanner's service worker keep (every page carried them until then).
// Without them (no network and no copy) the words show as their keys.
const messages = await fetch(document.getElementById("words").href)
  .then((answer) => (answer.ok ? answer.json() : {}))
  .catch(() => ({}));
export const lang = document.documentElement.lang;

export function t(key, values = {}) {
  const template = messages[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// "3 jam lalu" / "25 min ago".
export function ago(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60000));
  return minutes < 120 ? t("minutes_ago", { n: minutes }) : t("hours_ago", { n: Math.round(minutes / 60) });
}

// Each province's zone (models/places/zones.py), handed over in the page as a JSON data block.
const zones = JSON.parse(document.getElementById("zones")?.textContent ?? "{}");

// A time on a 24-hour clock; given a site, in the site's zone and named ("7 Des 2026 09.15 WITA").
export function when(iso, site = null) {
  const [timeZone, name] = (site && (zones[site.slice(0, 2)] ?? zones.default)) || [undefined, ""];
  const options = { dateStyle: "medium", timeStyle: "short", hourCycle: "h23", timeZone };
  const text = new Date(iso).toLocaleString(lang === "id" ? "id-ID" : "en-GB", options);
  return name ? `${text} ${name}` : text;
}

// Element helper: el("li", {class: "x"}, "text", child...).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== false && value != null) node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

// The language link keeps the label signature in the fragment.
const toggle = document.getElementById("language");
if (toggle) toggle.addEventListener("click", () => (toggle.hash = location.hash));

// A custody flag, and an alert's rule, in words (flag_<name>, rule_<name>).
export const flagWords = (flag) => (messages[`flag_${flag}`] ? t(`flag_${flag}`) : t("flag_unknown", { flag }));
export const ruleWords = (rule) => (messages[`rule_${rule}`] ? t(`rule_${rule}`) : t("rule_unknown", { rule }));
