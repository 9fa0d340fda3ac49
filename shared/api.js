// The one API client both channels use. Errors arrive as RFC 9457 problem documents.
// Unsafe requests carry the session's CSRF token (double submit of the readable yjs_csrf
// cookie); a 401 triggers one refresh of the session, then one retry. Every request says
// the reader's language (Accept-Language), so the API's messages come in that one language.
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

/** Call the API. `form` sends a FormData body (multipart); `idempotent` adds an Idempotency-Key. */
export async function api(path, { method = "GET", body, form, headers = {}, idempotent = false, signal, retry = true } = {}) {
  const init = { method, headers: { Accept: "application/json", "Accept-Language": currentLocale(), ...headers }, signal, credentials: "same-origin" };
  if (form !== undefined) init.body = form;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (!SAFE.has(method) && cookie("yjs_csrf")) init.headers["X-CSRF-Token"] = cookie("yjs_csrf");
  if (idempotent && !init.headers["Idempotency-Key"]) init.headers["Idempotency-Key"] = idempotencyKey();
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError({ code: "offline", detail: "offline" }, 0);
  }
  if (response.status === 401 && retry && !path.startsWith("/auth/") && (await refreshSession())) {
    return api(path, { method, body, form, headers: init.headers, signal, retry: false });
  }
  const type = response.headers.get("content-type") || "";
  const data = response.status === 204 ? null : type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(data && typeof data === "object" ? data : { detail: data }, response.status);
  return data;
}
