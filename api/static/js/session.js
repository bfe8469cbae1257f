// Signing in (OAuth2 password flow) for the scanner and the dashboard alike. The token
// is kept in IndexedDB (never the password), so a page opened later, or offline, knows
// who is signed in; it expires in minutes and then the person signs in again.

import { call, words } from "./api.js";
import * as idb from "./idb.js";
import { t } from "./i18n.js";

export async function current() {
  const session = await idb.get("kv", "session");
  return session && session.expires > Date.now() ? session : null;
}

// Even expired: the scanner keeps working offline as the last person signed in.
export const last = () => idb.get("kv", "session");

export const forget = () => idb.remove("kv", "session");

// Shows the form until someone signs in, then calls onSession(session) (at once if
// someone already is). With `stale`, an expired session still opens the page (the
// scanner works offline; it asks for the password again when it syncs).
export async function signIn(onSession, { stale = false } = {}) {
  const form = document.getElementById("login");
  const who = document.getElementById("who");
  const error = form.querySelector(".error");
  const show = (session) => {
    form.hidden = true;
    who.hidden = false;
    who.querySelector("span").textContent = t("signed_in_as", {
      user: session.username,
      role: t(`role_${session.role}`),
      area: session.jurisdiction || "—",
    });
    onSession(session);
  };
  document.getElementById("logout").addEventListener("click", async () => {
    await forget();
    location.reload();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData(form);
    data.set("grant_type", "password"); // RFC 6749 §4.3
    try {
      const token = await call("/api/v1/auth/token", { method: "POST", form: data });
      const session = {
        username: data.get("username"),
        token: token.access_token,
        role: token.role,
        jurisdiction: token.jurisdiction,
        expires: Date.now() + token.expires_in * 1000,
      };
      await idb.put("kv", session, "session");
      form.reset();
      show(session);
    } catch (failure) {
      // A wrong password is 401 invalid_credentials, or 400 invalid_grant (RFC 6749); 423, 429.
      error.textContent = failure.status === 0 ? t("problem_network") : words(failure);
      error.hidden = false;
    }
  });
  const session = (await current()) ?? (stale ? await last() : null);
  if (session) show(session);
  else form.hidden = false;
}

// The token was refused (expired): show the form again; signing in calls onSession anew.
export function askAgain() {
  const form = document.getElementById("login");
  form.hidden = false;
  form.querySelector(".error").textContent = t("session_expired");
  form.querySelector(".error").hidden = false;
}
