// Enrolling this phone (/enroll#CODE, the link of the printed QR): the phone makes its
// own Ed25519 key, sends its public half with the one-time code and the password the
// officer chooses, and keeps the key and the session where the scanner (/scan) finds
// them (IndexedDB, as scanner.js keeps its own): the scanner opens ready to scan.
// The code travels in the URL's fragment, which browsers never send to a server; a
// phone whose camera app does not open links reads the QR here (the camera button).

import { call, words } from "./api.js";
import { encode } from "./b64.js";
import * as camera from "./camera.js";
import * as ed25519 from "./ed25519.js";
import { t } from "./i18n.js";
import * as idb from "./idb.js";

const form = document.getElementById("enroll");
const error = form.querySelector(".error");

const fromLink = decodeURIComponent(location.hash.slice(1));
if (fromLink) {
  form.elements.code.value = fromLink;
  history.replaceState(null, "", location.pathname); // the code leaves the address bar and history
}

// The QR holds <server>/enroll#CODE: the code is what follows "#".
const cameraButton = document.getElementById("camera");
let stopCamera = null;
cameraButton.addEventListener("click", async () => {
  if (stopCamera) {
    stopCamera();
    stopCamera = null;
    cameraButton.textContent = t("camera");
    return;
  }
  try {
    cameraButton.textContent = t("stop_camera");
    stopCamera = await camera.scan(document.getElementById("video"), (text) => {
      stopCamera = null;
      cameraButton.textContent = t("camera");
      form.elements.code.value = text.includes("#") ? decodeURIComponent(text.split("#")[1]) : text;
      form.elements.password.focus();
    });
  } catch (failure) {
    stopCamera = null;
    cameraButton.textContent = t("camera");
    fail(t("camera_denied", { detail: failure.message }));
  }
});

function fail(message) {
  error.textContent = message;
  error.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  if (data.get("password") !== data.get("again")) return fail(t("enroll_mismatch"));
  const button = form.querySelector("button");
  button.disabled = true;
  button.textContent = t("enroll_working");
  try {
    const key = await ed25519.generate();
    const done = await call("/api/v1/enroll", {
      method: "POST",
      json: { code: data.get("code").trim(), password: data.get("password"), public_key: encode(key.public), name: "Pemindai web Jejak" },
    });
    await idb.put(
      "kv",
      { username: done.username, token: done.access_token, role: done.role, jurisdiction: done.jurisdiction,
        expires: Date.now() + done.expires_in * 1000 },
      "session",
    );
    if (done.device) {
      await idb.put("kv", { id: done.device, log: done.log_id, key, seq: 0, nrp: done.nrp ?? null }, `device:${done.username}`);
    }
    form.hidden = true;
    document.getElementById("enrolled").hidden = false;
    document.getElementById("enrolled-who").textContent = t("enroll_done", { user: done.username });
    if (done.revoked_devices.length) {
      const revoked = document.getElementById("enrolled-revoked");
      revoked.textContent = t("enroll_revoked", { devices: done.revoked_devices.join(", ") });
      revoked.hidden = false;
    }
  } catch (failure) {
    fail(words(failure));
  } finally {
    button.disabled = false;
    button.textContent = t("enroll_submit");
  }
});
