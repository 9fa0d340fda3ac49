// QR codes of links handed from one device to another (signing, hand-over), drawn as SVG.
// The encoder is qrcode-generator (Kazuhiko Arase, MIT licence), installed from npm
// (package.json) and served by the platform at /vendor/qrcode-generator/, never from a CDN.
// Byte mode with the text's UTF-8 bytes, error correction level M, the smallest version that fits.
import qrcode from "../vendor/qrcode-generator/qrcode.mjs";

/** The QR code of `text` as a square matrix of booleans (true = dark). */
export function qrEncode(text) {
  // the library's byte mode takes one byte per character: hand it the UTF-8 bytes that way
  let bytes = "";
  for (const b of new TextEncoder().encode(text)) bytes += String.fromCharCode(b);
  const qr = qrcode(0, "M");
  qr.addData(bytes, "Byte");
  qr.make();
  const size = qr.getModuleCount();
  return Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => qr.isDark(y, x)));
}

/** An SVG image of the QR code of `text` (quiet zone of 4 modules), labelled for screen readers. */
export function qrSvg(text, { label = "", pixels = 4 } = {}) {
  const m = qrEncode(text);
  const n = m.length + 8;
  let path = "";
  m.forEach((row, y) => row.forEach((dark, x) => { if (dark) path += `M${x + 4} ${y + 4}h1v1h-1z`; }));
  const esc = (s) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n} ${n}" width="${n * pixels}" height="${n * pixels}" role="img" aria-label="${esc(label)}" shape-rendering="crispEdges"><rect width="${n}" height="${n}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
}
