// The applicant's journey, loaded when the start page hands over to a hash route (#/...).
// Every page is a function of the case view from the API (or, offline, the copy kept on
// the device); pages return nodes, `render` swaps them in, sets the title and moves focus.
import { api, ApiError, idempotencyKey, upload } from "/shared/api.js";
import { currentLocale, formatDate, formatDay, formatTime, loadMessages, matterHeading, pick, t } from "/shared/i18n.js";
import { announce, errorSummary, h, once, radios, summaryList, tag, taskList, zhPart } from "/shared/ui.js";
import { displayValue, fieldId, readFields, schemaFields, titleOf, validateFields } from "/shared/schema-form.js";
import { cachedCase, draftMeta, flushOutbox, pending, rememberCase, saveDraft, setDraftMeta } from "/shared/drafts.js";
import { qrSvg } from "/shared/qr.js";
import { fileUpload, uploadGroup } from "/shared/upload.js";

let me = null;
let catalog = null;
let eventTypes = null;
let cleanups = [];
let rootEl = null;
let currentHash = "";

const label = (l) => (l ? (currentLocale() === "en" ? l.en : l.zh) ?? l.zh ?? "" : "");
const fmtTime = (ms) => formatTime(ms);
const fmtDate = (iso) => formatDate(iso);
const later = (fn, ms) => { const id = setInterval(fn, ms); cleanups.push(() => clearInterval(id)); };

export function leave() {
  cleanups.forEach((fn) => fn());
  cleanups = [];
}

// How a route change happens: a new history entry in the PWA (the browser's Back works); the kiosk,
// which shows the journey inside its own screen and keeps no history, sets its own (navigateWith).
let go = (hash) => { location.hash = hash; };
export function navigateWith(fn) { go = fn; }

/** Go to a route; re-renders when it is already the current one. */
export function navigate(hash) {
  if (location.hash === hash) render(hash, rootEl);
  else go(hash);
}

export async function render(hash, root) {
  root.setAttribute("aria-busy", "true");
  leave();
  rootEl = root;
  currentHash = hash;
  await loadMessages();
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  root.setAttribute("aria-busy", "true");
  let nodes;
  try {
    nodes = await route(parts, params);
  } catch (error) {
    nodes = error instanceof ApiError && error.status === 401 ? loginPage() : errorPage(error);
  }
  if (nodes === null || currentHash !== hash) return; // redirected, or the user moved on
  root.replaceChildren(...[nodes].flat(Infinity).filter(Boolean));
  root.setAttribute("aria-busy", "false");
  const heading = root.querySelector("h1");
  const titleText = heading?.cloneNode(true);
  titleText?.querySelector(".caption")?.remove();
  document.title = `${titleText?.textContent || ""} - ${t("service.name")}`;
  const target = root.querySelector('[data-testid="error-summary"]') || heading;
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
  }
  const field = params.get("field");
  if (field) document.getElementById(fieldId([field]))?.focus();
  else window.scrollTo(0, 0);
  refreshBadge();
}

async function route(parts, params) {
  const [first, id, step, arg] = parts;
  if (first === "enterprises") return enterprisesPage();
  if (first === "cases") return casesPage();
  if (first === "notifications") return notificationsPage();
  if (first === "login") return loginPage();
  if (first !== "case" || !id) return notFoundPage();
  await getMe();
  const view = await loadCase(id);
  const pages = {
    undefined: casePage, q: questionPage, precheck: precheckPage, tasks: tasksPage, enterprise: enterprisePage, situation: situationPage,
    form: formPage, check: formCheckPage, materials: materialsPage, signatures: signaturesPage, face: facePage, submit: submitPage,
    done: donePage, withdraw: withdrawPage, correction: correctionPage, rate: ratePage,
  };
  const page = pages[step];
  if (!page) return notFoundPage();
  if (view.status !== "draft" && !["done", undefined, "withdraw", "correction", "rate"].includes(step)) return redirect(`#/case/${id}`);
  return page(view, arg, params);
}

function redirect(hash) {
  setTimeout(() => navigate(hash), 0);
  return null;
}

// ---- data -----------------------------------------------------------------------------------

async function getMe() {
  me ||= await api("/api/v1/me");
  return me;
}

// Texts follow the language the person reads the app in: a signed-in person's switch is saved too.
document.addEventListener("localechange", () => {
  if (!me?.person_id) return;
  const language = currentLocale() === "en" ? "en" : "zh-CN";
  api("/api/v1/notifications/preferences")
    .then((p) => p.language === language || api("/api/v1/notifications/preferences", { method: "PUT", body: { sms: p.sms, language } }))
    .catch(() => {});
});

async function getCatalog() {
  catalog ||= await api("/api/v1/catalog");
  return catalog;
}

/** Every timeline event type the backend names (live updates are sent under these names). */
async function getEventTypes() {
  eventTypes ||= await api("/api/v1/event-types");
  return eventTypes;
}

async function hasPending(id) {
  return (await pending().catch(() => [])).some((e) => e.caseId === id);
}

/** The case from the server; offline (or with edits still queued) the copy on this device. */
async function loadCase(id) {
  if (navigator.onLine && (await hasPending(id))) await flushOutbox();
  if (await hasPending(id)) {
    const local = cachedCase(id);
    if (local) return local;
  }
  try {
    return rememberCase(await api(`/api/v1/cases/${id}`));
  } catch (error) {
    const local = cachedCase(id);
    if (error instanceof ApiError && error.code === "offline" && local) return local;
    throw error;
  }
}

function missingAnswers(view) {
  return (view.plan_problems || []).filter((p) => p.code === "missing_answer").map((p) => p.field.replace(/^answers\./, "")).filter((k) => view.answers[k] === undefined);
}

async function signingStatus(id) {
  try {
    return await api(`/api/v1/cases/${id}/signatures`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return { unavailable: true, documents: [], complete: false, missing: [] };
    if (error instanceof ApiError && error.code === "offline") return { offline: true, documents: [], complete: false, missing: [] };
    throw error;
  }
}

/** The task list's own steps (enterprise checked, form confirmed, face) as the server keeps them, so every
 * device shows the same; offline, the copy last seen here. */
async function progressOf(id) {
  try {
    const progress = await api(`/api/v1/cases/${id}/progress`);
    setDraftMeta(id, { progress });
    return progress;
  } catch (error) {
    if (error instanceof ApiError && error.code === "offline") return draftMeta(id).progress || {};
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return {};
    throw error;
  }
}

async function markProgress(id, patch) {
  const progress = await api(`/api/v1/cases/${id}/progress`, { method: "PATCH", body: patch });
  setDraftMeta(id, { progress });
  return progress;
}

function uploadsNeeded(view) {
  return (view.plan?.materials || []).filter((m) => !m.waived && !m.physical && !m.online);
}

function taskStates(view, signing, progress) {
  const missing = missingAnswers(view);
  const hasPlan = Boolean(view.plan);
  const formErrors = hasPlan ? validateFields(view.plan.form, view.form_data) : {};
  const formDone = hasPlan && !Object.keys(formErrors).length && Boolean(progress.form_confirmed);
  const uploaded = new Set((view.materials || []).map((m) => m.code));
  const uploads = uploadsNeeded(view);
  const materialsDone = hasPlan && uploads.every((m) => uploaded.has(m.code));
  const signDone = Boolean(signing?.complete) || Boolean(signing?.unavailable);
  const faceDone = progress.face?.status === "passed";
  const base = `#/case/${view.id}`;
  const state = (done, started, canStart = true) => (!canStart ? "cannot" : done ? "done" : started ? "progress" : "todo");
  const tasks = [
    { id: "enterprise", href: `${base}/enterprise`, s: state(progress.enterprise_checked, false) },
    { id: "situation", href: missing.length ? `${base}/q/${missing[0]}` : `${base}/situation`, s: state(!missing.length, Object.keys(view.answers).length > 0) },
    { id: "form", href: `${base}/form`, s: state(formDone, hasPlan && Object.keys(formErrors).length < Object.keys(view.plan.form.properties).length, hasPlan) },
    { id: "materials", href: `${base}/materials`, s: state(materialsDone, uploaded.size > 0, hasPlan) },
    { id: "signatures", href: `${base}/signatures`, s: state(signDone, Boolean(signing?.documents?.length), formDone) },
    { id: "face", href: `${base}/face`, s: state(faceDone, Boolean(progress.face), formDone) },
  ];
  const ready = tasks.every((task) => task.s === "done");
  tasks.push({ id: "submit", href: `${base}/submit`, s: ready ? "todo" : "cannot" });
  return tasks;
}

// ---- shared page parts ---------------------------------------------------------------------------

const back = (href) => h("a", { href, class: "back-link", "data-testid": "back" }, t("common.back"));
const caption = (view) => h("span", { class: "caption" }, zhPart(view.enterprise_name));
const heading = (text, view) => h("h1", {}, view ? caption(view) : null, text);

function problemMessage(error) {
  if (!(error instanceof ApiError)) return t("error.generic");
  if (error.code === "offline") return t("error.offline");
  if (error.code === "registration_lookup_unavailable") return t("error.registrationUnavailable");
  if (!error.problem?.code) return t("error.generic"); // not a problem document of ours (a proxy's error page)
  return error.message || t("error.generic");
}

const queuedText = (saved) => (saved.reason === "registration_lookup_unavailable" ? t("draft.queuedRegistration") : t("draft.queued"));

function errorsFromApi(error, prefix = "") {
  const list = (error instanceof ApiError ? error.errors : []).map((e) => {
    const field = String(e.field || "").replace(/^form_data\./, "");
    return { field: prefix && field ? fieldId([field]) : null, message: e.message || e.detail || String(e) };
  });
  return list.length ? list : [{ field: null, message: problemMessage(error) }];
}

function loginPage() {
  const returnTo = `/${location.hash}`;
  return [
    h("h1", {}, t("login.title")),
    h("p", {}, t("login.body")),
    h("p", {}, h("a", { class: "button", href: `/auth/login?return_to=${encodeURIComponent(returnTo)}`, "data-testid": "login" }, t("login.button"))),
    h("p", { class: "hint" }, t("login.hint")),
  ];
}

function errorPage(error) {
  return [h("h1", {}, t("error.title")), h("p", { "data-testid": "error-message" }, problemMessage(error)), h("p", {}, h("a", { href: "#/cases" }, t("nav.cases")))];
}

function notFoundPage() {
  return [h("h1", {}, t("error.notFound")), h("p", {}, h("a", { href: "#/cases" }, t("nav.cases")))];
}

async function refreshBadge() {
  const badge = document.querySelector('[data-testid="notification-count"]');
  if (!badge || !me) return;
  try {
    const unread = (await api("/api/v1/notifications")).filter((n) => !n.read_at).length;
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    badge.setAttribute("aria-label", t("nav.unread", { n: unread }));
  } catch { /* offline: keep the last count */ }
}

// ---- choose the enterprise ----------------------------------------------------------------------

async function enterprisesPage(errors = []) {
  const who = await getMe();
  const mine = await api("/api/v1/cases").catch(() => []);
  const list = who.enterprises || [];
  if (!list.length) return [h("h1", {}, t("enterprises.none.title")), h("p", {}, t("enterprises.none.body"))];
  const form = h("form", { novalidate: true, "data-testid": "enterprise-form" },
    radios({
      name: "uscc", legend: t("enterprises.title"), headingLegend: true, error: errors[0]?.message,
      hint: t("enterprises.hint", { name: who.name }),
      value: list.length === 1 ? list[0].uscc : undefined,
      options: list.map((e) => ({ value: e.uscc, label: `${e.enterprise_name}`, hint: `${e.uscc} · ${e.capacities.map((c) => t(`role.${c}`)).join("、")}` })),
    }),
    h("button", { class: "button", type: "submit", "data-testid": "continue" }, t("common.continue")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const uscc = form.elements.uscc?.value || form.querySelector("input[name=uscc]:checked")?.value;
    if (!uscc) return render_(await enterprisesPage([{ field: "uscc", message: t("enterprises.error") }]));
    await once(event.submitter || form.querySelector("button"), t("common.busy"), async () => {
      const draft = mine.find((c) => c.uscc === uscc && c.status === "draft");
      const view = draft ? await loadCase(draft.id) : rememberCase(await api("/api/v1/cases", { method: "POST", body: { uscc, channel: "pwa" } }));
      const missing = missingAnswers(view);
      navigate(missing.length ? `#/case/${view.id}/q/${missing[0]}` : `#/case/${view.id}/tasks`);
    }).catch((error) => render_([errorSummary(errorsFromApi(error)), form]));
  });
  return [errorSummary(errors), back("#"), form].filter(Boolean);
}

// ---- situation questions, one per page --------------------------------------------------------------

async function questionPage(view, key, params, errors = []) {
  const cat = await getCatalog();
  const q = cat.questions.find((x) => x.key === key);
  if (!q) return notFoundPage();
  const value = view.answers[key];
  const name = `answer-${key}`;
  let control;
  if (q.type === "count") {
    const id = name;
    control = h("div", { class: `field${errors.length ? " field--error" : ""}` },
      h("h1", {}, h("label", { for: id }, caption(view), pick(q.text))),
      q.help ? h("p", { class: "hint", id: `${id}-hint` }, pick(q.help)) : null,
      errors.length ? h("p", { class: "field-error", id: `${id}-error` }, errors[0].message) : null,
      h("input", { class: "input input--short", id, name, type: "text", inputmode: "numeric", value: value ?? "", "aria-describedby": [q.help ? `${id}-hint` : "", errors.length ? `${id}-error` : ""].join(" ").trim() || null }));
  } else {
    const options = q.type === "choice" ? q.options.map((o) => ({ value: o.value, label: pick(o.text) })) : [{ value: "true", label: t("common.yes") }, { value: "false", label: t("common.no") }];
    control = radios({ name, legend: pick(q.text), headingLegend: true, hint: q.help ? pick(q.help) : "", options, value: value === undefined ? undefined : String(value), error: errors[0]?.message });
    control.querySelector("h1").prepend(caption(view));
  }
  const form = h("form", { novalidate: true, "data-testid": "question-form" }, control, h("button", { class: "button", type: "submit", "data-testid": "continue" }, t("common.continue")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let answer;
    if (q.type === "count") {
      const raw = form.elements[name].value.trim();
      if (!/^\d+$/.test(raw) || Number(raw) > (q.maximum ?? 1e9)) return render_(await questionPage(view, key, params, [{ field: name, message: t("question.error.count", { max: q.maximum ?? "" }) }]));
      answer = Number(raw);
    } else {
      const checked = form.querySelector(`input[name="${name}"]:checked`);
      if (!checked) return render_(await questionPage(view, key, params, [{ field: name, message: t("question.error.choose") }]));
      answer = q.type === "choice" ? checked.value : checked.value === "true";
    }
    await once(form.querySelector("button"), t("common.busy"), async () => {
      const saved = await saveDraft(view, { answers: { [key]: answer } });
      if (saved.queued) announce(queuedText(saved));
      const next = missingAnswers(saved.view).filter((k) => k !== key);
      navigate(params.get("return") === "situation" ? `#/case/${view.id}/situation` : next.length ? `#/case/${view.id}/q/${next[0]}` : `#/case/${view.id}/precheck`);
    }).catch((error) => render_([errorSummary(errorsFromApi(error)), form]));
  });
  const known = Object.keys(view.plan?.answers || {}).length - Object.keys(view.answers).length;
  return [errorSummary(errors), back(`#/case/${view.id}/tasks`), form, known > 0 ? h("p", { class: "hint" }, t("question.known")) : null].filter(Boolean);
}

async function situationPage(view) {
  const cat = await getCatalog();
  const facts = view.plan?.answers || {};
  const rows = cat.questions.filter((q) => facts[q.key] !== undefined || view.answers[q.key] !== undefined).map((q) => {
    const value = view.answers[q.key] ?? facts[q.key];
    const text = q.type === "choice" ? pick(q.options.find((o) => o.value === value)?.text) : q.type === "boolean" ? (value ? t("common.yes") : t("common.no")) : String(value);
    const mine = view.answers[q.key] !== undefined;
    return { key: pick(q.text), value: text, href: mine ? `#/case/${view.id}/q/${q.key}?return=situation` : null, note: mine ? null : t("situation.fromRecord") };
  });
  return [back(`#/case/${view.id}/tasks`), heading(t("situation.title"), view), h("p", {}, t("situation.lead")), summaryList(rows, "situation"),
    h("a", { class: "button", href: `#/case/${view.id}/tasks`, "data-testid": "continue" }, t("common.continue"))];
}

// ---- pre-check -------------------------------------------------------------------------------------

/** One blocker (the API's one shape, plan's or agency's): who found it, what is wrong, and how to resolve it. */
function blockerItem(b) {
  const more = [b.agency ? pick(b.agency.name) : "", b.resolve ? pick(b.resolve) : ""].filter(Boolean).join(" · ");
  return h("li", { "data-source": b.source }, pick(b.message) || b.code, more ? h("br") : null, more ? h("span", { class: "hint" }, more) : null);
}

async function precheckPage(view) {
  if (!view.plan) return redirect(`#/case/${view.id}/q/${missingAnswers(view)[0] || ""}`);
  let report = null;
  try {
    report = await api(`/api/v1/cases/${view.id}/precheck`, { method: "POST" });
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "offline")) throw error;
  }
  const plan = view.plan;
  // the pre-check's blockers include the plan's; offline, the plan's are all there is
  const blockers = report ? report.blockers : plan.blockers;
  const missing = report?.missing || [];
  const linkFor = (m) => (m.field?.startsWith("form_data.") ? `#/case/${view.id}/form?field=${m.field.slice(10)}` : m.field?.startsWith("materials.") ? `#/case/${view.id}/materials` : `#/case/${view.id}/tasks`);
  return [
    back(`#/case/${view.id}/tasks`),
    heading(t("precheck.title"), view),
    report === null ? h("div", { class: "inset" }, t("precheck.offline")) : null,
    blockers.length
      ? h("div", { class: "warning-box", "data-testid": "blockers" }, h("h2", {}, t("precheck.blockers")), h("ul", {}, blockers.map(blockerItem)))
      : h("div", { class: "panel panel--ok", "data-testid": "no-blockers" }, h("p", {}, t("precheck.noBlockers"))),
    // with a timed stage (简易注销公示期 / 异议期) the promise is "the stage, then working days", as the guide says
    h("h2", { "data-testid": "promise" }, plan.stage_days && plan.promised_text
      ? t("precheck.itemsStaged", { n: plan.items.length, promise: pick(plan.promised_text) })
      : t("precheck.items", { n: plan.items.length, days: plan.promised_days })),
    h("ol", { class: "items", "data-testid": "planned-items" }, plan.items.map((item) => h("li", {}, h("strong", {}, pick(item.name)), h("br"), h("span", { class: "hint" }, `${pick((item.office || item.department).name)} · ${t("precheck.days", { n: item.promised_days })}`)))),
    plan.reduction ? h("p", { class: "hint" }, t("precheck.reduction", { materials: plan.reduction.materials.saved, fields: plan.reduction.form_fields.saved, visits: plan.reduction.visits.saved })) : null,
    (plan.notices || []).length ? h("div", { class: "inset" }, h("h2", {}, t("precheck.notices")), h("ul", {}, plan.notices.map((n) => h("li", {}, pick(n.message))))) : null,
    missing.length ? h("div", { "data-testid": "precheck-missing" }, h("h2", {}, t("precheck.todo")), h("ul", {}, missing.map((m) => h("li", {}, h("a", { href: linkFor(m) }, m.message))))) : null,
    (report?.unreachable_systems || []).length ? h("p", { class: "hint" }, t("precheck.unreachable", { systems: report.unreachable_systems.join("、") })) : null,
    report ? h("p", { class: "hint" }, t("precheck.checked", { n: report.checked_systems.length })) : null,
    h("a", { class: "button", href: `#/case/${view.id}/tasks`, "data-testid": "continue" }, t("precheck.continue")),
  ];
}

// ---- task list ----------------------------------------------------------------------------------------

const STATUS_KIND = { done: "done", progress: "progress", todo: "todo", cannot: "cannot" };

async function tasksPage(view) {
  const [signing, progress] = await Promise.all([signingStatus(view.id), progressOf(view.id)]);
  const tasks = taskStates(view, signing, progress).map((task) => ({
    id: task.id, title: t(`task.${task.id}`), href: task.s === "cannot" ? null : task.href, status: t(`task.status.${task.s}`), statusKind: STATUS_KIND[task.s],
  }));
  const done = tasks.filter((task) => task.statusKind === "done").length;
  const queued = await hasPending(view.id);
  return [
    heading(t("tasks.title"), view),
    h("p", { "data-testid": "task-progress" }, t("tasks.progress", { done, total: tasks.length - 1 })),
    queued ? h("div", { class: "inset", "data-testid": "sync-pending" }, t("draft.queued")) : null,
    view.expires_at ? h("p", { class: "hint" }, t("tasks.expires", { date: fmtTime(view.expires_at) })) : null,
    taskList(tasks),
    h("p", {}, h("a", { href: `#/case/${view.id}/precheck` }, t("tasks.precheck"))),
    h("p", { class: "hint" }, t("tasks.saved")),
  ];
}

// ---- enterprise data ------------------------------------------------------------------------------------

async function enterprisePage(view) {
  let record = null;
  try {
    record = await api(`/api/v1/enterprises/${view.uscc}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "offline")) throw error;
  }
  const region = view.plan?.region;
  const rows = [
    { key: t("enterprise.name"), value: record?.name || view.enterprise_name },
    { key: t("enterprise.uscc"), value: view.uscc },
    { key: t("enterprise.type"), value: pick((await getCatalog()).entity_types.find((e) => e.code === (record?.entity_type || view.entity_type))) },
    { key: t("enterprise.region"), value: region ? `${pick(region)}（${region.code}）` : view.region },
  ];
  const button = h("button", { class: "button", type: "button", "data-testid": "confirm-enterprise" }, t("enterprise.confirm"));
  button.addEventListener("click", () => once(button, t("common.busy"), async () => {
    await markProgress(view.id, { enterprise_checked: true });
    navigate(`#/case/${view.id}/tasks`);
  }).catch((error) => announce(problemMessage(error))));
  return [
    back(`#/case/${view.id}/tasks`), heading(t("enterprise.title"), view), h("p", {}, t("enterprise.lead")), summaryList(rows, "enterprise"),
    record ? h("h2", {}, t("enterprise.actors")) : null,
    record ? h("ul", { class: "plain", "data-testid": "actors" }, record.actors.map((a) => h("li", {}, `${a.name}（${t(`role.${a.role}`)}）${a.id_number}${a.is_me ? ` · ${t("enterprise.me")}` : ""}`))) : null,
    h("details", {}, h("summary", {}, t("enterprise.wrong")), h("p", {}, t("enterprise.wrong.body"))),
    button,
  ];
}

// ---- the merged application form -------------------------------------------------------------------------

// Short pages of a few related fields each, with "Step 2 of 4"; check answers comes after the last. Fields of a
// plan not listed here (a later catalog's) go on the last page. Facts from the register are shown read-only.
const FORM_PAGES = [
  ["uscc", "entity_name", "region", "legal_rep_name", "legal_rep_id_number", "contact_phone", "agent_name", "agent_id_number"],
  ["dereg_reason", "dissolution_date", "liquidation_group_head", "creditor_notice_date", "liquidation_completed_date"],
  ["tax_settled", "invoices_cancelled", "customs_code", "si_unit_number", "si_settled"],
  ["bank_accounts", "seal_count", "investors_commitment"],
];

async function registerFacts(id) {
  try {
    return (await api(`/api/v1/cases/${id}/register-facts`)).fields || {};
  } catch (error) {
    if (error instanceof ApiError && (error.code === "offline" || error.status === 404 || error.status === 405)) return {};
    throw error;
  }
}

/** The form's pages for this plan: each a list of field keys, pages with no field left out. */
function formPages(schema) {
  const keys = Object.keys(schema.properties || {});
  const listed = new Set(FORM_PAGES.flat());
  const pages = FORM_PAGES.map((page) => page.filter((k) => keys.includes(k)));
  pages[pages.length - 1].push(...keys.filter((k) => !listed.has(k)));
  return pages.filter((page) => page.length);
}

async function formPage(view, _arg, params, errors = {}) {
  if (!view.plan) return redirect(`#/case/${view.id}/tasks`);
  const schema = view.plan.form;
  const facts = await registerFacts(view.id);
  const pages = formPages(schema);
  const wanted = params.get("field");
  const fromCheck = Boolean(wanted) || params.get("return") === "check";
  let index = Math.min(Math.max(Number(params.get("page") || 1), 1), pages.length) - 1;
  if (wanted) index = Math.max(pages.findIndex((page) => page.includes(wanted)), 0);
  const keys = pages[index];
  const editable = keys.filter((k) => !(k in facts));
  const shown = keys.filter((k) => k in facts);
  const fromRegister = shown.length ? [
    h("h2", {}, t("form.register.title")),
    h("p", { class: "hint", "data-testid": "register-source" }, t("form.register.source")),
    summaryList(shown.map((k) => ({ key: titleOf(schema.properties[k]), value: displayValue(schema.properties[k], facts[k]) })), "register-facts"),
  ] : null;
  const last = index === pages.length - 1;
  const form = h("form", { novalidate: true, "data-testid": "application-form" },
    schemaFields(schema, view.form_data, errors, editable),
    h("button", { class: "button", type: "submit", "data-testid": "save-form" }, last || fromCheck ? t("form.save") : t("form.next")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = readFields(schema, form, editable);
    const problems = validateFields(schema, data, editable);
    if (Object.keys(problems).length) {
      return render_(await formPage({ ...view, form_data: { ...view.form_data, ...data } }, null, params, problems));
    }
    await once(form.querySelector('[data-testid="save-form"]'), t("common.busy"), async () => {
      // Only the fields changed here are sent: an edit made elsewhere to other fields survives the merge. The
      // register's facts are saved as the register has them, so what is submitted is what it records.
      const all = { ...data, ...Object.fromEntries(shown.map((k) => [k, facts[k]])) };
      const changed = Object.fromEntries(Object.entries(all).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(view.form_data[k])).map(([k, v]) => [k, v ?? null]));
      if (Object.keys(changed).length) {
        const saved = await saveDraft(view, { form_data: changed });
        announce(saved.queued ? queuedText(saved) : t("draft.saved"));
      }
      navigate(last || fromCheck ? `#/case/${view.id}/check` : `#/case/${view.id}/form?page=${index + 2}`);
    }).catch((error) => render_([errorSummary(errorsFromApi(error, "form")), form]));
  });
  const list = Object.entries(errors).map(([k, message]) => ({ field: fieldId([k]), message: `${titleOf(schema.properties[k])}：${message}` }));
  const backTo = fromCheck ? `#/case/${view.id}/check` : index ? `#/case/${view.id}/form?page=${index}` : `#/case/${view.id}/tasks`;
  return [errorSummary(list), back(backTo),
    h("p", { class: "caption step", "data-testid": "form-step" }, t("form.step", { n: index + 1, total: pages.length })),
    heading(pick({ "zh-CN": schema.title, en: schema["x-title-en"] }), view),
    index === 0 ? h("p", {}, t("form.lead")) : null, fromRegister, form].filter(Boolean);
}

/** Replace the page in place (after an error or an update) and move focus like a page change. */
function render_(nodes) {
  rootEl.replaceChildren(...[nodes].flat(Infinity).filter(Boolean));
  const target = rootEl.querySelector('[data-testid="error-summary"], [data-testid="submit-blockers"]') || rootEl.querySelector("h1");
  target?.setAttribute("tabindex", "-1");
  target?.focus();
}

function formRows(view) {
  const schema = view.plan.form;
  return Object.entries(schema.properties).map(([k, p]) => ({ key: titleOf(p), value: displayValue(p, view.form_data[k]), href: `#/case/${view.id}/form?field=${k}` }));
}

async function formCheckPage(view) {
  if (!view.plan) return redirect(`#/case/${view.id}/tasks`);
  const errors = validateFields(view.plan.form, view.form_data);
  const button = h("button", { class: "button", type: "button", "data-testid": "confirm-form" }, t("form.check.confirm"));
  button.addEventListener("click", () => {
    if (Object.keys(errors).length) return navigate(`#/case/${view.id}/form`);
    once(button, t("common.busy"), async () => {
      await flushOutbox(); // the confirmation is of the form as the server holds it
      await markProgress(view.id, { form_confirmed: true });
      navigate(`#/case/${view.id}/tasks`);
    }).catch((error) => announce(problemMessage(error)));
  });
  const queued = await hasPending(view.id);
  return [
    back(`#/case/${view.id}/form`), heading(t("form.check.title"), view),
    queued ? h("div", { class: "inset", "data-testid": "sync-pending" }, t("draft.queued")) : h("p", { class: "hint", "data-testid": "sync-done" }, t("draft.savedAt", { time: fmtTime(view.updated_at) })),
    Object.keys(errors).length ? h("div", { class: "warning-box" }, t("form.check.incomplete", { n: Object.keys(errors).length })) : null,
    summaryList(formRows(view), "form-summary"), button,
  ];
}

// ---- materials ----------------------------------------------------------------------------------------------

/** Sends one file as material `code` of the case (a fileUpload's `send`). */
const materialSender = (caseId, code) => (file, onprogress, signal) => {
  const body = new FormData();
  body.append("code", code);
  body.append("file", file);
  return upload(`/api/v1/cases/${caseId}/materials`, body, { onprogress, signal });
};

/** Takes a wrong file off a draft (a fileUpload's `remove`); the case kept on the device forgets it. */
const materialRemover = (view) => async (material) => {
  await api(`/api/v1/cases/${view.id}/materials/${material.id}`, { method: "DELETE" });
  rememberCase(Object.assign(view, { materials: (view.materials || []).filter((m) => m.id !== material.id) }));
};

/** The case kept on the device learns of an upload without reading the whole case again. */
const uploadedTo = (view) => (material) => rememberCase(Object.assign(view, { materials: [...(view.materials || []), material] }));

async function materialsPage(view) {
  if (!view.plan) return redirect(`#/case/${view.id}/tasks`);
  const materials = view.plan.materials;
  const uploaded = view.materials || [];
  const waived = materials.filter((m) => m.waived);
  const physical = materials.filter((m) => !m.waived && m.physical);
  const online = materials.filter((m) => !m.waived && m.online);
  const uploads = uploadsNeeded(view);
  const neededBy = (m) => t("materials.neededBy", { items: m.needed_by.map((c) => pick(view.plan.items.find((i) => i.code === c)?.name) || c).join("、") });
  const summary = h("div", {});
  const group = uploadGroup(summary);
  const uploadField = (m) => fileUpload({
    id: `file-${m.code}`, testid: m.code, label: pick(m.name), hint: `${neededBy(m)} ${t("materials.types")}`, group,
    uploaded: uploaded.filter((u) => u.code === m.code), remove: materialRemover(view),
    send: materialSender(view.id, m.code), describe: problemMessage, onuploaded: uploadedTo(view),
  });
  const waiverText = (m) => `${t(`waiver.${m.waiver?.source}`)}：${pick(m.waiver?.reason)}`;
  return [
    summary,
    back(`#/case/${view.id}/tasks`), heading(t("materials.title"), view),
    h("h2", {}, t("materials.waived", { n: waived.length })),
    h("ul", { class: "plain materials", "data-testid": "materials-waived" }, waived.map((m) => h("li", {}, tag(t("materials.tag.waived"), "done"), " ", h("strong", {}, pick(m.name)), h("br"), h("span", { class: "hint" }, waiverText(m))))),
    online.length ? [h("h2", {}, t("materials.online")), h("ul", { class: "plain materials", "data-testid": "materials-online" }, online.map((m) => h("li", {}, h("strong", {}, pick(m.name)), h("br"), h("span", { class: "hint" }, t("materials.online.hint")))))] : null,
    h("h2", {}, t("materials.toUpload", { n: uploads.length })),
    uploads.length ? uploads.map(uploadField) : h("p", {}, t("materials.none")),
    physical.length ? [h("h2", {}, t("materials.physical")), h("ul", { class: "plain materials", "data-testid": "materials-physical" }, physical.map((m) => h("li", {}, h("strong", {}, pick(m.name)), h("br"), h("span", { class: "hint" }, neededBy(m)))))] : null,
    h("a", { class: "button", href: `#/case/${view.id}/tasks`, "data-testid": "continue" }, t("common.continue")),
  ];
}

// ---- signatures ----------------------------------------------------------------------------------------------

/** A short link (/s/<code>, kept a week) for a long one, so its QR code is sparse enough for any camera; the long
 * link when the platform cannot make one (offline, an older server). Kept on the device until it expires. */
async function shortLink(id, url) {
  const known = (draftMeta(id).shortLinks || {})[url];
  if (known && known.expires_at > Date.now() + 3600_000) return known.url;
  try {
    const made = await api("/api/v1/short-links", { method: "POST", body: { url } });
    setDraftMeta(id, { shortLinks: { ...(draftMeta(id).shortLinks || {}), [url]: { url: made.url, expires_at: made.expires_at } } });
    return made.url;
  } catch {
    return url;
  }
}

async function signaturesPage(view, _arg, _params, problem = null) {
  const status = await signingStatus(view.id);
  const meta = draftMeta(view.id);
  const links = meta.signLinks || {};
  const parts = [back(`#/case/${view.id}/tasks`), heading(t("sign.title"), view), problem ? errorSummary([{ message: problem }]) : null];
  if (status.unavailable) return [...parts, h("div", { class: "inset", "data-testid": "sign-unavailable" }, t("sign.unavailable"))];
  if (status.offline) return [...parts, h("div", { class: "inset" }, t("error.offline"))];
  if (!status.documents.length) {
    const button = h("button", { class: "button", type: "button", "data-testid": "start-signing" }, t("sign.start"));
    button.addEventListener("click", () => once(button, t("common.busy"), async () => {
      try {
        const created = await api(`/api/v1/cases/${view.id}/signatures`, { method: "POST", idempotent: true });
        const map = { ...links };
        for (const r of created.requests || created.links || []) map[r.person_id] = r.sign_url;
        setDraftMeta(view.id, { signLinks: map });
        render_(await signaturesPage(view));
        announce(t("sign.created"));
      } catch (error) {
        const text = error instanceof ApiError && (error.status === 404 || error.status === 405) ? t("sign.unavailable") : problemMessage(error);
        render_(await signaturesPage(view, null, null, text));
      }
    }));
    return [...parts, h("p", {}, t("sign.lead")), button];
  }
  const isMine = (s) => s.person_id === me?.person_id || (s.person_id === "***" ? false : s.name === me?.name);
  const shorts = {};
  await Promise.all(status.documents.flatMap((d) => d.signers).filter((s) => s.status === "pending" && links[s.person_id] && !isMine(s))
    .map(async (s) => { shorts[s.person_id] = await shortLink(view.id, links[s.person_id]); }));
  const signerCard = (s) => {
    const mine = isMine(s);
    const url = mine ? links[s.person_id] : shorts[s.person_id] || links[s.person_id];
    const statusTag = tag(t(`sign.status.${s.status}`), s.status === "signed" ? "done" : s.status === "declined" ? "cannot" : "todo");
    const card = h("li", { class: "signer", "data-testid": `signer-${s.request_id}` }, h("p", {}, h("strong", {}, zhPart(s.name)), " ", statusTag, s.signed_at ? h("span", { class: "hint" }, ` ${fmtTime(s.signed_at * (s.signed_at < 1e12 ? 1000 : 1))}`) : null));
    if (s.status === "pending" && url) {
      if (mine) card.append(h("p", {}, h("a", { class: "button", href: url, target: "_blank", rel: "noopener", "data-testid": "sign-myself" }, t("sign.myself"))));
      else {
        const copy = h("button", { class: "button button--secondary", type: "button" }, t("sign.copy"));
        copy.addEventListener("click", async () => {
          try {
            if (navigator.share) await navigator.share({ title: t("sign.title"), url });
            else await navigator.clipboard.writeText(url);
            announce(t("sign.copied"));
          } catch { announce(t("sign.copyFailed")); }
        });
        card.append(h("p", { class: "hint" }, t("sign.invite", { name: s.name })),
          h("div", { class: "qr", "data-testid": "sign-qr", "data-url": url, html: qrSvg(url, { label: t("sign.qr", { name: s.name }) }) }),
          h("p", {}, copy, " ", h("a", { href: url, target: "_blank", rel: "noopener", "data-testid": "sign-link" }, t("sign.open"))));
      }
    }
    return card;
  };
  const signers = status.documents.flatMap((d) => d.signers);
  later(async () => {
    const fresh = await signingStatus(view.id).catch(() => null);
    if (fresh && JSON.stringify(fresh.documents) !== JSON.stringify(status.documents)) {
      render_(await signaturesPage(view));
      announce(fresh.complete ? t("sign.complete") : t("sign.updated"));
    }
  }, 3000);
  return [
    ...parts,
    status.complete ? h("div", { class: "panel panel--ok", "data-testid": "sign-complete" }, t("sign.complete")) : h("p", {}, t("sign.waiting", { n: status.missing.length })),
    h("ul", { class: "plain", "data-testid": "signers" }, signers.map(signerCard)),
    h("a", { class: "button", href: `#/case/${view.id}/tasks`, "data-testid": "continue" }, t("common.continue")),
  ];
}

// ---- face verification -------------------------------------------------------------------------------------------

async function facePage(view, _arg, _params, problem = null) {
  const progress = await progressOf(view.id);
  const face = progress.face && { id: progress.face.verification_id, url: progress.face.provider_url, status: progress.face.status };
  const parts = [back(`#/case/${view.id}/tasks`), heading(t("face.title"), view), problem ? errorSummary([{ message: problem }]) : null];
  if (face?.status === "passed") return [...parts, h("div", { class: "panel panel--ok", "data-testid": "face-passed" }, t("face.passed")), h("a", { class: "button", href: `#/case/${view.id}/tasks`, "data-testid": "continue" }, t("common.continue"))];
  const start = h("button", { class: face ? "button button--secondary" : "button", type: "button", "data-testid": "face-start" }, face ? t("face.again") : t("face.start"));
  start.addEventListener("click", () => once(start, t("common.busy"), async () => {
    try {
      const started = await api("/api/v1/face-verifications", { method: "POST", body: { purpose: "submit", reference: view.id } });
      await markProgress(view.id, { face_verification_id: started.verification_id, face_provider_url: started.provider_url });
      render_(await facePage(view));
    } catch (error) {
      render_(await facePage(view, null, null, problemMessage(error)));
    }
  }));
  const out = [...parts, h("p", {}, t("face.lead")), h("ul", {}, [1, 2, 3].map((n) => h("li", {}, t(`face.tip.${n}`))))];
  if (face?.status === "pending" && face.url) {
    out.push(h("p", {}, h("a", { class: "button", href: face.url, target: "_blank", rel: "noopener", "data-testid": "face-open" }, t("face.open"))),
      h("p", { class: "hint", "data-testid": "face-waiting", role: "status" }, t("face.waiting")));
    later(async () => {
      const now = await api(`/api/v1/face-verifications/${face.id}`).catch(() => null);
      if (now && now.status !== "pending") {
        render_(await facePage(view, null, null, now.status === "passed" ? null : t(`face.${now.status}`)));
        announce(now.status === "passed" ? t("face.passed") : t(`face.${now.status}`));
      }
    }, 2000);
  }
  out.push(start);
  return out;
}

// ---- check answers and submit ---------------------------------------------------------------------------------------

/** What blocks a submission, from a 422 case_blocked answer: its `blockers` (any shape of message) or its field errors. */
function blockersOf(error) {
  const listed = Array.isArray(error.problem?.blockers) ? error.problem.blockers : error.errors;
  const text = (b) => (typeof b.message === "object" && b.message ? pick(b.message) : b.message || b.detail || "");
  const messages = listed.map(text).filter(Boolean);
  return messages.length ? messages : [problemMessage(error)];
}

async function submitPage(view, _arg, _params, errors = [], blocked = null) {
  if (!view.plan) return redirect(`#/case/${view.id}/tasks`);
  const [signing, progress] = await Promise.all([signingStatus(view.id), progressOf(view.id)]);
  const tasks = taskStates(view, signing, progress);
  const open = tasks.filter((task) => task.id !== "submit" && task.s !== "done");
  const cat = await getCatalog();
  const answerRows = Object.entries(view.answers).map(([k, v]) => {
    const q = cat.questions.find((x) => x.key === k);
    const text = q?.type === "choice" ? pick(q.options.find((o) => o.value === v)?.text) : typeof v === "boolean" ? (v ? t("common.yes") : t("common.no")) : String(v);
    return { key: q ? pick(q.text) : k, value: text, href: `#/case/${view.id}/q/${k}?return=situation` };
  });
  const uploaded = view.materials || [];
  const parts = [
    errorSummary(errors), back(`#/case/${view.id}/tasks`), heading(t("submit.title"), view),
    h("h2", {}, t("task.situation")), summaryList(answerRows, "answers-summary"),
    h("h2", {}, t("task.form")), summaryList(formRows(view), "form-summary"),
    h("h2", {}, t("task.materials")), summaryList(uploaded.map((m) => ({ key: pick(view.plan.materials.find((x) => x.code === m.code)?.name) || m.code, value: m.filename, href: `#/case/${view.id}/materials` })), "materials-summary"),
    h("h2", {}, t("submit.more")),
    summaryList([
      { key: t("task.signatures"), value: signing.unavailable ? t("sign.unavailable.short") : signing.complete ? t("sign.complete") : t("sign.waiting", { n: signing.missing.length }), href: `#/case/${view.id}/signatures` },
      { key: t("task.face"), value: progress.face?.status === "passed" ? t("face.passed") : t("task.status.todo"), href: `#/case/${view.id}/face` },
    ], "gates-summary"),
  ].filter(Boolean);
  if (open.length) {
    return [...parts, h("div", { class: "warning-box", "data-testid": "submit-blocked" }, h("h2", {}, t("submit.blocked")), h("ul", {}, open.map((task) => h("li", {}, h("a", { href: task.href }, t(`task.${task.id}`))))))];
  }
  const button = h("button", { class: "button", type: "button", "data-testid": "submit" }, t("submit.button"));
  button.addEventListener("click", () => once(button, t("submit.busy"), async () => {
    const key = draftMeta(view.id).submitKey || setDraftMeta(view.id, { submitKey: idempotencyKey() }).submitKey;
    try {
      const submitted = rememberCase(await api(`/api/v1/cases/${view.id}/submit`, { method: "POST", headers: { "Idempotency-Key": key } }));
      navigate(`#/case/${submitted.id}/done`);
    } catch (error) {
      // a face check older than the platform accepts must be done again: the server's progress says so already
      if (error instanceof ApiError && error.code === "case_blocked") return render_(await submitPage(view, null, null, [], blockersOf(error)));
      render_(await submitPage(view, null, null, errorsFromApi(error)));
    }
  }));
  if (blocked) {
    const box = h("div", { class: "warning-box", "data-testid": "submit-blockers", tabindex: "-1" }, h("h2", {}, t("submit.blockers")),
      h("ul", {}, blocked.map((m) => h("li", {}, m))), h("p", {}, h("a", { href: `#/case/${view.id}/precheck` }, t("submit.blockers.precheck"))));
    return [...parts, box];
  }
  return [...parts, h("h2", {}, t("submit.declaration.title")), h("p", {}, t("submit.declaration")), button];
}

async function donePage(view) {
  if (view.status === "draft") return redirect(`#/case/${view.id}/submit`);
  return [
    h("div", { class: "confirmation", "data-testid": "confirmation" }, h("h1", {}, t("done.title")), h("p", {}, t("done.number")), h("p", { class: "confirmation__number", "data-testid": "case-number" }, view.number)),
    h("h2", {}, t("done.next")), h("p", { "data-testid": "promised-days" }, view.promised_text
      ? t("done.next.bodyStaged", { promise: label(view.promised_text) })
      : t("done.next.body", { days: view.promised_days || view.plan?.promised_days || "" })),
    h("p", {}, h("a", { class: "button", href: `#/case/${view.id}`, "data-testid": "view-case" }, t("done.view"))),
  ];
}

// ---- the case page: every result in one place, live ------------------------------------------------------------------------
// One compact overview: what the applicant must do now (if anything) at the top; then one row per
// matter with its status, promised and actual dates and result documents (details expand); the
// case's facts and the timeline below. A 10-item case fits in under three phone screens.

const ITEM_KIND = { completed: "done", rejected: "cannot", cancelled: "cannot", correction_requested: "warn", dispatch_failed: "warn", withdrawn: "cannot", waiting: "todo", queued: "todo" };
const CLOSED = ["completed", "rejected", "cancelled", "withdrawn"];
const cstDay = (ms) => new Date(ms).toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });

/** The line under a matter's name: its promised date, when it closed (late or not), how long such matters usually take. */
function itemDates(item) {
  const parts = [];
  if (item.closed_at) {
    const late = item.due_on && cstDay(item.closed_at) > item.due_on;
    parts.push(t(late ? "case.closedLate" : "case.closedOn", { date: formatDay(item.closed_at) }));
  } else if (item.due_on) parts.push(t("case.dueOn", { date: formatDay(item.due_on) }) + (item.due_estimated ? t("case.estimated") : ""));
  else if (item.promised_days) parts.push(t("case.promisedDays", { n: item.promised_days }));
  if (item.typical && !item.closed_at) parts.push(t("case.typical", { n: item.typical.median_days }));
  return parts.join(" · ");
}

function itemRow(view, item, rated = {}) {
  const kind = ITEM_KIND[item.status] || "progress";
  const heading = matterHeading(item);
  const more = [
    heading !== label(item.name) ? { key: t("case.officialName"), value: label(item.name) } : null,
    item.subject ? { key: t(item.code === "BANK" ? "case.account" : "case.seals"), value: label(item.subject) } : null,
    item.promised_days ? { key: t("case.promisedLimit"), value: t("case.promisedDays", { n: item.promised_days }) } : null,
    item.typical ? { key: t("case.typicalKey"), value: t("case.typical.detail", { median: item.typical.median_days, p90: item.typical.p90_days, n: item.typical.cases }) } : null,
    item.due_on ? { key: t("case.due"), value: fmtDate(item.due_on) + (item.due_estimated ? t("case.estimated") : "") } : null,
    item.sent_at ? { key: t("case.sent"), value: fmtTime(item.sent_at) } : null,
    item.accepted_at ? { key: t("case.accepted"), value: fmtTime(item.accepted_at) } : null,
    item.closed_at ? { key: t("case.closed"), value: fmtTime(item.closed_at) } : null,
    item.office_name ? { key: t("case.office"), value: label(item.office_name) } : null,
    item.system_name ? { key: t("case.system"), value: label(item.system_name) } : null,
    item.reference ? { key: t("case.reference"), value: item.reference } : null,
  ].filter(Boolean);
  const rate = rated?.[item.code] ? h("p", { "data-testid": `rated-${item.ref}` }, t("rate.given", { level: pick(rated[item.code].level_label) || rated[item.code].level }))
    : CLOSED.includes(item.status) && item.status !== "withdrawn" && item.code !== "NOTICE" ? h("p", {}, h("a", { href: `#/case/${view.id}/rate/${item.ref}`, "data-testid": `rate-${item.ref}` }, t("rate.link"), h("span", { class: "visually-hidden" }, ` ${heading}`))) : null;
  // details expand under the row: a disclosure button (the row itself holds links, so it cannot be a <summary>)
  const panelId = `more-${item.ref.replace(/\W/g, "-")}`;
  const panel = h("div", { class: "matter__more", id: panelId, hidden: true },
    more.length ? summaryList(more, `dates-${item.ref}`) : null,
    item.reasons?.length ? h("ul", {}, item.reasons.map((r) => h("li", {}, r.message))) : null,
    rate);
  const toggle = h("button", { type: "button", class: "matter__toggle", "aria-expanded": "false", "aria-controls": panelId, "data-testid": "matter-toggle" },
    t("case.details"), h("span", { class: "visually-hidden" }, ` ${heading}`));
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
  });
  return h("li", { class: `matter matter--${kind}`, "data-testid": `item-${item.ref}`, "data-status": item.status },
    h("div", { class: "matter__row" },
      h("span", { class: "matter__name" }, heading, item.subject ? h("span", { class: "matter__subject", "data-testid": "matter-subject" }, label(item.subject)) : null),
      h("span", { class: "matter__status" }, tag(label(item.status_label), kind)),
      h("div", { class: "matter__foot" },
        h("span", { class: "matter__dates", "data-testid": "matter-dates" }, itemDates(item),
          ...(item.documents || []).flatMap((d) => [" · ", documentLink(d)])),
        toggle)),
    panel,
    item.status === "correction_requested" ? h("div", { class: "warning-box", "data-testid": `correction-${item.ref}` },
      h("h3", {}, t("case.correction")), h("ul", {}, (item.corrections || []).map((c) => h("li", {}, `${c.label ? label(c.label) : c.name}：${c.message}`))),
      h("a", { class: "button", href: `#/case/${view.id}/correction/${item.ref}` }, t("case.correction.fix"))) : null);
}

/** A matter's short name for the at-a-glance list ("养老保险", "银行…0001"): tells siblings apart in a few characters. */
function shortName(item) {
  const key = item.code.startsWith("SI-") ? item.code : item.code.split("-")[0];
  const name = t(`item.short.${key}`);
  const base = name === `item.short.${key}` ? label(item.name) : name;
  if (item.code === "BANK" && item.account?.account_no) return t("item.short.BANK.account", { last4: item.account.account_no.slice(-4) });
  if (item.code === "SEAL" && item.subject) {
    const kinds = label(item.subject).split(" · ")[0].split(/、|, /);
    return t("item.short.seals", { kind: kinds[0], more: kinds.length > 1 ? t("item.short.more") : "", n: kinds.length });
  }
  return base;
}

/** Every matter's status in a few lines, so that all of them are on a phone's first screen. */
function glance(view) {
  return h("ul", { class: "plain glance", "data-testid": "glance", "aria-label": t("case.glance") },
    view.items.map((i) => h("li", { class: `glance__item glance__item--${ITEM_KIND[i.status] || "progress"}`, "data-testid": "matter-status" },
      h("span", { class: "glance__name" }, shortName(i)), " ", h("span", { class: "glance__status" }, label(i.status_label)))));
}

const acting = (view) => view.items.some((i) => i.status === "correction_requested");

/** What the applicant must do now: fix a correction, or nothing (the platform and agencies work). */
function nowBox(view) {
  const corrections = view.items.filter((i) => i.status === "correction_requested");
  if (corrections.length) {
    return h("div", { class: "now now--act", "data-testid": "case-now" }, h("h2", {}, t("case.now.act")),
      h("ul", { class: "plain" }, corrections.map((i) => h("li", {}, h("a", { href: `#/case/${view.id}/correction/${i.ref}` }, t("case.now.correction", { item: matterHeading(i) }))))));
  }
  const open = view.items.some((i) => !CLOSED.includes(i.status));
  return h("p", { class: "now", "data-testid": "case-now" }, open ? t("case.now.wait") : t("case.now.closed"));
}

/** An event as the timeline tells it: a matter's event names the matter by its heading (the event
 * type's template, "{item}: completed"), as its row does; any other event by the backend's label. */
function eventText(view, e) {
  const item = e.item_ref ? view.items.find((i) => i.ref === e.item_ref) : null;
  const template = item ? (eventTypes || []).find((type) => type.type === e.type)?.label : null;
  return template ? label(template).replace("{item}", matterHeading(item)) : label(e.label);
}

function timelineList(view) {
  // The backend labels the events applicants see (the matter named); the others carry no label.
  const events = (view.timeline || []).filter((e) => e.label).reverse();
  if (!events.length) return null;
  const row = (e) => h("li", {}, h("span", { class: "timeline__at" }, formatDay(e.at)), " ", eventText(view, e));
  return [h("h2", {}, t("case.timeline")),
    h("ol", { class: "plain timeline", "data-testid": "timeline" }, events.slice(0, 3).map(row)),
    events.length > 3 ? h("details", {}, h("summary", {}, t("case.timeline.all", { n: events.length })), h("ol", { class: "plain timeline" }, events.slice(3).map(row))) : null];
}

/** My 好差评 ratings of this case's matters, by item code (empty when the rating service is not there). */
async function ratingsOf(caseId) {
  try {
    const mine = await api("/api/v1/ratings/mine");
    return Object.fromEntries(mine.filter((r) => r.case_id === caseId && r.kind === "matter").map((r) => [r.item_code, r]));
  } catch {
    return {};
  }
}

function caseFacts(view) {
  const due = view.items.map((i) => i.due_on).filter(Boolean).sort().pop();
  const days = view.promised_days ? t("case.promisedDays", { n: view.promised_days }) : "";
  // where a line is too narrow, the number breaks after its date (ZX20261203- / 000001-0) and the promise before its date
  const cut = (view.number || "").indexOf("-") + 1;
  const number = cut ? [view.number.slice(0, cut), view.number.slice(cut)].map((part) => h("span", { class: "facts__part" }, part)) : view.number;
  return summaryList([
    { key: t("case.number"), value: number },
    { key: t("case.submittedAt"), value: fmtTime(view.submitted_at) },
    { key: t("case.promised"), value: due ? [days, days ? " · " : "", h("span", { class: "facts__part" }, formatDay(due))] : days },
  ], "case-summary");
}

async function casePage(view) {
  if (view.status === "draft") return redirect(`#/case/${view.id}/tasks`);
  // the event types' templates name each matter of the timeline by its heading (the live updates listen to them too)
  let [rated] = await Promise.all([ratingsOf(view.id), getEventTypes().catch(() => [])]);
  const items = h("ol", { class: "plain matters-overview", "data-testid": "items", "aria-live": "off" }, view.items.map((item) => itemRow(view, item, rated)));
  const status = h("span", { "data-testid": "case-status" }, tag(label(view.status_label), view.status === "completed" ? "done" : "progress"));
  const done = view.items.filter((i) => i.status === "completed").length;
  const progress = h("span", { "data-testid": "case-progress" }, t("case.progress", { done, total: view.items.length }));
  const now = h("div", {}, nowBox(view));
  const overview = h("div", {}, glance(view));
  const facts = h("div", { class: "case-facts" }, caseFacts(view));
  const events = h("div", {}, timelineList(view));
  let last = view;
  const refresh = async () => {
    try {
      const fresh = rememberCase(await api(`/api/v1/cases/${view.id}`));
      if (fresh.updated_at === last.updated_at && JSON.stringify(fresh.items) === JSON.stringify(last.items)) return;
      last = fresh;
      rated = await ratingsOf(view.id);
      const open = new Set([...items.querySelectorAll('[aria-expanded="true"]')].map((b) => b.closest("li")?.dataset.testid));
      items.replaceChildren(...fresh.items.map((item) => itemRow(fresh, item, rated)));
      items.querySelectorAll("li.matter").forEach((li) => { if (open.has(li.dataset.testid)) li.querySelector(".matter__toggle").click(); });
      status.replaceChildren(tag(label(fresh.status_label), fresh.status === "completed" ? "done" : "progress"));
      now.replaceChildren(nowBox(fresh));
      overview.replaceChildren(glance(fresh));
      facts.replaceChildren(caseFacts(fresh));
      events.replaceChildren(...[timelineList(fresh)].flat().filter(Boolean));
      const n = fresh.items.filter((i) => i.status === "completed").length;
      progress.textContent = t("case.progress", { done: n, total: fresh.items.length });
      announce(t("case.updated", { done: n, total: fresh.items.length }));
    } catch { /* offline: keep what is shown */ }
  };
  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 300); };
  // Without live updates (no EventSource, or a proxy that ends the stream) ask every 10 s where the
  // case stands: the status is one cached query; the whole case is read again only when something moved.
  const marks = (v) => JSON.stringify([v.status, v.updated_at, v.items.map((i) => [i.ref, i.status, i.due_on, i.closed_at])]);
  const check = async () => {
    try {
      if (marks(await api(`/api/v1/cases/${view.id}/status`)) !== marks(last)) await refresh();
    } catch { /* offline: keep what is shown */ }
  };
  const poll = () => later(check, 10000);
  if ("EventSource" in window && !["completed", "refused", "withdrawn"].includes(view.status)) {
    const source = new EventSource(`/api/v1/cases/${view.id}/events`);
    source.onmessage = soon;
    source.addEventListener("update", soon); // an event without a type
    getEventTypes().then((types) => types.forEach((e) => source.addEventListener(e.type, soon)), poll);
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) poll(); };
    cleanups.push(() => source.close());
  } else poll();
  cleanups.push(() => clearTimeout(timer));
  // 撤回 is possible until an agency has taken up any item: the backend decides (can_withdraw).
  const canWithdraw = Boolean(view.can_withdraw);
  return [
    h("h1", { class: "case-title" }, caption(view), t("case.title")),
    h("p", { class: "case-line" }, status, " ", progress),
    ...(acting(view) ? [now, overview] : [overview, now]), h("h2", { class: "matters-title" }, t("case.matters")), items,
    view.items.some((i) => i.typical) ? h("p", { class: "hint", "data-testid": "typical-note" }, t("case.typical.note")) : null,
    facts, events,
    canWithdraw ? h("p", {}, h("a", { href: `#/case/${view.id}/withdraw`, class: "warning-link", "data-testid": "withdraw-link" }, t("case.withdraw"))) : null,
    h("p", {}, back("#/cases")),
  ];
}

/** `sent`: the files uploaded on this page so far, by material (kept when the page is drawn again after an error). */
async function correctionPage(view, ref, _params, errors = [], sent = {}) {
  const item = view.items.find((i) => i.ref === ref);
  if (!item) return notFoundPage();
  // the agency's request carries each field's label and schema (the plan is a draft's only)
  const schema = { properties: Object.fromEntries((item.corrections || []).filter((c) => c.schema).map((c) => [c.name, c.schema])) };
  const fields = (item.corrections || []).filter((c) => c.kind === "field");
  const files = (item.corrections || []).filter((c) => c.kind === "material");
  const known = fields.filter((c) => schema.properties[c.name]).map((c) => c.name);
  const summary = h("div", {});
  const group = uploadGroup(summary, errors);
  const fileField = (c) => fileUpload({
    id: `m-${c.name}`, testid: c.name, label: t("correction.file", { name: c.label ? label(c.label) : c.name }), hint: t("materials.types"), group,
    uploaded: sent[c.name] || [], send: materialSender(view.id, c.name), describe: problemMessage,
    onuploaded: (material) => { (sent[c.name] ||= []).push(material.filename); uploadedTo(view)(material); },
  });
  const form = h("form", { novalidate: true, "data-testid": "correction-form" },
    h("ul", { class: "warning-box" }, (item.corrections || []).map((c) => h("li", {}, `${c.label ? label(c.label) : c.name}：${c.message}`))),
    schemaFields(schema, view.form_data, Object.fromEntries(errors.filter((e) => e.key).map((e) => [e.key, e.message])), known),
    fields.filter((c) => !schema.properties[c.name]).map((c) => h("div", { class: "field" }, h("label", { for: `c-${c.name}` }, c.name), h("input", { class: "input", id: `c-${c.name}`, name: `c-${c.name}` }))),
    files.map(fileField),
    h("div", { class: "field" }, h("label", { for: "correction-message" }, t("correction.message")), h("textarea", { class: "input", id: "correction-message", name: "message", rows: "3", maxlength: "500" })),
    h("button", { class: "button", type: "submit", "data-testid": "send-correction" }, t("correction.send")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = readFields(schema, form, known);
    const problems = validateFields(schema, data, known);
    if (Object.keys(problems).length) return render_(await correctionPage(view, ref, null, Object.entries(problems).map(([key, message]) => ({ key, field: fieldId([key]), message })), sent));
    fields.filter((c) => !schema.properties[c.name]).forEach((c) => { data[c.name] = form.elements[`c-${c.name}`].value; });
    await once(form.querySelector('[data-testid="send-correction"]'), t("common.busy"), async () => {
      if ((await group.settled()).length) return; // a file did not go: the summary lists it again
      rememberCase(await api(`/api/v1/cases/${view.id}/items/${item.code}/correction`, { method: "POST", body: { form_data: data, message: form.elements.message.value } }));
      navigate(`#/case/${view.id}`);
    }).catch(async (error) => render_(await correctionPage(view, ref, null, correctionErrors(error), sent)));
  });
  return [summary, back(`#/case/${view.id}`), heading(t("correction.title", { item: label(item.name) }), view), form];
}

/** A result document's link: its title (marked Chinese on an English page), with "Download:" for screen readers. */
function documentLink(d) {
  const [before, after = ""] = t("case.download", { name: "\u0000" }).split("\u0000");
  const hidden = (text) => (text ? h("span", { class: "visually-hidden" }, text) : null);
  return h("a", { href: d.href, download: "", "data-testid": "document" }, hidden(before), zhPart(d.name), hidden(after));
}

/** The API's refusal of a correction, each error at its place: a form field (`form_data.<key>`, also said beside
 * it) or the file a material asked for (`materials.<code>`, the upload field `m-<code>`). */
function correctionErrors(error) {
  if (!(error instanceof ApiError) || !error.errors.length) return errorsFromApi(error);
  return error.errors.map((e) => {
    const path = String(e.field || "");
    const file = path.match(/^materials\.(.+)$/);
    const key = path.startsWith("form_data.") ? path.slice("form_data.".length) : null;
    return { key, field: file ? `m-${file[1]}` : key ? fieldId([key]) : null, message: e.message || problemMessage(error) };
  });
}

async function ratePage(view, ref, _params, errors = []) {
  const item = view.items.find((i) => i.ref === ref);
  if (!item) return notFoundPage();
  const scale = await api("/api/v1/ratings/scale");
  const form = h("form", { novalidate: true, "data-testid": "rate-form" },
    radios({ name: "level", legend: t("rate.question", { item: label(item.name) }), headingLegend: true, error: errors.find((e) => e.field === "level")?.message, options: scale.levels.map((l) => ({ value: l.level, label: pick(l) })) }),
    h("div", { class: "field" }, h("label", { for: "rate-comment" }, t("rate.comment")), h("p", { class: "hint", id: "rate-comment-hint" }, t("rate.comment.hint")), h("textarea", { class: "input", id: "rate-comment", name: "comment", rows: "3", maxlength: "1000", "aria-describedby": "rate-comment-hint" })),
    h("button", { class: "button", type: "submit", "data-testid": "send-rating" }, t("rate.send")));
  form.querySelector("h1").prepend(caption(view));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const level = form.querySelector("input[name=level]:checked")?.value;
    if (!level) return render_(await ratePage(view, ref, null, [{ field: "level", message: t("rate.error") }]));
    await once(form.querySelector('[data-testid="send-rating"]'), t("common.busy"), async () => {
      await api("/api/v1/ratings/matters", { method: "POST", body: { case_id: view.id, item_ref: ref, level: Number(level), comment: form.elements.comment.value } });
      announce(t("rate.thanks"));
      navigate(`#/case/${view.id}`);
    }).catch(async (error) => render_(await ratePage(view, ref, null, errorsFromApi(error))));
  });
  return [errorSummary(errors), back(`#/case/${view.id}`), form].filter(Boolean);
}

async function withdrawPage(view, _arg, _params, errors = []) {
  const form = h("form", { novalidate: true, "data-testid": "withdraw-form" },
    h("div", { class: "warning-box" }, t("withdraw.warning")),
    h("div", { class: "field" }, h("label", { for: "withdraw-reason" }, t("withdraw.reason")), h("textarea", { class: "input", id: "withdraw-reason", name: "reason", rows: "3", maxlength: "500" })),
    h("button", { class: "button button--warning", type: "submit", "data-testid": "confirm-withdraw" }, t("withdraw.confirm")), " ",
    h("a", { href: `#/case/${view.id}` }, t("withdraw.cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await once(form.querySelector("button"), t("common.busy"), async () => {
      rememberCase(await api(`/api/v1/cases/${view.id}/withdraw`, { method: "POST", body: { reason: form.elements.reason.value } }));
      announce(t("withdraw.done"));
      navigate(`#/case/${view.id}`);
    }).catch(async (error) => render_(await withdrawPage(view, null, null, errorsFromApi(error))));
  });
  return [errorSummary(errors), back(`#/case/${view.id}`), heading(t("withdraw.title"), view), form].filter(Boolean);
}

// ---- my cases and notifications ------------------------------------------------------------------------------------------

async function casesPage() {
  await getMe();
  let cases;
  try {
    cases = await api("/api/v1/cases");
  } catch (error) {
    if (error instanceof ApiError && error.code === "offline") cases = [];
    else throw error;
  }
  const logout = h("button", { class: "button button--secondary", type: "button", "data-testid": "logout" }, t("cases.logout"));
  logout.addEventListener("click", () => once(logout, t("common.busy"), async () => {
    await api("/auth/logout", { method: "POST" }).catch(() => {});
    navigator.serviceWorker?.controller?.postMessage({ type: "CLEAR_DATA" });
    Object.keys(localStorage).filter((k) => k.startsWith("yjs.case.") || k.startsWith("yjs.meta.")).forEach((k) => localStorage.removeItem(k));
    me = null;
    location.hash = "";
  }));
  return [
    h("h1", {}, t("cases.title")),
    h("p", {}, t("cases.signedIn", { name: me.name })),
    cases.length ? h("ul", { class: "plain card-list", "data-testid": "case-list" }, cases.map((c) => h("li", { class: "card" },
      h("a", { href: c.status === "draft" ? `#/case/${c.id}/tasks` : `#/case/${c.id}` }, zhPart(c.enterprise_name)),
      h("p", {}, tag(label(c.status_label), c.status === "draft" ? "todo" : c.status === "completed" ? "done" : "progress"), " ", c.number || ""),
      h("p", { class: "hint" }, c.items_total ? t("case.progress", { done: c.items_done, total: c.items_total }) : t("cases.updated", { time: fmtTime(c.updated_at) }))))) : h("p", {}, t("cases.none")),
    h("p", {}, h("a", { class: "button", href: "#/enterprises", "data-testid": "new-case" }, t("cases.new"))),
    logout,
  ];
}

// Text message opt-out (and the language of texts: the one the person uses now).
function smsSettings(prefs) {
  const form = h("form", { novalidate: true, "data-testid": "sms-settings" },
    h("h2", {}, t("notifications.sms.title")),
    radios({ name: "sms", legend: t("notifications.sms.legend"), hint: t("notifications.sms.hint"), value: prefs.sms ? "on" : "off",
      options: [{ value: "on", label: t("notifications.sms.on") }, { value: "off", label: t("notifications.sms.off") }] }),
    h("button", { class: "button button--secondary", type: "submit", "data-testid": "save-sms" }, t("notifications.sms.save")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const sms = form.querySelector("input[name=sms]:checked")?.value !== "off";
    once(form.querySelector("button"), t("common.busy"), async () => {
      await api("/api/v1/notifications/preferences", { method: "PUT", body: { sms, language: currentLocale() === "en" ? "en" : "zh-CN" } });
      announce(t("notifications.sms.saved"));
    }).catch(async (error) => render_([errorSummary(errorsFromApi(error)), ...(await notificationsPage())]));
  });
  return form;
}

async function notificationsPage() {
  await getMe();
  const [list, prefs] = await Promise.all([api("/api/v1/notifications"), api("/api/v1/notifications/preferences").catch(() => null)]);
  for (const n of list.filter((x) => !x.read_at)) api(`/api/v1/notifications/${n.id}/read`, { method: "POST" }).catch(() => {});
  return [
    h("h1", {}, t("notifications.title")),
    prefs ? smsSettings(prefs) : null,
    list.length ? h("ul", { class: "plain card-list", "data-testid": "notifications" }, list.map((n) => h("li", { class: `card${n.read_at ? "" : " card--unread"}` },
      h("p", {}, n.read_at ? null : tag(t("notifications.new"), "progress"), " ", pick(n.text)),
      h("p", { class: "hint" }, fmtTime(n.created_at)),
      n.data?.case ? h("a", { href: `#/case/${n.data.case}` }, t("notifications.open")) : null))) : h("p", {}, t("notifications.none")),
  ];
}
