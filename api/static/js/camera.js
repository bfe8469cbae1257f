// Reading QR codes: from the camera (frames sampled a few times a second) or from a
// photo, decoded by the vendored jsQR (Apache-2.0, static/vendor/jsQR.LICENSE), which the
// scanner page loads as a classic script. On the page's own thread: a worker's script
// loads would bypass the service worker's offline copy in some browsers.

const MAX_SIDE = 800; // pixels: enough for a label's code, little work for a cheap phone

function decodePixels(image) {
  const found = globalThis.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
  return found ? found.data : null;
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
  const bitmap = await createImageBitmap(file);
  try {
    return decodePixels(pixels(bitmap, bitmap.width, bitmap.height));
  } finally {
    bitmap.close();
  }
}

// Starts the back camera in `video`; calls onCode(text) once, for the first code read,
// and stops. Returns stop().
export async function scan(video, onCode) {
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
        const text = decodePixels(pixels(video, video.videoWidth, video.videoHeight));
        if (text && running) {
          stop();
          onCode(text);
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  return stop;
}
