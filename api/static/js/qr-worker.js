// Decodes QR codes off the page's thread (a cheap phone stays responsive), with the
// vendored jsQR (Apache-2.0, static/vendor/jsQR.LICENSE). In: {width, height, data}
// (RGBA pixels); out: the code's text, or null.
importScripts("/static/vendor/jsQR.js");

self.onmessage = ({ data }) => {
  const found = self.jsQR(new Uint8ClampedArray(data.data), data.width, data.height, {
    inversionAttempts: "dontInvert",
  });
  self.postMessage(found ? found.data : null);
};
