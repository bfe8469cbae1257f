// Reading QR codes: from the camera (frames sampled a few times a second) or from a
// photo, decoded by qr-worker.js.

const MAX_SIDE = 960; // pixels: enough for a label's code, little work for a cheap phone
let worker;

function decodePixels(image) {
  worker ??= new Worker("/static/js/qr-worker.js");
  return new Promise((resolve) => {
    worker.onmessage = ({ data }) => resolve(data);
    worker.postMessage({ width: image.width, height: image.height, data: image.data.buffer }, [image.data.buffer]);
  });
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
    return await decodePixels(pixels(bitmap, bitmap.width, bitmap.height));
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
        const text = await decodePixels(pixels(video, video.videoWidth, video.videoHeight));
        if (text && running) {
          stop();
          onCode(text);
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return stop;
}
