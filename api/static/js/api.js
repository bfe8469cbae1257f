// The REST API, with problem+json errors turned into ApiError(status, detail).

export class ApiError extends Error {
  constructor(status, detail, retryAfter, code) {
    super(detail);
    this.status = status;
    this.retryAfter = retryAfter;
    this.code = code; // the problem's stable code ("ack_own_site"…), which pages translate
  }
}

// The answer as JSON, or as text (`text`) or a Blob (`blob`).
export async function call(path, { token, method = "GET", json, form, text = false, blob = false } = {}) {
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
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store" });
  } catch {
    throw new ApiError(0, "network");
  }
  if (!response.ok) {
    let detail = response.statusText;
    let code;
    try {
      ({ detail = detail, code } = await response.json());
    } catch {
      // not problem+json: keep the status text
    }
    throw new ApiError(response.status, detail, Number(response.headers.get("Retry-After")) || undefined, code);
  }
  if (blob) return response.blob();
  return text ? response.text() : response.json();
}
