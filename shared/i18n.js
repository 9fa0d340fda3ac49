// Message catalogs: zh-CN is written into the HTML (first paint needs no script);
// other locales replace every [data-i18n] text and [data-i18n-label] aria-label.
const STORAGE_KEY = "yjs.locale";
export const LOCALES = ["zh-CN", "en"];
let messages = {};

export function currentLocale() {
  const saved = localStorage.getItem(STORAGE_KEY);
  return LOCALES.includes(saved) ? saved : "zh-CN";
}

export function t(key, params = {}) {
  // one of a count ({n}, or {days} where there is no n): "1 working day", where the catalog has a ".one" form
  const count = params.n ?? params.days;
  const text = (Number(count) === 1 ? messages[`${key}.one`] : undefined) ?? messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => params[name] ?? "");
}

let loaded = "";
let wanted = "";

/** Load the current locale's catalog once (zh-CN pages need it only for script-made text). */
export async function loadMessages(locale = currentLocale()) {
  if (loaded === locale) return;
  wanted = locale;
  const response = await fetch(`/shared/messages/${locale}.json`);
  const catalog = await response.json();
  if (wanted !== locale) return; // a later switch won the race: its catalog applies, not this one
  messages = catalog;
  loaded = locale;
}

export async function setLocale(locale, root = document) {
  await loadMessages(locale);
  if (wanted !== locale) return;
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nLabel)); });
  document.dispatchEvent(new CustomEvent("localechange", { detail: { locale } }));
}

/** Pick the text for the current locale from a bilingual record ({zh-CN, en} or name/name_en). */
export function pick(record, field = "name") {
  const en = currentLocale() === "en";
  if (record == null) return "";
  if (typeof record === "string") return record;
  if (record["zh-CN"] !== undefined) return en ? record.en ?? record["zh-CN"] : record["zh-CN"];
  if (record.zh !== undefined) return en ? record.en || record.zh : record.zh;
  const value = record[field];
  if (value && typeof value === "object") return pick(value);
  return en ? record[`${field}_en`] ?? value : value;
}

// Every time is shown in China Standard Time, whatever the device's zone: case numbers, staff
// pages and agencies count days there, so a case numbered on 3 December reads 3 December.
export const TIME_ZONE = "Asia/Shanghai";

/** A moment (ms since the epoch) as date and time in Asia/Shanghai, in the current locale. */
export function formatTime(ms, options = { dateStyle: "medium", timeStyle: "short" }) {
  return ms ? new Date(ms).toLocaleString(currentLocale(), { ...options, timeZone: TIME_ZONE }) : "";
}

/** A calendar date (YYYY-MM-DD, a date in China) in the current locale. */
export function formatDate(iso, options = { dateStyle: "medium" }) {
  return iso ? new Date(`${iso}T12:00:00+08:00`).toLocaleDateString(currentLocale(), { ...options, timeZone: TIME_ZONE }) : "";
}

const DAY = { "zh-CN": { month: "numeric", day: "numeric" }, en: { month: "short", day: "numeric" } };

/** A day at a glance, in Asia/Shanghai: "Dec 3" / "12/3", with the year when it is not this year
 * in China ("Jan 5, 2027" / "2027/1/5"). ``day``: a moment (ms since the epoch) or a date in China (YYYY-MM-DD). */
export function formatDay(day) {
  if (!day) return "";
  const at = typeof day === "number" ? new Date(day) : new Date(`${day}T12:00:00+08:00`);
  const year = (d) => d.toLocaleDateString("en-CA", { timeZone: TIME_ZONE }).slice(0, 4);
  const options = { ...DAY[currentLocale()], ...(year(at) === year(new Date()) ? {} : { year: "numeric" }) };
  return at.toLocaleDateString(currentLocale(), { ...options, timeZone: TIME_ZONE });
}

/** A matter's heading: the catalog's shorter heading where its official name is long for a phone's
 * line ("item.heading.<code>", then "<group>": "Tax clearance"; ".account" with the account's last
 * four digits), else the official name. The official name stays in the matter's details.
 * ``account: false`` where the item's subject (bank and number) is shown beside it, so the digits
 * are not said twice ("Bank account · Industrial Bank …0001", not "Account …0001 Industrial Bank …0001"). */
export function matterHeading(item, { account = true } = {}) {
  const group = item.code.startsWith("SI-") ? item.code : item.code.split("-")[0];
  const last4 = account ? item.account?.account_no?.slice(-4) : undefined;
  for (const key of [`item.heading.${item.code}`, `item.heading.${group}`]) {
    const text = (last4 ? messages[`${key}.account`] : undefined) ?? messages[key];
    if (text) return text.replace("{last4}", last4 ?? "");
  }
  return pick(item.name);
}
