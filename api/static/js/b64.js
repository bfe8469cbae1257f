// Base64 (standard, as the log's JSON uses) and base64url (JWS, JWK), to and from bytes.

export function encode(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

export function decode(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export function decodeUrl(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  return decode(standard + "=".repeat((4 - (standard.length % 4)) % 4));
}

export const utf8 = (text) => new TextEncoder().encode(text);
export const text = (bytes) => new TextDecoder("utf-8", { fatal: true }).decode(bytes);

export function equal(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
