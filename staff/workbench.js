// 部门工作台: the agency's items with SLA clocks, most urgent first.
import { api, h, pickText, showError, slaOf, tx } from "/staff/staff.js";

const rows = document.getElementById("rows");
const messages = document.getElementById("messages");
const includeClosed = document.getElementById("include-closed");

async function load() {
  try {
    const items = await api(`/api/v1/workbench/items${includeClosed.checked ? "?include_closed=true" : ""}`);
    rows.replaceChildren();
    if (!items.length) rows.append(h("tr", {}, h("td", { colspan: "7" }, tx("empty"))));
    for (const it of items) {
      const sla = slaOf(it.sla);
      rows.append(h("tr", { class: it.sla.overdue ? "is-overdue" : "", "data-testid": "work-item", "data-ref": it.ref, "data-code": it.code },
        h("td", {}, h("a", { href: `/staff/item.html?ref=${encodeURIComponent(it.ref)}`, "data-testid": "open-item" }, it.case_number || it.case_id)),
        h("td", {}, it.enterprise_name, h("br"), h("span", { class: "muted" }, it.uscc)),
        h("td", {}, pickText(it.name), it.manual ? null : h("span", { class: "muted" }, "（系统对接）")),
        h("td", {}, it.region),
        h("td", { "data-testid": "item-status" }, pickText(it.status_label)),
        h("td", {}, it.sla.promised_days ? `${it.sla.promised_days} 个工作日` : "—"),
        h("td", {}, h("span", { class: `sla ${sla.cls}`, "data-testid": "sla" }, sla.text), it.sla.due_on ? h("span", { class: "muted" }, ` (${it.sla.due_on})`) : null)));
    }
  } catch (error) {
    rows.replaceChildren();
    showError(messages, error);
  }
}

includeClosed.addEventListener("change", load);
load();
