// The page's words (api/pages/i18n.py), handed over in the page as a JSON data block.

const messages = JSON.parse(document.getElementById("messages").textContent);
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

export function when(iso) {
  return new Date(iso).toLocaleString(lang === "id" ? "id-ID" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
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
