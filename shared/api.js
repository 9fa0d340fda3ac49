// The one API client both channels use. Errors arrive as RFC 9457 problem documents.
export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "http_error";
    this.errors = problem.errors || [];
    this.problem = problem;
  }
}

export function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export async function api(path, { method = "GET", body, headers = {}, idempotent = false, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (idempotent) init.headers["Idempotency-Key"] = headers["Idempotency-Key"] || idempotencyKey();
  const response = await fetch(path, init);
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(typeof data === "object" ? data : { detail: data }, response.status);
  return data;
}
