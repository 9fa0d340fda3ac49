// 系统管理: connector modes, dead letters (re-drive), integrations and contacts, catalog versions and diff, jurisdiction.
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

async function integrations() {
  const rows = await api("/api/v1/admin/integrations");
  return table("对接需求登记（部委对接申请表）", ["业务系统", "系统名称", "对接方式", "部署环境", "状态"], rows.map((r) => [r.system, r.system_name, r.docking_mode, r.deployment_environment, r.status]));
}

async function contacts() {
  const rows = await api("/api/v1/admin/contacts");
  return table("专班联络清单", ["事项", "业务系统", "责任单位", "业务联系人", "技术联系人", "牵头部门"], rows.map((r) => [r.matter, r.system, r.responsible_unit, `${r.business_contact} ${r.business_phone}`, `${r.technical_contact} ${r.technical_phone}`, r.lead_department]));
}

async function versions() {
  const rows = await api("/api/v1/admin/catalog/versions");
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

section("modes", modes);
section("dead", dead);
section("integrations", integrations);
section("contacts", contacts);
section("versions", versions);
section("jurisdiction", jurisdiction);
