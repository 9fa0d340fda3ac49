// 办理事项: the merged form projected to this item, its materials, earlier results, and the actions.
import { api, dateTime, h, pickText, showError, showOk, slaOf, tx } from "/staff/staff.js";

const ref = new URLSearchParams(location.search).get("ref") || "";
const root = document.getElementById("item");
const messages = document.getElementById("messages");
const title = document.getElementById("title");
const base = `/api/v1/workbench/items/${encodeURIComponent(ref)}`;

function facts(rows) {
  return h("dl", { class: "facts" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

function valueText(v) {
  if (v == null || v === "") return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Run one action; the button stays disabled until the answer arrives (no double submission). */
async function act(button, path, options, okText) {
  button.disabled = true;
  try {
    await api(`${base}/${path}`, { method: "POST", ...options });
    showOk(messages, okText);
    await render();
    messages.querySelector("[role=status]")?.focus?.();
  } catch (error) {
    showError(messages, error);
    button.disabled = false;
  }
}

function actionPanels(detail) {
  const allowed = new Set(detail.allowed);
  const panels = [];
  if (!allowed.size) return panels;
  if (allowed.has("accept")) {
    const b = h("button", { type: "button", class: "button", "data-testid": "accept" }, "受理");
    b.addEventListener("click", () => act(b, "accept", { body: {} }, tx("accepted")));
    panels.push(h("section", { class: "panel", "aria-labelledby": "h-accept" }, h("h2", { id: "h-accept" }, "受理"), h("p", {}, "确认收到申请并开始办理。"), b));
  }
  if (allowed.has("request_correction")) {
    const form = h("form", { "data-testid": "correction-form", novalidate: true },
      h("fieldset", {}, h("legend", {}, "需补正的表单字段"),
        detail.form.map((f) => h("label", { class: "check", for: `cf-${f.key}` }, h("input", { type: "checkbox", id: `cf-${f.key}`, name: "field", value: f.key, "data-testid": `pick-field-${f.key}` }), pickText(f.title)))),
      h("fieldset", {}, h("legend", {}, "需补正的材料"),
        detail.materials.length ? detail.materials.map((m) => h("label", { class: "check", for: `cm-${m.id}` }, h("input", { type: "checkbox", id: `cm-${m.id}`, name: "material", value: m.code, "data-testid": `pick-material-${m.code}` }), pickText(m.name))) : h("p", { class: "muted" }, "本事项没有已上传的材料。")),
      h("label", { for: "correction-message" }, "补正说明（申请人可见）"),
      h("textarea", { id: "correction-message", name: "message", required: true, "data-testid": "correction-message" }),
      h("p", {}, h("button", { type: "submit", class: "button", "data-testid": "request-correction" }, "退回补正")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const items = [...data.getAll("field").map((name) => ({ kind: "field", name })), ...data.getAll("material").map((name) => ({ kind: "material", name }))];
      act(form.querySelector("button[type=submit]"), "correction", { body: { items, message: data.get("message") || "" } }, tx("corrected"));
    });
    panels.push(h("section", { class: "panel", "aria-labelledby": "h-correction" }, h("h2", { id: "h-correction" }, "退回补正"), form));
  }
  if (allowed.has("approve")) {
    const form = h("form", { "data-testid": "approve-form", novalidate: true },
      h("label", { for: "result-file" }, "结果文书（PDF）"),
      h("input", { type: "file", id: "result-file", name: "file", accept: "application/pdf", required: true, "data-testid": "result-file" }),
      h("label", { for: "approve-message" }, "办理意见"),
      h("input", { type: "text", id: "approve-message", name: "message", value: "准予注销", "data-testid": "approve-message" }),
      h("p", {}, h("button", { type: "submit", class: "button", "data-testid": "approve" }, "办结并送达结果")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      act(form.querySelector("button[type=submit]"), "approve", { form: new FormData(form) }, tx("approved"));
    });
    panels.push(h("section", { class: "panel", "aria-labelledby": "h-approve" }, h("h2", { id: "h-approve" }, "准予办结"), form));
  }
  if (allowed.has("refuse")) {
    const form = h("form", { "data-testid": "refuse-form", novalidate: true },
      h("label", { for: "refuse-reason" }, "不予办理的理由（申请人可见）"),
      h("textarea", { id: "refuse-reason", name: "reason", required: true, "data-testid": "refuse-reason" }),
      h("p", {}, h("button", { type: "submit", class: "button button--secondary", "data-testid": "refuse" }, "不予办理")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      act(form.querySelector("button[type=submit]"), "refuse", { body: { reason: new FormData(form).get("reason") || "" } }, tx("refused"));
    });
    panels.push(h("section", { class: "panel", "aria-labelledby": "h-refuse" }, h("h2", { id: "h-refuse" }, "不予办理"), form));
  }
  return panels;
}

async function render() {
  let detail;
  try {
    detail = await api(base);
  } catch (error) {
    showError(messages, error);
    return;
  }
  const it = detail.item;
  const sla = slaOf(it.sla);
  title.textContent = `${pickText(it.name)} · ${it.enterprise_name}`;
  document.title = `${pickText(it.name)} · 工作台`;
  root.replaceChildren(
    facts([
      ["申请编号", it.case_number || it.case_id], ["统一社会信用代码", it.uscc], ["事项", `${pickText(it.name)}（${it.code}）`],
      ["状态", h("span", { "data-testid": "status" }, pickText(it.status_label))],
      ["办理期限", h("span", { class: `sla ${sla.cls}`, "data-testid": "sla" }, sla.text, it.sla.due_on ? `（${it.sla.due_on}）` : "")],
      ["渠道", { pwa: "手机端", kiosk: "自助终端", window: "窗口帮办" }[it.channel] || it.channel], ["受理编号", it.reference || "—"],
    ]),
    h("h2", {}, "申请表（本事项所需字段）"),
    h("table", { class: "data", "data-testid": "projected-form" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "字段"), h("th", { scope: "col" }, "接口字段名"), h("th", { scope: "col" }, "填报内容"))),
      h("tbody", {}, detail.form.map((f) => h("tr", {}, h("td", {}, pickText(f.title)), h("td", {}, h("code", {}, f.payload_field)), h("td", {}, valueText(f.value)))))),
    h("h2", {}, "申请材料"),
    detail.materials.length ? h("ul", { "data-testid": "materials" }, detail.materials.map((m) => h("li", {}, h("a", { href: m.href, download: m.filename }, `${pickText(m.name)}（${m.filename}）`)))) : h("p", { class: "muted" }, "无"),
    h("h2", {}, "前序事项办理结果"),
    detail.earlier_results.length ? h("ul", { "data-testid": "earlier-results" }, detail.earlier_results.map((r) => h("li", {}, `${pickText(r.name)}：已办结，${r.reference || ""} `,
      r.documents.map((d) => h("a", { href: d.href, download: d.name }, d.name))))) : h("p", { class: "muted" }, "无"),
    detail.corrections.length ? h("section", { class: "panel" }, h("h2", {}, "已要求补正"), h("ul", {}, detail.corrections.map((c) => h("li", {}, `${c.name}：${c.message}`)))) : "",
    ...actionPanels(detail),
    detail.actions.length ? h("section", {}, h("h2", {}, "办理记录"), h("ul", { "data-testid": "actions-log" }, detail.actions.map((a) => h("li", {}, `${dateTime(a.at)} ${a.actor_name || a.actor}：${a.action} ${a.message}`)))) : "",
  );
}

render();
