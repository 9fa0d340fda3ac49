// The wipe between visitors: end the visitor's session on the platform, then remove
// everything the browser could keep of the visit, then load a fresh document (which also
// drops every object the page held in memory). Each step runs even if an earlier one fails.
import { forgetVisitor } from "./bridge.js";

async function attempt(step) {
  try {
    await step();
  } catch {
    /* keep wiping */
  }
}

function expireReadableCookies() {
  for (const part of document.cookie.split(";")) {
    const name = part.split("=")[0].trim();
    if (!name) continue;
    for (const path of ["/", "/kiosk", "/kiosk/", "/auth"]) document.cookie = `${name}=; Max-Age=0; path=${path}; SameSite=Lax`;
  }
}

/** Wipe the visit. `accessToken` is the visitor's session (held in memory only). */
export async function wipe(accessToken) {
  const bearer = accessToken ? { Authorization: `Bearer ${accessToken}` } : {};
  if (accessToken) {
    await attempt(() => fetch("/api/v1/kiosk/sessions/end", { method: "POST", headers: bearer, credentials: "omit", keepalive: true }));
  }
  // Cookies are HttpOnly where they matter: only the server can clear them (logout answers with
  // expired Set-Cookie headers); the kiosk itself never logs in by cookie.
  await attempt(() => fetch("/auth/logout", { method: "POST", credentials: "same-origin", keepalive: true }));
  await attempt(expireReadableCookies);
  await attempt(() => localStorage.clear());
  await attempt(() => sessionStorage.clear());
  await attempt(async () => {
    const dbs = (await indexedDB.databases?.()) || [];
    await Promise.all(dbs.map((db) => new Promise((done) => {
      const request = indexedDB.deleteDatabase(db.name);
      request.onsuccess = request.onerror = request.onblocked = () => done();
    })));
  });
  await attempt(async () => {
    if (!("caches" in window)) return;
    await Promise.all((await caches.keys()).map((key) => caches.delete(key)));
  });
  await attempt(async () => {
    if (!navigator.serviceWorker) return;
    await Promise.all((await navigator.serviceWorker.getRegistrations()).map((r) => r.unregister()));
  });
  await attempt(forgetVisitor);
}

/** Replace the document (no history entry is left to go back to). */
export function restart() {
  location.replace(location.pathname + location.search);
}
