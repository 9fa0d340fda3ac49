// The one API client both channels use. Errors arrive as RFC 9457 problem documents.
// Unsafe requests carry the session's CSRF token (double submit of the readable yjs_csrf
// cookie); a 401 triggers one refresh of the session, then one retry. Every request says
// the reader's language (Accept-Language), so the API's messages come in that one language.
// `api()` sends through fetch; `upload()` sends a file through XMLHttpRequest, the one way to
// follow an upload's progress, and shares every rule above with it (requestHeaders, renewed, answer).
import { currentLocale } from "/shared/i18n.js";

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || (status === 0 ? "offline" : "http_error");
    this.errors = problem.errors || [];
    this.problem = problem;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

let refreshing = null;

/** Renew the session once, however many requests saw a 401 at the same time. */
export function refreshSession() {
  refreshing ||= fetch("/auth/refresh", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": cookie("yjs_csrf") } })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => setTimeout(() => { refreshing = null; }, 0));
  return refreshing;
}

let bearer = () => "";

/** A channel that keeps the session's bearer token in memory (the kiosk during a visit) names it here;
 * every same-origin /api/ request then carries it. Cookie sessions (the PWA) need nothing. */
export function authorizeWith(token) {
  bearer = token;
}

/** The headers of an API request: JSON in the reader's language, the caller's own, the CSRF token on
 * unsafe methods and the channel's bearer token (unless the caller gave one). */
export function requestHeaders(path, method = "GET", headers = {}) {
  const out = { Accept: "application/json", "Accept-Language": currentLocale(), ...headers };
  if (!SAFE.has(method) && cookie("yjs_csrf")) out["X-CSRF-Token"] = cookie("yjs_csrf");
  const token = path.startsWith("/api/") && !out.Authorization ? bearer() : "";
  if (token) out.Authorization = `Bearer ${token}`;
  return out;
}

/** Whether a request that was answered `status` is sent once more: a 401 renews the session first
 * (once per request, never for /auth/ itself). */
export async function renewed(status, path, retry) {
  return status === 401 && retry && !path.startsWith("/auth/") && refreshSession();
}

/** What an answer holds (JSON, text, or null for 204), or an ApiError when it is a failure. */
export function answer(status, type, text) {
  const data = status === 204 ? null : type.includes("json") ? JSON.parse(text) : text;
  if (status < 200 || status > 299) throw new ApiError(data && typeof data === "object" ? data : { detail: data }, status);
  return data;
}

const offline = () => new ApiError({ code: "offline", detail: "offline" }, 0);

/** Call the API. `form` sends a FormData body (multipart); `idempotent` adds an Idempotency-Key. */
export async function api(path, { method = "GET", body, form, headers = {}, idempotent = false, signal, retry = true } = {}) {
  const init = { method, headers: requestHeaders(path, method, headers), signal, credentials: "same-origin" };
  if (form !== undefined) init.body = form;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (idempotent && !init.headers["Idempotency-Key"]) init.headers["Idempotency-Key"] = idempotencyKey();
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw offline();
  }
  if (await renewed(response.status, path, retry)) {
    return api(path, { method, body, form, headers: init.headers, signal, retry: false });
  }
  return answer(response.status, response.headers.get("content-type") || "", response.status === 204 ? "" : await response.text());
}

/** POST a FormData as api() would, reporting `onprogress(loaded, total)` while the body goes up
 * (XMLHttpRequest: fetch tells nothing of an upload). Same-origin, so the session cookie goes with it;
 * `signal` aborts it (an AbortError, as with fetch). */
export function upload(path, form, { onprogress, signal, retry = true } = {}) {
  const sent = new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(requestHeaders(path, "POST"))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onprogress?.(event.loaded, event.total); };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = xhr.ontimeout = () => reject(offline());
    xhr.onabort = () => reject(new DOMException("The upload was aborted.", "AbortError"));
    if (signal?.aborted) return xhr.onabort();
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
  return sent.then(async (xhr) => {
    if (await renewed(xhr.status, path, retry)) return upload(path, form, { onprogress, signal, retry: false });
    return answer(xhr.status, xhr.getResponseHeader("content-type") || "", xhr.responseText);
  });
}
