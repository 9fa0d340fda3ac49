// The terminal's device bridge (card reader, camera, QR scanner, receipt printer).
// A real terminal runs it as a local service (http://127.0.0.1:<port>); the shell passes its
// address as ?bridge=<url>. Without it the page uses the test environment's simulator at
// /sandbox/device (same origin). Interface: backend/devicebridge/README.md.
const base = (() => {
  const given = new URLSearchParams(location.search).get("bridge");
  return given && /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(given) ? given.replace(/\/$/, "") : "/sandbox/device";
})();

export class BridgeError extends Error {
  constructor(code, detail, status = 0) {
    super(detail || code);
    this.code = code;
    this.status = status;
  }
}

async function call(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(base + path, {
      method,
      cache: "no-store",
      credentials: "omit", // the bridge never needs the visitor's cookies
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new BridgeError("bridge_unreachable", "");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new BridgeError(data?.code || "bridge_error", data?.detail || "", response.status);
  return data;
}

/** The ID card on the reader, or null while there is none. */
export async function readCard() {
  try {
    return await call("/card");
  } catch (error) {
    if (error.code === "no_card") return null;
    throw error;
  }
}

/** Which devices are ready, and where each sits on the terminal's front ({positions}). */
export const status = () => call("/status");
/** Camera frames (base64 JPEG) for 人证比对. */
export const captureFrames = (count = 3) => call("/camera/frames", { method: "POST", body: { count } }).then((d) => d.frames);
/** The last code the scanner read, or null. */
export const readScan = () => call("/scanner").then((d) => d?.text ?? null);
/** Print a receipt {title, lines:[{label, value}], qr, qr_caption, footer}. */
export const printReceipt = (job) => call("/printer/jobs", { method: "POST", body: job });
/** The visitor left: the bridge forgets the card and any scan. */
export const forgetVisitor = () => call("/session/clear", { method: "POST" }).catch(() => null);
/** The terminal's own credential: a bridge either hands out a signed assertion (exchanged at
 *  /auth/terminal/token) or, in the test environment, a terminal token directly. */
export async function terminalToken() {
  const answer = await call("/terminal/token", { method: "POST" });
  if (answer.assertion) {
    const response = await fetch("/auth/terminal/token", { method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ assertion: answer.assertion }) });
    if (!response.ok) throw new BridgeError("terminal_rejected", "", response.status);
    return response.json();
  }
  return answer;
}
