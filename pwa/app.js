// PWA entry: preferences (language, large text) and the guide links on the start page.
import { initPreferences } from "/shared/prefs.js";
import { renderGuideLinks } from "/shared/guides.js";

const guides = document.querySelector('[data-testid="guides"]');
await initPreferences();
await renderGuideLinks(guides);
document.addEventListener("localechange", () => renderGuideLinks(guides));
