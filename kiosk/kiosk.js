// Kiosk entry: preferences and the guide links; flows, idle wipe and the device bridge follow.
import { initPreferences } from "/shared/prefs.js";
import { renderGuideLinks } from "/shared/guides.js";

const guides = document.querySelector('[data-testid="guides"]');
await initPreferences();
await renderGuideLinks(guides);
document.addEventListener("localechange", () => renderGuideLinks(guides));
