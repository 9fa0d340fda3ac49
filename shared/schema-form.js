// Render, read and check a form described by JSON Schema 2020-12 (the plan's merged form):
// zh-CN `title`, `x-title-en`, `description`/`x-description-en`, `examples`, `enum` with
// `x-enum-titles` (and `x-enum-titles-en` when the catalog has them), `const: true` for
// declarations, arrays of objects for repeated groups (bank accounts).
import { currentLocale, t } from "./i18n.js";
import { fieldError, h } from "./ui.js";

const en = () => currentLocale() === "en";
export const titleOf = (p) => (en() && p["x-title-en"]) || p.title || "";
const descriptionOf = (p) => (en() && p["x-description-en"]) || p.description || "";
const enumTitles = (p) => (en() && p["x-enum-titles-en"]) || p["x-enum-titles"] || p.enum;
export const fieldId = (path) => `f-${path.join("-")}`;

/** The value as a person reads it (enum titles, yes/no, arrays one line per item). */
export function displayValue(p, value) {
  if (value === undefined || value === null || value === "") return "";
  if (p.enum) return enumTitles(p)[p.enum.indexOf(value)] ?? String(value);
  if (p.type === "boolean") return value ? (p.const === true ? t("form.confirmed") : t("common.yes")) : t("common.no");
  if (p.type === "array") {
    return h("ul", { class: "plain" }, (value || []).map((item) => h("li", {}, Object.entries(p.items?.properties || {}).map(([k, sub]) => displayValue(sub, item?.[k])).filter(Boolean).join(" · "))));
  }
  return String(value);
}

function control(p, path, value, error) {
  const id = fieldId(path);
  const name = path.join(".");
  const hint = [descriptionOf(p), p.examples && p.type !== "boolean" && !p.enum && p.type !== "array" ? t("form.example", { value: String(p.examples[0]) }) : ""].filter(Boolean).join(" ");
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || null;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const cls = `field${error ? " field--error" : ""}`;
  if (p.type === "boolean" && p.const === true) {
    return h("div", { class: cls, "data-field": name },
      fieldError(id, error),
      h("div", { class: "checkbox" }, h("input", { type: "checkbox", id, name, checked: value === true, "aria-describedby": describedBy }), h("label", { for: id }, titleOf(p))));
  }
  if (p.enum || p.type === "boolean") {
    const values = p.enum || [true, false];
    const labels = p.enum ? enumTitles(p) : [t("common.yes"), t("common.no")];
    return h("div", { class: cls, "data-field": name },
      h("fieldset", { "aria-describedby": describedBy },
        h("legend", {}, titleOf(p)), hintEl, fieldError(id, error),
        h("div", { class: "radios" }, values.map((v, i) => {
          const rid = i === 0 ? id : `${id}-${i}`;
          return h("div", { class: "radio" }, h("input", { type: "radio", id: rid, name, value: JSON.stringify(v), checked: value === v }), h("label", { for: rid }, labels[i]));
        }))));
  }
  if (p.type === "array" && p.items?.type === "object") {
    const count = Math.max((value || []).length, p.minItems || 0);
    return h("div", { class: cls, "data-field": name },
      h("h2", { class: "group-title" }, titleOf(p)), fieldError(id, error),
      Array.from({ length: count }, (_, i) => h("fieldset", { class: "group", id: i === 0 ? id : null, tabindex: i === 0 ? "-1" : null },
        h("legend", {}, t("form.itemNumber", { n: i + 1 })),
        Object.entries(p.items.properties).map(([k, sub]) => control(sub, [...path, i, k], value?.[i]?.[k], null)))));
  }
  if (p["x-validator"] === "division" && !p.readOnly) return divisionPicker(p, id, name, value, error, cls);
  const numeric = p.type === "integer" || p.type === "number";
  return h("div", { class: cls, "data-field": name },
    h("label", { for: id }, titleOf(p)), hintEl, fieldError(id, error),
    h("input", {
      // dates with the phone's own date picker (its value is YYYY-MM-DD, the schema's format)
      id, name, type: p.format === "date" ? "date" : "text", class: p.format === "date" ? "input input--date" : "input", value: value ?? "",
      inputmode: numeric || /^\^?\[0-9\]/.test(p.pattern || "") ? "numeric" : null,
      autocomplete: "off", spellcheck: "false", "aria-describedby": describedBy, "aria-invalid": error ? "true" : null,
      readonly: p.readOnly ? true : null,
    }));
}

// GB/T 2260 divisions, read once per page load (the API's list is the catalog's, with names).
let divisions = null;
const divisionList = () => (divisions ||= fetch("/api/v1/divisions", { headers: { Accept: "application/json" } }).then((r) => (r.ok ? r.json() : [])).catch(() => []));
const divisionName = (d) => (en() && d.name_en) || d.name;

/** A county-level division chosen by name: the city first, then its county (the value stays the code). */
function divisionPicker(p, id, name, value, error, cls) {
  const city = h("select", { id: `${id}-city`, class: "input input--select", "data-testid": "division-city" }, h("option", { value: "" }, t("form.division.city")));
  const county = h("select", { id, name, class: "input input--select", "data-testid": "division-county", "aria-invalid": error ? "true" : null, "aria-describedby": error ? `${id}-error` : null },
    value ? h("option", { value, selected: true }, value) : h("option", { value: "" }, t("form.division.county")));
  divisionList().then((all) => {
    const cities = all.filter((d) => d.level === "prefecture" && d.in_jurisdiction);
    const mine = all.find((d) => d.code === value);
    city.replaceChildren(h("option", { value: "" }, t("form.division.city")), ...cities.map((c) => h("option", { value: c.code, selected: mine?.parent === c.code }, divisionName(c))));
    const fill = () => {
      const chosen = county.value;
      const options = all.filter((d) => d.parent === city.value && d.level === "county");
      county.replaceChildren(h("option", { value: "" }, t("form.division.county")), ...options.map((d) => h("option", { value: d.code, selected: d.code === chosen }, divisionName(d))));
    };
    if (cities.length) fill();
    city.addEventListener("change", fill);
  });
  return h("fieldset", { class: `${cls} division`, "data-field": name },
    h("legend", {}, titleOf(p)), fieldError(id, error),
    h("label", { for: `${id}-city` }, t("form.division.cityLabel")), city,
    h("label", { for: id }, t("form.division.countyLabel")), county);
}

/** Fields for every property of `schema`, prefilled from `data`; `errors` maps field key → message. */
export function schemaFields(schema, data = {}, errors = {}, only = null) {
  return Object.entries(schema.properties || {}).filter(([k]) => !only || only.includes(k)).map(([k, p]) => control(p, [k], data[k], errors[k]));
}

function readValue(p, form, path) {
  const name = path.join(".");
  if (p.type === "boolean" && p.const === true) return form.elements[name]?.checked ? true : undefined;
  if (p.enum || p.type === "boolean") {
    const checked = form.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
    return checked ? JSON.parse(checked.value) : undefined;
  }
  if (p.type === "array" && p.items?.type === "object") {
    const out = [];
    for (let i = 0; form.querySelector(`[name^="${CSS.escape(`${name}.${i}.`)}"]`); i++) {
      const item = {};
      for (const [k, sub] of Object.entries(p.items.properties)) item[k] = readValue(sub, form, [...path, i, k]);
      out.push(item);
    }
    return out;
  }
  const el = form.elements[name];
  if (!el) return undefined;
  const raw = el.value.trim();
  if (raw === "") return undefined;
  if (p.type === "integer" || p.type === "number") return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  return raw;
}

/** Read the values of the rendered properties back from the form. */
export function readFields(schema, form, only = null) {
  const out = {};
  for (const [k, p] of Object.entries(schema.properties || {})) if (!only || only.includes(k)) out[k] = readValue(p, form, [k]);
  return out;
}

function check(p, value) {
  if (value === undefined || value === null || value === "") return null;
  if (p.const !== undefined && value !== p.const) return t("form.error.confirm");
  if (p.enum && !p.enum.includes(value)) return t("form.error.choose");
  if (p.type === "integer" && !Number.isInteger(value)) return t("form.error.integer");
  if (typeof value === "number" && p.minimum !== undefined && value < p.minimum) return t("form.error.minimum", { n: p.minimum });
  if (typeof value === "number" && p.maximum !== undefined && value > p.maximum) return t("form.error.maximum", { n: p.maximum });
  if (typeof value === "string") {
    if (p.minLength && value.length < p.minLength) return t("form.error.minLength", { n: p.minLength });
    if (p.maxLength && value.length > p.maxLength) return t("form.error.maxLength", { n: p.maxLength });
    if (p.pattern && !new RegExp(p.pattern).test(value)) return p.examples ? t("form.error.patternExample", { value: p.examples[0] }) : t("form.error.pattern");
  }
  if (p.type === "array" && p.items?.properties) {
    for (const item of value) for (const [k, sub] of Object.entries(p.items.properties)) {
      const missing = p.items.required?.includes(k) && (item?.[k] === undefined || item?.[k] === "");
      const problem = missing ? t("form.error.requiredNamed", { name: titleOf(sub) }) : check(sub, item?.[k]);
      if (problem) return `${titleOf(sub)}：${problem}`;
    }
  }
  return null;
}

/** Errors as {key: message} for the given keys (all properties by default). */
export function validateFields(schema, data, only = null) {
  const errors = {};
  for (const [k, p] of Object.entries(schema.properties || {})) {
    if (only && !only.includes(k)) continue;
    const value = data[k];
    const empty = value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length);
    if (empty && schema.required?.includes(k)) errors[k] = p.const === true ? t("form.error.confirm") : p.enum || p.type === "boolean" ? t("form.error.choose") : t("form.error.required", { name: titleOf(p) });
    else {
      const problem = check(p, value);
      if (problem) errors[k] = problem;
    }
  }
  return errors;
}
