// Ed25519 through WebCrypto, or through the vendored @noble/ed25519 where the browser
// lacks it (older Android WebViews). The fallback's secret key is plain bytes in
// IndexedDB: it cannot be made non-extractable, and the scanner says so.

let native; // whether WebCrypto has Ed25519, found out once

async function hasNative() {
  if (native === undefined) {
    try {
      const probe = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      native = Boolean(probe.privateKey);
    } catch {
      native = false;
    }
  }
  return native;
}

const noble = () => import("/static/vendor/noble-ed25519.js");

export async function verify(publicKey, signature, message) {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (await hasNative()) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }
  try {
    return await (await noble()).verifyAsync(signature, message, publicKey);
  } catch {
    return false; // malformed key or signature
  }
}

// A new device key: {private (CryptoKey, non-extractable, or secret bytes), public (32 bytes), native}.
export async function generate() {
  if (await hasNative()) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    return { private: pair.privateKey, public: raw, native: true };
  }
  const ed = await noble();
  const secret = ed.utils.randomSecretKey();
  return { private: secret, public: await ed.getPublicKeyAsync(secret), native: false };
}

export async function sign(key, message) {
  if (key.native) return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.private, message));
  return (await noble()).signAsync(message, key.private);
}
