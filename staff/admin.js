// 系统管理: connector modes, dead letters (re-drive), integrations and contacts, catalog versions and diff,
// catalog publication (publish, roll back), users and roles (the staff directory), jurisdiction.
import { ApiError } from "/shared/api.js";
import { api, dateTime, h, pickText, showError, showOk } from "/staff/staff.js";
import { table } from "/staff/figures.js";

const messages = document.getElementById("messages");
const $ = (id) => document.getElementById(id);

async function section(id, load) {
  try {
    $(id).replaceChildren(await load());
  } catch (error) {
    showError(messages, error);
  }
}

function button(text, onclick, testid, secondary = false) {
  const b = h("button", { type: "button", class: `button${secondary ? " button--secondary" : ""}`, "data-testid": testid || null }, text);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try { await onclick(); } catch (error) { showError(messages, error); } finally { b.disabled = false; }
  });
  return b;
}

async function modes() {
  const rows = await api("/api/v1/admin/connector-modes");
  return h("table", { class: "data", "data-testid": "modes" },
    h("caption", {}, "各业务系统的对接方式"),
    h("thead", {}, h("tr", {}, ["业务系统", "代码", "当前方式", "最近修改", "操作"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((m) => h("tr", { "data-system": m.system },
      h("th", { scope: "row" }, pickText(m.name)), h("td", {}, h("code", {}, m.system)),
      h("td", { "data-testid": "mode" }, m.mode === "manual" ? "人工办理" : "系统对接"),
      h("td", {}, m.updated_at ? `${dateTime(m.updated_at)} ${m.changed_by}` : "—"),
      h("td", {}, button(m.mode === "manual" ? `切换为系统对接：${m.system}` : `切换为人工办理：${m.system}`, async () => {
        await api(`/api/v1/admin/connector-modes/${m.system}`, { method: "PUT", body: { mode: m.mode === "manual" ? "api" : "manual" } });
        showOk(messages, "已切换。");
        await section("modes", modes);
      }, `switch-${m.system}`, true))))));
}

async function dead() {
  const rows = await api("/api/v1/admin/dead-letters");
  if (!rows.length) return h("p", { "data-testid": "dead-empty" }, "当前没有推送失败的事项或死信任务。");
  return h("table", { class: "data", "data-testid": "dead-letters" },
    h("caption", {}, "推送失败的事项与死信任务"),
    h("thead", {}, h("tr", {}, ["类型", "申请/任务", "系统", "错误", "时间", "操作"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((d) => h("tr", {},
      h("th", { scope: "row" }, d.kind === "item" ? "推送失败事项" : "死信任务"),
      h("td", {}, d.kind === "item" ? `${d.case_number || d.case_id} ${d.code}` : `#${d.job_id} ${d.job_kind}`),
      h("td", {}, d.system || "—"), h("td", {}, d.error || "—"), h("td", {}, dateTime(d.at)),
      h("td", {}, button("重新推送", async () => {
        if (d.kind === "item") await api(`/api/v1/admin/dead-letters/items/${encodeURIComponent(d.ref)}/redrive`, { method: "POST" });
        else await api(`/api/v1/admin/jobs/${d.job_id}/redrive`, { method: "POST" });
        showOk(messages, "已重新排队推送。");
        await section("dead", dead);
      }, null, true))))));
}

// ---------------------------------------------------------------- 节假日安排

const dates = (text) => text.split(/[\s,，、]+/).map((d) => d.trim()).filter(Boolean);

function holidayBody() {
  return {
    year: Number($("holiday-year").value),
    holidays: dates($("holiday-off").value),
    workdays: dates($("holiday-on").value),
    source: $("holiday-source").value,
    note: $("holiday-note").value,
  };
}

function diffTable(d) {
  const list = (xs) => xs.join("、") || "—";
  return table(`${d.year}年节假日安排的变化${d.was_official ? "" : "（此前按法定节假日推算）"}`, ["项目", "日期"], [
    ["新增放假", list(d.holidays_added)], ["取消放假", list(d.holidays_removed)],
    ["新增调休上班", list(d.workdays_added)], ["取消调休上班", list(d.workdays_removed)],
    ["承诺办结日期改变的事项", String(d.moved)],
  ], "holiday-diff");
}

async function holidays() {
  const state = await api("/api/v1/admin/calendar");
  $("holiday-warning").replaceChildren(...(state.warning
    ? [h("div", { class: "warning-box", "data-testid": "holiday-warning" }, pickText(state.warning))] : []));
  if (state.missing_next_year && !$("holiday-year").value) $("holiday-year").value = state.missing_next_year;
  const years = table("各年节假日安排", ["年份", "来源", "放假日（周末以外）"], state.years.map((y) => [
    `${y.year}${y.official ? "" : "（推算，预计）"}`, y.source, y.days_off.join("、")]), "holiday-years");
  const log = table("导入记录", ["时间", "年份", "依据", "导入人", "改变的承诺日期"], state.imports.map((i) => [
    dateTime(i.imported_at), String(i.year), i.source, i.imported_by, String(i.moved)]), "holiday-imports");
  return h("div", {}, years, log);
}

$("holiday-preview").addEventListener("click", async () => {
  try {
    $("holiday-diff").replaceChildren(diffTable(await api("/api/v1/admin/calendar/preview", { method: "POST", body: holidayBody() })));
  } catch (error) {
    showError(messages, error);
  }
});

$("holiday-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("holiday-import").disabled = true;
  try {
    const done = await api("/api/v1/admin/calendar/imports", { method: "POST", body: holidayBody() });
    showOk(messages, `已导入${done.year}年节假日安排，${done.moved}个事项的承诺办结日期已改变并通知申请人。`);
    $("holiday-diff").replaceChildren(diffTable({ year: done.year, ...done.diff, moved: done.moved }));
    await section("holidays", holidays);
  } catch (error) {
    showError(messages, error);
  } finally {
    $("holiday-import").disabled = false;
  }
});

async function integrations() {
  const rows = await api("/api/v1/admin/integrations");
  return table("对接需求登记（部委对接申请表）", ["业务系统", "填报部门", "系统名称", "对接方式", "部署环境", "事项行使层级", "年均办件量", "状态"], rows.map((r) => [r.system, r.filing_department, r.system_name, r.docking_mode, r.deployment_environment, (r.level || []).join("、"), r.annual_volume, r.status]));
}

async function contacts() {
  const rows = await api("/api/v1/admin/contacts");
  return table("专班联络清单", ["事项", "业务系统", "责任单位", "业务联系人", "技术联系人", "牵头部门"], rows.map((r) => [r.matter, r.system, r.responsible_unit, `${r.business_contact} ${r.business_phone}`, `${r.technical_contact} ${r.technical_phone}`, r.lead_department]));
}

async function versions() {
  const rows = await api("/api/v1/admin/catalog/versions");
  const published = await api("/api/v1/admin/catalog/publications").catch(() => null);
  if (published) for (const v of rows) v.current = v.version === published.current;
  for (const id of ["diff-base", "diff-other"]) $(id).replaceChildren(...rows.map((v) => h("option", { value: v.version }, v.version)));
  if (rows.length > 1) $("diff-other").value = rows[rows.length - 1].version;
  return table("事项目录版本", ["版本", "生效日期", "事项", "材料", "表单字段", "规则", "当前"], rows.map((v) => [v.version, v.effective_from, v.items, v.materials, v.form_fields, v.rules, v.current ? "是" : "否"]));
}

$("diff-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const base = $("diff-base").value;
  const other = $("diff-other").value;
  try {
    const diff = await api(`/api/v1/admin/catalog/diff?base=${encodeURIComponent(base)}&other=${encodeURIComponent(other)}`);
    const rows = Object.entries(diff.sections).map(([name, s]) => [name, s.added.join("、") || "—", s.removed.join("、") || "—", s.changed.map((c) => `${c.code}(${c.fields.join(",")})`).join("、") || "—"]);
    $("diff").replaceChildren(table(`目录 ${base} 与 ${other} 的差异`, ["部分", "新增", "删除", "修改"], rows, "catalog-diff"));
  } catch (error) {
    showError(messages, error);
  }
});

async function jurisdiction() {
  const j = await api("/api/v1/admin/jurisdiction");
  return h("dl", { class: "facts", "data-testid": "jurisdiction" },
    h("dt", {}, "名称"), h("dd", {}, pickText(j.name)),
    h("dt", {}, "服务区划（前缀）"), h("dd", {}, j.include.join("、")),
    h("dt", {}, "不受理区划"), h("dd", {}, j.exclude.length ? j.exclude.map((e) => `${e.prefix}：${pickText(e.message)}`).join("；") : "无"),
    h("dt", {}, "目录版本"), h("dd", {}, j.catalog_version));
}

// ---------------------------------------------------------------- 事项目录发布

const ACTIONS = { publish: "发布", rollback: "回退" };

async function publication() {
  const state = await api("/api/v1/admin/catalog/publications");
  $("publish-version").replaceChildren(...state.versions.map((v) => h("option", { value: v.version, selected: v.current || null },
    `${v.version}${v.current ? "（当前）" : ""}${v.latest ? "（最新）" : ""}`)));
  $("rollback-go").disabled = !state.can_roll_back_to;
  $("rollback-go").textContent = state.can_roll_back_to ? `回退到上一发布版本（${state.can_roll_back_to}）` : "回退到上一发布版本（无可回退）";
  $("publication-history").replaceChildren(state.history.length
    ? table("发布记录（最新在前）", ["时间", "操作", "版本", "此前版本", "操作人", "说明"],
      state.history.map((r) => [dateTime(r.published_at), ACTIONS[r.action] || r.action, r.version, r.previous_version || "—", r.published_by, r.note || "—"]), "publication-history")
    : h("p", { "data-testid": "publication-empty" }, "尚无发布记录：新建申请使用部署中最新的目录版本。"));
  return h("div", {},
    h("p", { "data-testid": "catalog-current" }, "当前发布版本：", h("strong", {}, state.current),
      state.source === "default" ? "（未发布过，默认使用最新版本）" : ""),
    table("各目录版本的发布情况", ["版本", "生效日期", "状态", "发布次数", "最近发布"], state.versions.map((v) =>
      [v.version, v.effective_from, [v.current ? "当前" : "", v.latest ? "最新" : ""].filter(Boolean).join("、") || "—", v.published_count, v.last_published_at ? dateTime(v.last_published_at) : "—"]), "publication-versions"));
}

async function afterPublication(text) {
  $("publish-note").value = "";
  showOk(messages, text);
  await section("publication", publication);
  await section("versions", versions);
}

$("publish-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const version = $("publish-version").value;
  try {
    await api("/api/v1/admin/catalog/publications", { method: "POST", body: { version, note: $("publish-note").value.trim() } });
    await afterPublication(`已发布目录版本 ${version}，新建申请将使用该版本。`);
  } catch (error) {
    showError(messages, error);
  }
});

$("rollback-go").addEventListener("click", async () => {
  try {
    const row = await api("/api/v1/admin/catalog/rollback", { method: "POST", body: { note: $("publish-note").value.trim() } });
    await afterPublication(`已回退，当前发布版本为 ${row.version}。`);
  } catch (error) {
    showError(messages, error);
  }
});

// ---------------------------------------------------------------- 用户与角色

const ROLE_LABELS = { agency_staff: "部门工作人员", window_staff: "窗口工作人员", admin: "平台管理员" };
const FIELD_LABELS = { subject: "工号", name: "姓名", roles: "角色", agencies: "业务系统", regions: "辖区", hall: "服务大厅", active: "启用" };
let agencyCodes = [];
let editing = null; // subject being changed, or null when adding

async function loadAgencies() {
  try {
    const systems = await api("/api/v1/admin/connector-modes");
    agencyCodes = systems.map((s) => s.system);
    $("staff-agencies").replaceChildren(...systems.map((s) => h("div", { class: "checkbox" },
      h("input", { type: "checkbox", id: `staff-agency-${s.system}`, name: "agencies", value: s.system }),
      h("label", { for: `staff-agency-${s.system}` }, `${pickText(s.name)}（${s.system}）`))));
  } catch (error) {
    showError(messages, error);
  }
}

async function staffTable() {
  const rows = await api("/api/v1/admin/staff");
  if (!rows.length) return h("p", { "data-testid": "staff-empty" }, "名录中尚无工作人员。");
  return h("table", { class: "data", "data-testid": "staff-table" },
    h("caption", {}, "工作人员名录"),
    h("thead", {}, h("tr", {}, ["工号", "姓名", "角色", "业务系统", "辖区", "服务大厅", "状态", "操作"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((m) => h("tr", { "data-subject": m.subject },
      h("th", { scope: "row" }, h("code", {}, m.subject)), h("td", {}, m.name),
      h("td", {}, m.roles.map((r) => ROLE_LABELS[r] || r).join("、")), h("td", {}, m.agencies.join("、") || "—"),
      h("td", {}, m.regions.join("、") || "—"), h("td", {}, m.hall || "—"),
      h("td", { "data-testid": "staff-status" }, m.active ? "启用" : "已停用"),
      h("td", {}, h("div", { class: "actions" },
        button(`修改：${m.name}（${m.subject}）`, async () => startEdit(m), `edit-${m.subject}`, true),
        m.active ? button(`停用：${m.name}（${m.subject}）`, async () => {
          await api(`/api/v1/admin/staff/${encodeURIComponent(m.subject)}/deactivate`, { method: "POST" });
          showOk(messages, `已停用 ${m.name}（${m.subject}），自下次登录起不再授予角色。`);
          await section("staff", staffTable);
        }, `deactivate-${m.subject}`, true) : null))))));
}

function checked(name) {
  return [...document.querySelectorAll(`#staff-form input[name="${name}"]:checked`)].map((i) => i.value);
}

function formValues() {
  return {
    subject: $("staff-subject").value.trim(),
    name: $("staff-name").value.trim(),
    roles: checked("roles"),
    agencies: checked("agencies"),
    regions: $("staff-regions").value.split(/[,，、\s]+/).map((r) => r.trim()).filter(Boolean),
    hall: $("staff-hall").value.trim(),
    active: $("staff-active").checked,
  };
}

function setBoxes(name, values) {
  for (const input of document.querySelectorAll(`#staff-form input[name="${name}"]`)) input.checked = values.includes(input.value);
}

function startEdit(member) {
  editing = member.subject;
  clearErrors();
  $("h-staff-form").textContent = `修改工作人员：${member.name}（${member.subject}）`;
  $("staff-subject").value = member.subject;
  $("staff-subject").readOnly = true;
  $("staff-name").value = member.name;
  setBoxes("roles", member.roles);
  setBoxes("agencies", member.agencies);
  $("staff-regions").value = member.regions.join(", ");
  $("staff-hall").value = member.hall || "";
  $("staff-active").checked = member.active;
  if (!$("staff-cancel")) {
    $("staff-actions").append(h("button", { type: "button", id: "staff-cancel", class: "button button--secondary", onclick: resetForm }, "取消修改"));
  }
  $("staff-name").focus();
}

function resetForm() {
  editing = null;
  $("staff-form").reset();
  $("staff-subject").readOnly = false;
  $("h-staff-form").textContent = "新增工作人员";
  $("staff-cancel")?.remove();
  clearErrors();
}

/** The element an error's link moves focus to, for a field name such as "roles.1" or "regions". */
function fieldTarget(field) {
  const base = field.split(".")[0];
  if (base === "roles") return "staff-role-agency_staff";
  if (base === "agencies") return agencyCodes.length ? `staff-agency-${agencyCodes[0]}` : "staff-subject";
  return $(`staff-${base}`) ? `staff-${base}` : null;
}

function clearErrors() {
  $("staff-errors").replaceChildren();
  for (const el of document.querySelectorAll("#staff-form .field-error")) el.remove();
  for (const el of document.querySelectorAll("#staff-form .field--error")) el.classList.remove("field--error");
  for (const el of document.querySelectorAll("#staff-form [aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of document.querySelectorAll("#staff-form [data-described]")) {
    el.setAttribute("aria-describedby", el.dataset.described);
    el.removeAttribute("data-described");
  }
}

function describe(el, id) {
  if (!el) return;
  const before = el.getAttribute("aria-describedby") || "";
  if (!el.hasAttribute("data-described")) el.dataset.described = before;
  el.setAttribute("aria-describedby", `${before} ${id}`.trim());
}

/** The error summary (links to each field) and an inline message at each field (GOV.UK pattern). */
function showFieldErrors(errors) {
  clearErrors();
  const items = errors.map((e) => ({ ...e, base: e.field.split(".")[0], target: fieldTarget(e.field) }));
  $("staff-errors").replaceChildren(h("div", { class: "error-summary", role: "alert", tabindex: "-1", "aria-labelledby": "staff-error-title", "data-testid": "staff-error-summary" },
    h("h2", { id: "staff-error-title" }, "请修改以下问题"),
    h("ul", {}, items.map((e) => h("li", {}, e.target
      ? h("a", { href: `#${e.target}`, onclick: (ev) => { ev.preventDefault(); $(e.target)?.focus(); } }, `${FIELD_LABELS[e.base] || e.base}：${e.message}`)
      : `${FIELD_LABELS[e.base] || e.base}：${e.message}`)))));
  for (const [base, list] of Object.entries(Object.groupBy ? Object.groupBy(items, (e) => e.base) : groupBy(items))) {
    const container = $(`staff-field-${base}`);
    if (!container) continue;
    const id = `staff-${base}-error`;
    const message = h("p", { class: "field-error", id, "data-testid": `error-${base}` }, h("span", { class: "visually-hidden" }, "错误："), list.map((e) => e.message).join(" "));
    const anchor = container.querySelector("legend") || container.querySelector("label");
    (anchor?.nextElementSibling?.classList.contains("hint") ? anchor.nextElementSibling : anchor).after(message);
    container.classList.add("field--error");
    if (container.tagName === "FIELDSET") describe(container, id);
    else {
      const input = container.querySelector("input");
      input?.setAttribute("aria-invalid", "true");
      describe(input, id);
    }
  }
  $("staff-errors").firstChild.focus();
}

function groupBy(items) {
  const out = {};
  for (const e of items) (out[e.base] ||= []).push(e);
  return out;
}

$("staff-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const values = formValues();
  $("staff-save").disabled = true;
  try {
    if (editing) {
      const { subject, ...change } = values;
      await api(`/api/v1/admin/staff/${encodeURIComponent(editing)}`, { method: "PATCH", body: change });
      showOk(messages, `已保存 ${values.name}（${editing}）的角色与范围。`);
    } else {
      await api("/api/v1/admin/staff", { method: "POST", body: values });
      showOk(messages, `已添加 ${values.name}（${values.subject}）。`);
    }
    resetForm();
    await section("staff", staffTable);
  } catch (error) {
    if (error instanceof ApiError && error.errors.length) {
      messages.replaceChildren();
      showFieldErrors(error.errors);
    } else {
      showError(messages, error);
    }
  } finally {
    $("staff-save").disabled = false;
  }
});

section("holidays", holidays);
section("modes", modes);
section("dead", dead);
section("integrations", integrations);
section("contacts", contacts);
section("versions", versions);
section("jurisdiction", jurisdiction);
section("publication", publication);
loadAgencies().then(() => section("staff", staffTable));
