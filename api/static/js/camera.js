// Reading QR codes and barcodes: from the camera (frames sampled a few times a second) or
// from a photo. The browser's own BarcodeDetector where it has one (Android's Chrome: QR
// and the seals' 1D barcodes); else the vendored jsQR (Apache-2.0,
// static/vendor/jsQR.LICENSE), fetched only when first needed, as a classic script (the
// service worker keeps it for use offline). On the page's own thread: a worker's script
// loads would bypass the service worker's offline copy in some browsers.

const MAX_SIDE = 800; // pixels: enough for a label's code, little work for a cheap phone
const FORMATS = ["qr_code", "code_128", "code_39", "ean_13", "data_matrix"];

let decoder = null; // a promise of (source, width, height) => text or null

function jsQR() {
  return new Promise((resolve, reject) => {
    if (globalThis.jsQR) return resolve(globalThis.jsQR);
    const script = document.createElement("script");
    script.src = "/static/vendor/jsQR.js";
    script.onload = () => resolve(globalThis.jsQR);
    script.onerror = () => reject(new Error("jsQR"));
    document.head.append(script);
  });
}

async function makeDecoder() {
  if ("BarcodeDetector" in globalThis) {
    const supported = await globalThis.BarcodeDetector.getSupportedFormats();
    const formats = FORMATS.filter((f) => supported.includes(f));
    if (formats.includes("qr_code")) {
      const detector = new globalThis.BarcodeDetector({ formats });
      return async (source) => (await detector.detect(source))[0]?.rawValue ?? null;
    }
  }
  const decode = await jsQR();
  return async (source, width, height) => {
    const image = pixels(source, width, height);
    return decode(image.data, image.width, image.height, { inversionAttempts: "dontInvert" })?.data ?? null;
  };
}

function decodeWith() {
  decoder ??= makeDecoder().catch((failure) => {
    decoder = null; // try again next time (the script may load once there is a network)
    throw failure;
  });
  return decoder;
}

function pixels(source, width, height) {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

export async function decodeFile(file) {
  const decode = await decodeWith();
  const bitmap = await createImageBitmap(file);
  try {
    return await decode(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

// Starts the back camera in `video` and calls onCode(text) for each code read; it stops
// after the first unless onCode returns true (more to read: a box's seals). Returns stop().
export async function scan(video, onCode) {
  const decode = await decodeWith();
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment", width: { ideal: 1280 } },
    audio: false,
  });
  let running = true;
  const stop = () => {
    running = false;
    stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
    video.hidden = true;
  };
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  (async function look() {
    while (running) {
      if (video.videoWidth) {
        const text = await decode(video, video.videoWidth, video.videoHeight);
        if (text && running && !onCode(text)) {
          stop();
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  return stop;
}
