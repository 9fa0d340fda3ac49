// Language and large-text preferences, wired to buttons with data-action attributes.
import { currentLocale, setLocale } from "./i18n.js";

const TEXT_KEY = "yjs.textSize";

export async function initPreferences(root = document) {
  const html = document.documentElement;
  const applyText = (size) => {
    html.dataset.textSize = size;
    root.querySelectorAll('[data-action="toggle-text"]').forEach((b) => b.setAttribute("aria-pressed", String(size === "large")));
  };
  applyText(localStorage.getItem(TEXT_KEY) === "large" ? "large" : "normal");
  root.querySelectorAll('[data-action="toggle-text"]').forEach((button) =>
    button.addEventListener("click", () => {
      const next = html.dataset.textSize === "large" ? "normal" : "large";
      localStorage.setItem(TEXT_KEY, next);
      applyText(next);
    }),
  );
  root.querySelectorAll('[data-action="toggle-language"]').forEach((button) =>
    button.addEventListener("click", () => setLocale(currentLocale() === "en" ? "zh-CN" : "en", root)),
  );
  if (currentLocale() !== "zh-CN") await setLocale(currentLocale(), root);
}
