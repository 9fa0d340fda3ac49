// The self-service terminal (自助端). One visit at a time: ID card + face (人证比对) start a
// visitor session held in memory only; the visitor checks progress (numeric keypad), prints a
// receipt with a QR code, hands over to or from the phone, rates the visit (一次一评), and the
// wipe leaves nothing for the next visitor. No screen state is kept in the URL or in storage.
import { api, ApiError, authorizeWith } from "/shared/api.js";
import { currentLocale, formatDay, formatTime, loadMessages, matterHeading, pick, t as sharedT } from "/shared/i18n.js";
import { initPreferences } from "/shared/prefs.js";
import { qrSvg } from "/shared/qr.js";
import { h, once, tag, zhPart } from "/shared/ui.js";
import * as bridge from "./bridge.js";
import { idleTimer } from "./idle.js";
import { DIGITS, caseIdFromLink, formatPartial, parseNumber } from "./number.js";
import { restart, wipe } from "./wipe.js";

const params = new URLSearchParams(location.search);
const IDLE_SECONDS = clamp(Number(params.get("idle")) || 90, 5, 600);
const WARN_SECONDS = clamp(Number(params.get("warn")) || 20, 3, IDLE_SECONDS);
const POLL_MS = 700;
const LEVELS = [
  { level: 5, face: "😄", "zh-CN": "非常满意", en: "Very satisfied" },
  { level: 4, face: "🙂", "zh-CN": "满意", en: "Satisfied" },
  { level: 3, face: "😐", "zh-CN": "基本满意", en: "Fairly satisfied" },
  { level: 2, face: "🙁", "zh-CN": "不满意", en: "Dissatisfied" },
  { level: 1, face: "😞", "zh-CN": "非常不满意", en: "Very dissatisfied" },
];

const main = document.getElementById("main");
const live = document.getElementById("live-status");
const dialog = document.getElementById("idle-dialog");

// ---- the visit (memory only) ---------------------------------------------------------------------
let visit = null; // {token, name, visitRef, hall, region, terminal}
let card = null; // the ID card read for this visit
let handoffCaseId = null; // a case scanned from the phone, opened after identity
let digits = ""; // keypad entry
let terminal = null; // {access_token, until}
let current = attract;
let timer = null;
let ending = false;

function clamp(n, lo, hi) {
  return Math.min(hi, Math.max(lo, n));
}

// ---- messages ------------------------------------------------------------------------------------
let kioskMessages = {};
async function loadKioskMessages() {
  const locale = currentLocale();
  // Both catalogs at once: the attract screen waits for them.
  const [, loaded] = await Promise.all([
    loadMessages(locale),
    fetch(`/kiosk/messages/${locale}.json`).then((r) => r.json()).catch(() => ({})),
  ]);
  if (locale === currentLocale()) kioskMessages = loaded; // a later switch wins, whichever answer comes first
}
function kt(key, values = {}) {
  const text = kioskMessages[key] ?? sharedT(key);
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}
const label = (l) => (l ? (currentLocale() === "en" ? l.en : l.zh) : "");

function announce(text) {
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 50);
}

// ---- where the devices are ----------------------------------------------------------------------
// The bridge reports where its card reader, camera and scanner sit on this terminal model's front;
// the screen says so in words and lights the spot on a small drawing of the terminal.
let layout = null;
const SPOTS = { // x, y on a 120 × 160 drawing: screen 20..100 × 20..110, desk below it
  above_screen: [60, 10], below_screen_left: [32, 135], below_screen_center: [60, 135],
  below_screen_right: [88, 135], right_of_screen: [110, 65],
};
function deviceHint(device) {
  const hint = h("figure", { class: "device-hint", "data-testid": `where-${device}`, hidden: true });
  const draw = (position) => {
    const [x, y] = SPOTS[position] || [];
    if (x === undefined) return;
    const figure = kt("k.where.figure");
    hint.append(
      h("div", { class: "device-hint__picture", html: `<svg viewBox="0 0 120 160" width="120" height="160" role="img" aria-label="${figure}">`
        + '<rect x="4" y="2" width="112" height="156" rx="8" class="body"/><rect x="20" y="20" width="80" height="90" class="screen"/>'
        + `<rect x="8" y="122" width="104" height="26" rx="4" class="desk"/><circle cx="${x}" cy="${y}" r="9" class="spot"/></svg>` }),
      h("figcaption", {}, kt(`k.where.${device}`, { where: kt(`k.where.${position}`) })));
    hint.hidden = false;
  };
  if (layout) draw(layout[device]);
  else bridge.status().then((s) => { layout = s?.positions || {}; draw(layout[device]); }).catch(() => {});
  return hint;
}

// ---- screens -------------------------------------------------------------------------------------
let pollGeneration = 0;
let pollHandle = null;
function stopPolling() {
  pollGeneration += 1;
  clearTimeout(pollHandle);
}

/** Show a screen: `render` returns its nodes; the heading takes focus so it is read out. */
function show(render, name) {
  stopPolling();
  current = render;
  main.dataset.screen = name;
  main.replaceChildren(...render().filter(Boolean));
  const heading = main.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
    document.title = `${heading.textContent} - ${kt("kiosk.title")}`;
  }
  window.scrollTo(0, 0);
  if (name === "attract") timer.stop();
  else if (!timer.running) timer.start();
  else timer.reset();
}

const button = (testid, text, onclick, cls = "") => h("button", { type: "button", class: `button kiosk-button ${cls}`.trim(), "data-testid": testid, onclick }, text);
const endButton = () => button("end-visit", kt("k.end"), () => (visit ? showRating() : endVisit()), "button--secondary");
const homeButton = () => button("home", kt("k.home"), () => endVisit(), "button--secondary");
const errorPanel = (text) => h("div", { class: "panel--error", role: "alert", "data-testid": "error" }, text);
const qrBlock = (url, caption, testid) => h("div", { class: "qr-block" }, h("div", { class: "qr", "data-testid": testid, "data-url": url, html: qrSvg(url, { label: caption, pixels: 8 }) }), h("p", {}, caption));

function problemText(error) {
  if (error instanceof ApiError && error.code === "registration_lookup_unavailable") return kt("k.error.registration");
  if (error instanceof bridge.BridgeError) return error.status && error.message !== error.code ? error.message : kt("k.error.bridge");
  return error?.message || String(error);
}

/** Ask `fn` every POLL_MS until it returns false or the screen changes. */
function poll(fn) {
  const generation = pollGeneration;
  const run = async () => {
    let again = true;
    try {
      again = await fn();
    } catch {
      again = true;
    }
    if (again !== false && generation === pollGeneration) pollHandle = setTimeout(run, POLL_MS);
  };
  pollHandle = setTimeout(run, POLL_MS);
}

// attract: what the terminal shows between visitors
function attract() {
  const guides = h("ul", { class: "guide-grid", "data-testid": "guides", "aria-labelledby": "guides-heading", "aria-busy": "true" });
  api("/api/v1/catalog").then((catalog) => {
    guides.replaceChildren(...(catalog.entity_types || []).map((type) => h("li", {}, button(`guide-${type.code}`, pick(type), () => show(() => guideScreen(type), "guide"), "button--secondary"))));
    guides.setAttribute("aria-busy", "false");
  }).catch(() => { guides.replaceChildren(h("li", { class: "muted" }, sharedT("start.unavailable"))); guides.setAttribute("aria-busy", "false"); });
  return [
    h("h1", {}, kt("k.attract.title")),
    h("p", { class: "lead" }, kt("k.attract.lead")),
    h("div", { class: "big-actions" },
      h("button", { type: "button", class: "button kiosk-button", "data-testid": "start-card", onclick: () => show(cardScreen, "card") }, kt("k.attract.card"), h("small", {}, kt("k.attract.card.hint"))),
      button("start-scan", kt("k.attract.scan"), () => show(scanScreen, "scan"), "button--secondary"),
      button("start-phone", kt("k.attract.phone"), () => show(phoneScreen, "phone"), "button--secondary")),
    h("h2", { id: "guides-heading" }, kt("k.attract.guides")),
    guides,
  ];
}

// a guide is long text: hand it to the phone
function guideScreen(type) {
  const url = `${location.origin}/api/v1/guides/${encodeURIComponent(type.code)}?format=html`;
  return [h("h1", {}, pick(type)), h("p", { class: "lead" }, kt("k.phone.lead")), qrBlock(url, kt("k.phone.qr"), "guide-qr"), h("div", { class: "actions" }, homeButton())];
}

function phoneScreen() {
  return [h("h1", {}, kt("k.phone.title")), h("p", { class: "lead" }, kt("k.phone.lead")), qrBlock(`${location.origin}/`, kt("k.phone.qr"), "phone-qr"), h("div", { class: "actions" }, homeButton())];
}

// hand-off from the phone: the PWA's QR code carries the case link (no secret); identity follows
function scanScreen(message = "") {
  poll(async () => {
    const text = await bridge.readScan();
    if (!text) return true;
    const id = caseIdFromLink(text);
    if (!id) {
      show(() => scanScreen(kt("k.scan.invalid")), "scan");
      return false;
    }
    handoffCaseId = id;
    show(() => cardScreen(kt("k.scan.read")), "card");
    return false;
  });
  return [
    h("h1", {}, kt("k.scan.title")),
    message ? errorPanel(message) : null,
    h("p", { class: "lead" }, kt("k.scan.lead")),
    deviceHint("scanner"),
    h("p", { class: "waiting", "data-testid": "scan-waiting" }, kt("k.scan.waiting")),
    h("div", { class: "actions" }, homeButton()),
  ];
}

function cardScreen(notice = "") {
  poll(async () => {
    const read = await bridge.readCard();
    if (!read) return true;
    card = read;
    announce(kt("k.card.read"));
    show(faceScreen, "face");
    return false;
  });
  return [
    h("h1", {}, kt("k.card.title")),
    notice ? h("div", { class: "panel panel--ok", "data-testid": "notice" }, notice) : null,
    h("p", { class: "lead" }, kt("k.card.lead")),
    deviceHint("card_reader"),
    h("p", { class: "waiting", "data-testid": "card-waiting" }, kt("k.card.waiting")),
    h("div", { class: "actions" }, homeButton()),
  ];
}

async function terminalAuth() {
  if (!terminal || terminal.until < Date.now()) {
    const pair = await bridge.terminalToken();
    terminal = { access_token: pair.access_token, until: Date.now() + (pair.expires_in - 30) * 1000 };
  }
  return { Authorization: `Bearer ${terminal.access_token}` };
}

function faceScreen(error = "") {
  const start = button("start-face", kt("k.face.start"), (event) => once(event.currentTarget, kt("k.face.busy"), async () => {
    try {
      const frames = await bridge.captureFrames(3);
      const headers = await terminalAuth();
      const started = await api("/api/v1/kiosk/sessions", { method: "POST", body: { id_number: card.id_number, name: card.name, frames }, headers, retry: false });
      visit = { token: started.tokens.access_token, name: started.name, visitRef: started.verification_id, idle: started.idle_timeout_s };
      const me = await visitorApi("/api/v1/me");
      Object.assign(visit, { hall: me.hall || "", region: (me.regions || [])[0] || "", terminal: me.terminal_id || "", enterprises: me.enterprises || [] });
      card = null; // the session now stands for the card; forget the card's fields
      if (handoffCaseId) await openCase(handoffCaseId);
      else show(menu, "menu");
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) terminal = null;
      show(() => faceScreen(e.code === "face_mismatch" ? kt("k.face.failed") : kt("k.error", { reason: problemText(e) })), "face");
    }
  }));
  return [
    h("h1", {}, kt("k.face.title")),
    error ? errorPanel(error) : null,
    h("p", { class: "lead" }, kt("k.face.lead")),
    deviceHint("camera"),
    h("div", { class: "actions" }, error ? (start.textContent = kt("k.face.retry"), start) : start, homeButton()),
  ];
}

/** Call the API as the visitor (bearer token in memory); an ended session ends the visit. */
async function visitorApi(path, options = {}) {
  try {
    return await api(path, { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${visit.token}` }, retry: false });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      endVisit();
      throw error;
    }
    throw error;
  }
}

// The PWA's journey (pwa/journey.js) reused for a draft: its API calls (and its uploads) go through
// the shared client, which authenticates by cookie; during a visit every /api/ request it sends
// carries the visitor's bearer token instead (held in memory, never in a cookie).
authorizeWith(() => visit?.token || "");

let journey = null;
let journeyRoot = null;
const here = () => location.pathname + location.search;

/** Show a journey page (hash route of the PWA) inside the kiosk, without adding history entries. */
async function openJourney(hash) {
  if (!journey) {
    journey = await import("/journey.js");
    // the journey's own redirects (after a save, a pre-check) replace the entry too: a visit leaves no history
    journey.navigateWith((to) => { history.replaceState(null, "", here() + to); journey.render(to, journeyRoot); });
  }
  stopPolling();
  current = () => { openJourney(location.hash || hash); return []; };
  main.dataset.screen = "journey";
  journeyRoot = h("div", { "data-testid": "journey" });
  journeyRoot.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link) return;
    event.preventDefault();
    const href = link.getAttribute("href");
    if (href.startsWith("#/")) {
      history.replaceState(null, "", here() + href);
      journey.render(href, journeyRoot);
      return;
    }
    // Any other page (a provider's signing or face page, a document) would leave the kiosk and
    // the visit with it: hand it to the phone instead.
    const url = new URL(href, location.href).href;
    journeyRoot.querySelector('[data-testid="link-handoff"]')?.remove();
    const panel = h("div", { class: "notice", role: "region", tabindex: "-1", "aria-label": kt("k.link.title"), "data-testid": "link-handoff" },
      h("h2", {}, kt("k.link.title")), h("p", {}, kt("k.link.lead")), qrBlock(url, link.textContent.trim() || kt("k.link.title"), "link-qr"),
      button("link-close", kt("k.link.close"), () => panel.remove(), "button--secondary"));
    link.closest("p, li, div")?.after(panel);
    panel.focus();
  });
  main.replaceChildren(
    h("div", { class: "actions" }, button("back-menu", kt("k.case.back"), () => { journey.leave(); history.replaceState(null, "", here()); show(menu, "menu"); }, "button--secondary"), endButton()),
    journeyRoot,
  );
  history.replaceState(null, "", here() + hash);
  timer.reset();
  await journey.render(hash, journeyRoot);
}
window.addEventListener("hashchange", () => {
  if (visit && main.dataset.screen === "journey" && location.hash.startsWith("#/")) {
    const hash = location.hash;
    history.replaceState(null, "", here() + hash);
    journey.render(hash, journeyRoot);
  } else if (location.hash) {
    history.replaceState(null, "", here());
  }
});

function menu() {
  return [
    h("h1", { "data-testid": "greeting" }, kt("k.menu.title", { name: visit.name })),
    h("p", { class: "lead" }, kt("k.menu.lead")),
    h("div", { class: "big-actions" },
      h("button", { type: "button", class: "button kiosk-button", "data-testid": "menu-mine", onclick: (event) => once(event.currentTarget, kt("k.busy"), openMine) }, kt("k.menu.mine"), h("small", {}, kt("k.menu.mine.hint"))),
      h("button", { type: "button", class: "button kiosk-button button--secondary", "data-testid": "menu-progress", onclick: () => { digits = ""; show(progressScreen, "progress"); } }, kt("k.menu.progress"), h("small", {}, kt("k.menu.progress.hint"))),
      h("button", { type: "button", class: "button kiosk-button button--secondary", "data-testid": "menu-apply", onclick: () => show(applyScreen, "apply") }, kt("k.menu.apply"), h("small", {}, kt("k.menu.apply.hint"))),
      button("menu-end", kt("k.menu.end"), () => showRating(), "button--secondary")),
  ];
}

// 我的申请: after card and face the visitor's own cases, one touch each; no number to type
async function openMine() {
  try {
    const cases = await visitorApi("/api/v1/cases");
    show(() => mineScreen(cases), "mine");
  } catch (e) {
    if (visit) show(() => progressScreen(kt("k.error", { reason: problemText(e) })), "progress");
  }
}

function mineScreen(cases) {
  const kind = (c) => (c.status === "completed" ? "done" : c.status === "draft" ? "todo" : c.status === "action_required" ? "warn" : "progress");
  return [
    h("h1", {}, kt("k.menu.mine")),
    cases.length ? h("ul", { class: "status-list", "data-testid": "my-cases" }, cases.map((c) => h("li", {},
      button(`mine-${c.id}`, [zhPart(c.enterprise_name), h("small", {}, c.number || kt("k.mine.draft"))], () => openCase(c.id), "button--secondary kiosk-case"),
      tag(label(c.status_label), kind(c))))) : h("p", { class: "lead", "data-testid": "my-cases-none" }, kt("k.mine.none")),
    h("div", { class: "actions" }, button("menu-progress-by-number", kt("k.menu.progress"), () => { digits = ""; show(progressScreen, "progress"); }, "button--secondary"),
      button("back-menu", kt("k.case.back"), () => show(menu, "menu"), "button--secondary"), endButton()),
  ];
}

// progress lookup with the on-screen keypad (digits only; the check digit is verified here)
function progressScreen(error = "") {
  const display = h("output", { id: "case-number", class: "number-display", "data-testid": "case-number", "data-empty": String(!digits), "aria-labelledby": "case-number-label" }, digits ? formatPartial(digits) : "ZX");
  const count = h("p", { class: "muted", "aria-live": "polite", "data-testid": "digit-count" }, kt("k.progress.digits", { count: digits.length }));
  const update = () => {
    display.textContent = digits ? formatPartial(digits) : "ZX";
    display.dataset.empty = String(!digits);
    count.textContent = kt("k.progress.digits", { count: digits.length });
  };
  const key = (value, text = value, aria = null, cls = "") => h("button", { type: "button", class: `button button--secondary ${cls}`.trim(), "data-testid": `key-${value}`, "aria-label": aria, onclick: () => {
    if (value === "del") digits = digits.slice(0, -1);
    else if (value === "clear") digits = "";
    else if (digits.length < DIGITS) digits += value;
    update();
  } }, text);
  const search = button("search", kt("k.progress.search"), (event) => once(event.currentTarget, kt("k.busy"), async () => {
    const number = parseNumber(digits);
    if (!number) return show(() => progressScreen(kt("k.progress.invalid")), "progress");
    try {
      const [hit] = await visitorApi(`/api/v1/cases?number=${encodeURIComponent(number)}`);
      if (!hit) return show(() => progressScreen(kt("k.progress.notFound")), "progress");
      await openCase(hit.id);
    } catch (e) {
      if (visit) show(() => progressScreen(kt("k.error", { reason: problemText(e) })), "progress");
    }
    return undefined;
  }));
  return [
    h("h1", {}, kt("k.progress.title")),
    error ? errorPanel(error) : null,
    h("div", { class: "split" },
      h("div", {},
        h("p", { id: "case-number-label", class: "label--bold" }, kt("k.progress.label")),
        h("p", { class: "hint" }, kt("k.progress.hint")),
        display, count),
      h("div", { class: "keypad", role: "group", "aria-label": kt("k.progress.label") },
        ..."123456789".split("").map((d) => key(d)),
        key("clear", kt("k.progress.clear"), null, "key--word"), key("0"), key("del", "⌫", kt("k.progress.delete")))),
    h("div", { class: "actions" }, search, button("back-menu", kt("k.case.back"), () => show(menu, "menu"), "button--secondary"), endButton()),
  ];
}

async function openCase(id) {
  handoffCaseId = null;
  try {
    const view = await visitorApi(`/api/v1/cases/${encodeURIComponent(id)}`);
    view.items ||= []; // a draft has none yet
    show(() => caseScreen(view), "case");
  } catch (e) {
    if (visit) show(() => progressScreen(e.status === 404 ? kt("k.progress.notFound") : kt("k.error", { reason: problemText(e) })), "progress");
  }
}

const caseLink = (view) => `${location.origin}/#/case/${view.id}`;

// The same overview as the PWA's case page: each matter by the same heading, its status (coloured as
// there), what it closes (which bank account, which seals), when it is promised or was completed.
const ITEM_KIND = { completed: "done", rejected: "cannot", cancelled: "cannot", correction_requested: "warn", dispatch_failed: "warn", withdrawn: "cannot", waiting: "todo", queued: "todo" };
const itemWhen = (i) => (i.closed_at ? sharedT("case.closedOn", { date: formatDay(i.closed_at) })
  : i.due_on ? sharedT("case.dueOn", { date: formatDay(i.due_on) }) : "");

function itemRow(i) {
  return h("li", { "data-testid": `kiosk-item-${i.ref}`, "data-status": i.status },
    h("span", { class: "status-list__name" }, matterHeading(i, { account: !i.subject }), i.subject ? h("small", { "data-testid": "matter-subject" }, label(i.subject)) : null,
      itemWhen(i) ? h("small", {}, itemWhen(i)) : null),
    tag(label(i.status_label), ITEM_KIND[i.status] || "progress"));
}

function receipt(view) {
  const lines = [
    { label: kt("k.case.number"), value: view.number || "—" },
    { label: kt("k.case.enterprise"), value: view.enterprise_name },
    { label: kt("k.case.status"), value: label(view.status_label) },
    ...(view.promised_days ? [{ label: sharedT("case.promised"), value: sharedT("case.promisedDays", { n: view.promised_days }) }] : []),
    ...view.items.map((i) => ({ label: [matterHeading(i, { account: !i.subject }), label(i.subject)].filter(Boolean).join(" · "), value: [label(i.status_label), itemWhen(i)].filter(Boolean).join(" · ") })),
    { label: kt("k.receipt.terminal"), value: visit.terminal },
    { label: kt("k.receipt.printedAt"), value: formatTime(Date.now(), { dateStyle: "medium", timeStyle: "short", hour12: false }) },
  ];
  return { title: kt(view.number ? "k.receipt.title" : "k.receipt.draftTitle"), lines, qr: caseLink(view), qr_caption: kt("k.receipt.qr"), footer: kt("k.receipt.footer") };
}

function caseScreen(view, message = null) {
  const rows = [
    [kt("k.case.number"), view.number || "—", "case-view-number"],
    [kt("k.case.enterprise"), zhPart(view.enterprise_name), "case-view-enterprise"],
    [kt("k.case.status"), label(view.status_label), "case-view-status"],
  ];
  const phone = h("div", { hidden: true, "data-testid": "case-phone" }, h("p", {}, kt("k.case.phone.lead")), qrBlock(caseLink(view), kt("k.case.phone.qr"), "case-qr"));
  const print = button("print", kt("k.case.print"), (event) => once(event.currentTarget, kt("k.case.printing"), async () => {
    try {
      await bridge.printReceipt(receipt(view));
      show(() => caseScreen(view, { ok: true, text: kt("k.case.printed") }), "case");
      announce(kt("k.case.printed"));
    } catch (e) {
      show(() => caseScreen(view, { ok: false, text: kt("k.case.printFailed", { reason: e.message || problemText(e) }) }), "case");
    }
  }));
  return [
    h("h1", {}, kt("k.case.title")),
    message ? (message.ok ? h("div", { class: "panel panel--ok", role: "status", "data-testid": "printed" }, message.text) : errorPanel(message.text)) : null,
    h("dl", { class: "summary", "data-testid": "case-summary" }, rows.map(([k, v, id]) => h("div", { class: "summary__row" }, h("dt", {}, k), h("dd", { "data-testid": id }, v)))),
    view.status === "draft" ? h("p", { class: "notice" }, kt("k.case.draft")) : null,
    view.items.length ? h("h2", {}, kt("k.case.items")) : null,
    view.items.length ? h("ul", { class: "status-list", "data-testid": "case-items" }, view.items.map(itemRow)) : null,
    h("div", { class: "actions" },
      view.number ? print : null,
      view.status === "draft" ? button("continue-here", kt("k.case.continueHere"), () => openJourney(`#/case/${view.id}/tasks`)) : null,
      button("show-phone-qr", kt("k.case.phone"), (event) => { phone.hidden = false; event.currentTarget.setAttribute("aria-expanded", "true"); phone.querySelector("p").focus?.(); }, "button--secondary"),
      button("back-menu", kt("k.case.back"), () => show(menu, "menu"), "button--secondary"),
      endButton()),
    phone,
  ];
}

// a new application: start the draft here for an enterprise the visitor may act for, continue on the phone
function applyScreen(error = "") {
  const enterprises = visit.enterprises || [];
  return [
    h("h1", {}, kt("k.apply.title")),
    error ? errorPanel(error) : null,
    h("p", { class: "lead" }, kt("k.apply.lead")),
    h("div", { class: "big-actions" }, enterprises.map((e) => button(`apply-${e.uscc}`, zhPart(e.enterprise_name), (event) => once(event.currentTarget, kt("k.busy"), async () => {
      try {
        const view = await visitorApi("/api/v1/cases", { method: "POST", body: { uscc: e.uscc, channel: "kiosk" } });
        view.items ||= [];
        show(() => caseScreen(view), "case");
        main.querySelector('[data-testid="show-phone-qr"]').click();
      } catch (err) {
        if (visit) show(() => applyScreen(kt("k.error", { reason: problemText(err) })), "apply");
      }
    }), "button--secondary"))),
    qrBlock(`${location.origin}/`, kt("k.phone.qr"), "apply-qr"),
    h("div", { class: "actions" }, button("back-menu", kt("k.case.back"), () => show(menu, "menu"), "button--secondary"), endButton()),
  ];
}

// 好差评, 一次一评: one tap, five levels, then the wipe
function showRating() {
  show(() => [
    h("h1", {}, kt("k.rate.title")),
    h("p", { class: "lead" }, kt("k.rate.lead")),
    h("div", { class: "rating", role: "group", "aria-label": kt("k.rate.title") }, LEVELS.map((l) => h("button", { type: "button", class: "button button--secondary kiosk-button", "data-testid": `rate-${l.level}`, onclick: (event) => once(event.currentTarget, kt("k.busy"), async () => {
      try {
        // the session proves the visit: it issues a one-time token, which this one rating spends
        const { visit_token } = await visitorApi("/api/v1/ratings/visit-tokens", { method: "POST" });
        await visitorApi("/api/v1/ratings/visits", { method: "POST", body: { visit_token, level: l.level } });
      } catch {
        /* a failed rating must not keep the visitor's data on screen */
      }
      show(() => [h("h1", { "data-testid": "thanks" }, kt("k.rate.thanks")), h("p", { class: "lead" }, kt("k.rate.bye"))], "thanks");
      setTimeout(endVisit, 2500);
    }) }, h("span", { class: "face", "aria-hidden": "true" }, l.face), pick(l)))),
    h("div", { class: "actions" }, button("rate-skip", kt("k.rate.skip"), () => endVisit(), "button--secondary")),
  ], "rating");
}

/** End the visit: end the session, wipe everything, load a fresh page. */
async function endVisit() {
  if (ending) return;
  ending = true;
  timer.stop();
  stopPolling();
  const token = visit?.token;
  visit = null;
  card = null;
  handoffCaseId = null;
  digits = "";
  journey?.leave();
  main.replaceChildren(h("p", { class: "waiting" }, kt("k.busy")));
  await wipe(token);
  restart();
}

// ---- start ---------------------------------------------------------------------------------------
timer = idleTimer({
  totalSeconds: IDLE_SECONDS,
  warnSeconds: WARN_SECONDS,
  dialog,
  onTimeout: () => endVisit(),
  format: (s) => kt("k.idle.text", { seconds: s }),
  announce: (s) => kt("k.idle.announce", { seconds: s }),
});
dialog.querySelector('[data-idle="continue"]').addEventListener("click", () => timer.reset());
dialog.querySelector('[data-idle="end"]').addEventListener("click", () => endVisit());

function localiseDialog() {
  dialog.querySelector("#idle-title").textContent = kt("k.idle.title");
  dialog.querySelector('[data-idle="continue"]').textContent = kt("k.idle.continue");
  dialog.querySelector('[data-idle="end"]').textContent = kt("k.idle.end");
}

// shared/prefs.js switches language on each tap; two quick taps race in shared/i18n.js
// (the slower catalog wins), so a tap while a switch is under way is ignored here.
let switching = false;
document.querySelectorAll('[data-action="toggle-language"]').forEach((toggle) => toggle.addEventListener("click", (event) => {
  if (switching) event.stopImmediatePropagation();
  switching = true;
  setTimeout(() => { switching = false; }, 3000); // a catalog that never loads must not lock the button
}));
document.addEventListener("localechange", () => { switching = false; });
await initPreferences();
await loadKioskMessages();
localiseDialog();
document.addEventListener("localechange", async () => {
  await loadKioskMessages();
  localiseDialog();
  show(current, main.dataset.screen);
});
// A page restored from the back/forward cache must not show an earlier visit.
window.addEventListener("pageshow", (event) => { if (event.persisted) restart(); });
if (location.hash) history.replaceState(null, "", here()); // a visit never starts from a URL
show(attract, "attract");
