// Officers' accounts (/dashboard/accounts), for a KPU, a PPK or an admin: import a CSV
// (checked whole, every row's error shown), print a district's or village's enrollment
// QR sheet, find accounts with their phones, disable, enable, reset; change one's own
// password. Everything through the same REST API (README "Onboarding officers").

import { ApiError, call } from "./api.js";
import { ago, el, t } from "./i18n.js";
import { forget, signIn } from "./session.js";

const MANAGERS = new Set(["admin", "kpu", "ppk"]);
const $ = (id) => document.getElementById(id);
let session;

async function importFile(event) {
  event.preventDefault();
  const form = event.target;
  const dry = event.submitter?.value === "1";
  const result = $("import-result");
  result.replaceChildren();
  const params = new URLSearchParams({ dry_run: dry });
  if (form.elements.period.value) params.set("period", form.elements.period.value);
  const response = await fetch(`/api/v1/users/import?${params}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${session.token}`, "Content-Type": "text/csv" },
    body: await form.elements.file.files[0].text(),
  });
  const body = await response.json();
  if (!response.ok) {
    result.append(el("p", { class: "error" }, body.errors ? t("acc_errors", { n: body.errors.length }) : body.detail));
    if (body.errors) result.append(el("ul", {}, ...body.errors.map((e) => el("li", {}, t("acc_row_error", e)))));
    return;
  }
  const counts = { created: body.created.length, unchanged: body.unchanged.length };
  result.append(el("p", {}, t(dry ? "acc_checked" : "acc_imported", counts)));
  if (!dry) await list();
}

async function printSheet(event) {
  event.preventDefault();
  const site = event.target.elements.site.value.trim();
  const pdf = await call(`/api/v1/users/enrollment-sheet?site=${encodeURIComponent(site)}`, {
    token: session.token, method: "POST", blob: true,
  });
  const link = el("a", { href: URL.createObjectURL(pdf), download: `pendaftaran-${site}.pdf` });
  link.click();
}

function row(account) {
  const state = !account.active ? t("acc_disabled") : account.enrolled ? t("acc_enrolled") : t("acc_not_enrolled");
  const last = account.phones.map((p) => p.last_scan).filter(Boolean).sort().at(-1);
  const act = (action, label) => {
    const button = el("button", { type: "button" }, label);
    button.addEventListener("click", () => manage(account.username, action));
    return button;
  };
  return el(
    "li", {},
    el("strong", {}, `${account.full_name || account.username}`),
    ` ${account.username} · ${t(`role_${account.role}`)} · ${account.jurisdiction} ${account.place} · ${state}`,
    el("br"),
    el("span", { class: "muted" }, [account.nik, account.phone, t("acc_phones", { n: account.phones.filter((p) => !p.revoked_at).length }),
      last ? t("acc_last_scan", { when: ago(last) }) : null].filter(Boolean).join(" · ")),
    el("div", { class: "row" }, account.active ? act("disable", t("acc_disable")) : act("enable", t("acc_enable")), act("reset", t("acc_reset"))),
  );
}

async function manage(username, action) {
  const done = await call(`/api/v1/users/${encodeURIComponent(username)}/${action}`, { token: session.token, method: "POST" });
  const shown = $("code");
  shown.hidden = action !== "reset";
  if (action === "reset") shown.textContent = t("acc_new_code", { user: username, code: done.code });
  await list();
}

async function list(event) {
  event?.preventDefault();
  const search = $("find").elements.search.value.trim();
  const page = await call(`/api/v1/users?limit=200${search ? `&search=${encodeURIComponent(search)}` : ""}`, { token: session.token });
  $("accounts").replaceChildren(...(page.accounts.length ? page.accounts.map(row) : [el("li", {}, t("none"))]));
}

async function changePassword(event) {
  event.preventDefault();
  const form = event.target;
  const error = form.querySelector(".error");
  try {
    await call("/api/v1/me/password", {
      token: session.token, method: "POST", json: { current: form.elements.current.value, new: form.elements.new.value },
    });
    await forget();
    alert(t("acc_changed"));
    location.reload();
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : String(failure);
    error.hidden = false;
  }
}

signIn(async (signedIn) => {
  session = signedIn;
  if (!MANAGERS.has(session.role)) {
    $("refused").hidden = false;
    return;
  }
  $("app").hidden = false;
  $("import").addEventListener("submit", importFile);
  $("sheet").addEventListener("submit", printSheet);
  $("find").addEventListener("submit", list);
  $("password").addEventListener("submit", changePassword);
  await list();
});
