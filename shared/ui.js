// Small DOM components both channels use (GOV.UK patterns, written for this project):
// element builder, error summary, summary list, tags, radios, task list, live status.
import { currentLocale, t } from "./i18n.js";

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/** The attributes of an element holding Chinese words (an enterprise's or a person's name, a document's
 * title) on a page in another language: lang="zh-CN", so a screen reader reads them as Chinese (WCAG 3.1.2). */
export const zhAttrs = (text) => (currentLocale() !== "zh-CN" && CJK.test(String(text ?? "")) ? { lang: "zh-CN" } : {});

/** `text` in a <span lang="zh-CN"> where `zhAttrs` asks for one; otherwise as is. */
export function zhPart(text) {
  const attrs = zhAttrs(text);
  return attrs.lang ? h("span", attrs, text) : text;
}

/** Build an element: h("p", {class: "x", onclick: fn}, "text", child). Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "html") el.innerHTML = v; // only for markup we generate ourselves (QR SVG)
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== false) el.append(c.nodeType ? c : String(c));
  return el;
}

/** The error summary: a heading and one link per error to its field; focus moves to it. */
export function errorSummary(errors) {
  if (!errors.length) return null;
  return h("div", { class: "error-summary", role: "alert", tabindex: "-1", "data-testid": "error-summary", "aria-labelledby": "error-summary-title" },
    h("h2", { id: "error-summary-title" }, t("error.summary")),
    h("ul", {}, errors.map((e) => h("li", {}, e.field ? h("a", { href: `#${e.field}`, onclick: (ev) => { ev.preventDefault(); document.getElementById(e.field)?.focus(); } }, e.message) : e.message))));
}

export function fieldError(id, message) {
  return message ? h("p", { class: "field-error", id: `${id}-error` }, h("span", { class: "visually-hidden" }, t("error.prefix")), message) : null;
}

/** Rows of key / value / optional change link (check-answers pattern). */
export function summaryList(rows, testid = "summary") {
  return h("dl", { class: "summary", "data-testid": testid },
    rows.map((r) => h("div", { class: "summary__row" },
      h("dt", {}, r.key),
      h("dd", {}, r.value === "" || r.value == null ? h("span", { class: "muted" }, t("common.empty")) : r.value),
      r.href ? h("dd", { class: "summary__action" }, h("a", { href: r.href }, t("common.change"), h("span", { class: "visually-hidden" }, ` ${r.key}`))) : (r.note ? h("dd", { class: "summary__action muted" }, r.note) : h("dd", { class: "summary__action" })))));
}

export function tag(text, kind = "") {
  return h("strong", { class: `tag ${kind ? `tag--${kind}` : ""}` }, text);
}

/** A fieldset of radios; `options` are {value, label, hint}. */
export function radios({ name, legend, options, value, hint, error, headingLegend = false }) {
  const hintId = hint ? `${name}-hint` : null;
  const describedBy = [hintId, error ? `${name}-error` : null].filter(Boolean).join(" ") || null;
  return h("div", { class: `field${error ? " field--error" : ""}` },
    h("fieldset", { "aria-describedby": describedBy },
      h("legend", { class: headingLegend ? "legend--heading" : "" }, headingLegend ? h("h1", { tabindex: "-1" }, legend) : legend),
      hint ? h("p", { class: "hint", id: hintId }, hint) : null,
      fieldError(name, error),
      h("div", { class: "radios" }, options.map((o, i) => {
        const id = i === 0 ? name : `${name}-${i}`;
        return h("div", { class: "radio" },
          h("input", { type: "radio", id, name, value: String(o.value), checked: String(value) === String(o.value) }),
          h("label", { for: id }, o.label), o.hint ? h("p", { class: "hint" }, o.hint) : null);
      }))));
}

/** A task list: sections of {title, href, status, statusKind, testid}. */
export function taskList(tasks) {
  return h("ol", { class: "task-list", "data-testid": "task-list" },
    tasks.map((task) => h("li", { class: "task", "data-testid": `task-${task.id}` },
      task.href ? h("a", { href: task.href, "aria-describedby": `task-${task.id}-status` }, task.title) : h("span", {}, task.title),
      h("span", { id: `task-${task.id}-status`, class: "task__status" }, tag(task.status, task.statusKind)))));
}

/** Announce text politely to screen readers through the page's live region. */
export function announce(text) {
  const region = document.getElementById("live-status");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

/** Run `action` once per press: the button is disabled and relabelled until it settles (no double submission). */
export async function once(button, busyText, action) {
  if (button.dataset.busy) return undefined;
  const label = button.textContent;
  button.dataset.busy = "1";
  button.disabled = true;
  button.setAttribute("aria-disabled", "true");
  button.textContent = busyText;
  try {
    return await action();
  } finally {
    delete button.dataset.busy;
    button.disabled = false;
    button.removeAttribute("aria-disabled");
    button.textContent = label;
  }
}
