// PWA shell: preferences, the start page's guide links, hash routing to the journey
// (loaded on demand so the start page stays small), the service worker with its update
// prompt, the offline banner and the outbox sync when the connection comes back.
import { initPreferences } from "/shared/prefs.js";
import { renderGuideLinks } from "/shared/guides.js";

const guides = document.querySelector('[data-testid="guides"]');
const start = document.getElementById("start-page");
const view = document.getElementById("view");
let journey = null;

async function route() {
  const hash = location.hash;
  if (!hash.startsWith("#/")) {
    view.hidden = true;
    view.replaceChildren();
    start.hidden = false;
    document.title = document.querySelector("#start-page h1").textContent;
    journey?.leave();
    return;
  }
  view.setAttribute("aria-busy", "true");
  start.hidden = true;
  view.hidden = false;
  journey ||= await import("/journey.js");
  await journey.render(hash, view);
}

await initPreferences();
window.addEventListener("hashchange", route);
document.addEventListener("localechange", () => {
  if (location.hash.startsWith("#/")) route();
  else renderGuideLinks(guides);
});
route();
renderGuideLinks(guides);

// Offline banner and outbox sync.
const offline = document.querySelector('[data-testid="offline-banner"]');
const showOffline = () => { offline.hidden = navigator.onLine; };
window.addEventListener("offline", showOffline);
window.addEventListener("online", async () => {
  showOffline();
  const { flushOutbox } = await import("/shared/drafts.js");
  flushOutbox();
});
showOffline();

// Service worker: offline shell; a waiting worker means a new version, offered to the user.
// Registered only once the page has painted: installing it fetches the whole shell, which on a
// first visit would otherwise compete with the page's own requests and hold up its first paint.
function afterFirstPaint(fn) {
  const later = () => setTimeout(fn, 0);
  if (!(window.PerformanceObserver?.supportedEntryTypes || []).includes("paint")) return setTimeout(fn, 1000);
  if (performance.getEntriesByName("first-contentful-paint").length) return later();
  const observer = new PerformanceObserver(() => { observer.disconnect(); later(); });
  observer.observe({ type: "paint", buffered: true });
}
if ("serviceWorker" in navigator) afterFirstPaint(() => {
  const banner = document.querySelector('[data-testid="update-banner"]');
  const offer = (worker) => {
    banner.hidden = false;
    banner.querySelector('[data-action="update"]').onclick = () => worker.postMessage({ type: "SKIP_WAITING" });
  };
  navigator.serviceWorker.register("/sw.js").then((reg) => {
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const worker = reg.installing;
      worker?.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
      });
    });
  }).catch(() => {});
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!banner.hidden && !reloading) { reloading = true; location.reload(); }
  });
});
