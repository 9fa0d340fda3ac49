// Drafts that survive a lost connection: the last case view is kept on the device, edits
// made offline go to an IndexedDB outbox (each with an idempotency key and the `version`
// it was based on) and are sent, in order, when the connection comes back. A stale
// version (409 version_conflict) reloads the draft and re-applies the edit on top.
import { api, ApiError, idempotencyKey } from "./api.js";

const DB = "yjs-drafts";
const STORE = "outbox";

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const conn = await db();
  return new Promise((resolve, reject) => {
    const t = conn.transaction(STORE, mode);
    const result = fn(t.objectStore(STORE));
    t.oncomplete = () => { conn.close(); resolve(result.result ?? result); };
    t.onerror = () => { conn.close(); reject(t.error); };
  });
}

export const pending = () => tx("readonly", (s) => s.getAll());
const enqueue = (entry) => tx("readwrite", (s) => s.add(entry));
const drop = (seq) => tx("readwrite", (s) => s.delete(seq));

/** The case view last seen on this device (or null). */
export function cachedCase(id) {
  try { return JSON.parse(localStorage.getItem(`yjs.case.${id}`)); } catch { return null; }
}
export function rememberCase(view) {
  try { localStorage.setItem(`yjs.case.${view.id}`, JSON.stringify(view)); } catch { /* quota: the server copy is the truth */ }
  return view;
}

/** Per-draft notes kept on this device (confirmations, the submission's idempotency key ...). */
export function draftMeta(id) {
  try { return JSON.parse(localStorage.getItem(`yjs.meta.${id}`)) || {}; } catch { return {}; }
}
export function setDraftMeta(id, patch) {
  const next = { ...draftMeta(id), ...patch };
  localStorage.setItem(`yjs.meta.${id}`, JSON.stringify(next));
  return next;
}

function applyLocally(view, patch) {
  return { ...view, answers: { ...view.answers, ...(patch.answers || {}) }, form_data: { ...view.form_data, ...(patch.form_data || {}) } };
}

function notify() {
  pending().then((list) => document.dispatchEvent(new CustomEvent("outboxchange", { detail: { count: list.length } }))).catch(() => {});
}

async function send(caseId, patch, version, key) {
  try {
    return await api(`/api/v1/cases/${caseId}`, { method: "PATCH", body: { ...patch, version }, headers: { "Idempotency-Key": key } });
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "version_conflict") throw error;
    const fresh = await api(`/api/v1/cases/${caseId}`);
    return api(`/api/v1/cases/${caseId}`, { method: "PATCH", body: { ...patch, version: fresh.version }, headers: { "Idempotency-Key": idempotencyKey() } });
  }
}

// Refusals that say "not now" rather than "no": the edit stays on the device and goes later. The
// registration system not answering (503) is one: the server saved nothing, so nothing typed is lost.
const KEEP = new Set(["offline", "registration_lookup_unavailable"]);

/** Save part of a draft. Online: returns the server's view. Offline: queues it and returns the local view with `queued: true`. */
export async function saveDraft(view, patch) {
  const key = idempotencyKey();
  let reason = "offline";
  const queued = (await pending().catch(() => [])).some((e) => e.caseId === view.id);
  if (!queued) {
    try {
      return { view: rememberCase(await send(view.id, patch, view.version, key)), queued: false };
    } catch (error) {
      if (!(error instanceof ApiError) || !KEEP.has(error.code)) throw error;
      reason = error.code;
    }
  }
  await enqueue({ caseId: view.id, patch, version: view.version, key, at: Date.now() });
  notify();
  return { view: rememberCase(applyLocally(view, patch)), queued: true, reason };
}

let flushing = null;

/** Send every queued edit in order; stops at the first that cannot go (still offline). */
export function flushOutbox() {
  flushing ||= (async () => {
    let sent = 0;
    try {
      for (const entry of await pending()) {
        let view;
        try {
          view = await send(entry.caseId, entry.patch, entry.version, entry.key);
        } catch (error) {
          if (error instanceof ApiError && KEEP.has(error.code)) break;
          if (error instanceof ApiError && error.status === 401) break; // log in again first; keep the edit
          await drop(entry.seq); // refused for good (e.g. no longer a draft): keep the server's truth
          document.dispatchEvent(new CustomEvent("outboxrejected", { detail: { entry, error } }));
          continue;
        }
        rememberCase(view);
        await drop(entry.seq);
        sent++;
      }
    } finally {
      flushing = null;
      notify();
    }
    if (sent) document.dispatchEvent(new CustomEvent("outboxsynced", { detail: { sent } }));
    return sent;
  })();
  return flushing;
}
