// The REST API, with problem+json errors turned into ApiError(status, detail, code): the
// `code` is stable (api/problems.py) and is what the pages translate (words()).

import { t } from "./i18n.js";

const TIMEOUT = 30_000; // ms: a request on a dying 2G link fails in words rather than hanging

export class ApiError extends Error {
  constructor(status, detail, retryAfter, code) {
    super(detail);
    this.status = status;
    this.retryAfter = retryAfter;
    // status 0: "network" (no answer at all) or "timeout"; else the problem's code. The
    // token endpoint's OAuth errors (RFC 6749 §5.2) say "invalid_grant" for a wrong password.
    this.code = code === "invalid_grant" ? "invalid_credentials" : code;
  }
}

// What went wrong, in the page's language: from the problem's code, else its status.
export function words(failure) {
  if (!(failure instanceof ApiError)) return failure.message;
  if (failure.code === "timeout") return t("server_timeout");
  if (failure.status === 0) return t("server_unreachable");
  const key = `problem_${failure.code}`;
  if (t(key) !== key) return t(key);
  return failure.status >= 500 ? t("server_failed", { status: failure.status }) : failure.message;
}

// The answer as JSON, or as text (`text`) or a Blob (`blob`); `timeout` in ms.
export async function call(path, { token, method = "GET", json, form, text = false, blob = false, timeout = TIMEOUT } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = new URLSearchParams(form);
  }
  let response;
  const signal = AbortSignal.timeout(timeout);
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store", signal });
  } catch {
    throw new ApiError(0, "network", undefined, signal.aborted ? "timeout" : "network");
  }
  if (!response.ok) {
    let detail = response.statusText;
    let code;
    try {
      const problem = await response.json();
      detail = problem.detail ?? problem.error_description ?? detail;
      code = problem.code ?? problem.error;
    } catch {
      // not problem+json: keep the status text
    }
    throw new ApiError(response.status, detail, Number(response.headers.get("Retry-After")) || undefined, code);
  }
  if (blob) return response.blob();
  return text ? response.text() : response.json();
}
