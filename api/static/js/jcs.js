// RFC 8785 (JCS) canonical JSON: the exact bytes a device signs, the same as the
// server's ledger/jcs.py (tests/test_web_e2e.py holds the two to each other).
// ECMAScript's own JSON.stringify already writes strings and numbers the RFC's way;
// what is left is sorting keys by UTF-16 code units and refusing what JSON cannot
// carry exactly.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function canonicalize(value) {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    // Every number is an IEEE double here, which is what RFC 8785 serializes.
    if (!Number.isFinite(value)) throw new Error("JSON has no NaN or infinity");
    return JSON.stringify(value);
  }
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value)) throw new Error("lone surrogate in a string");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
  if (typeof value === "object") {
    // Array.prototype.sort compares strings by UTF-16 code units, as RFC 8785 asks.
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return "{" + keys.map((k) => canonicalize(k) + ":" + canonicalize(value[k])).join(",") + "}";
  }
  throw new Error(`cannot canonicalize a ${typeof value}`);
}
