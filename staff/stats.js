// 数据汇聚: figures for a period, charts, CSV export links.
import { api, h, showError } from "/staff/staff.js";
import { channelRows, itemsTable, mattersSection, pct, satisfactionSection, table, trendSection } from "/staff/figures.js";

const form = document.getElementById("period");
const root = document.getElementById("figures");
const messages = document.getElementById("messages");

async function load() {
  const params = new URLSearchParams();
  for (const key of ["since", "until"]) { const v = form.elements[key].value.trim(); if (v) params.set(key, v); }
  const query = params.toString();
  for (const section of ["items", "volumes", "trend"]) document.getElementById(`csv-${section}`).href = `/api/v1/stats/export?section=${section}${query ? `&${query}` : ""}`;
  try {
    const f = await api(`/api/v1/stats${query ? `?${query}` : ""}`);
    messages.replaceChildren();
    const v = f.volumes;
    root.replaceChildren(
      h("ul", { class: "figures" },
        h("li", { class: "figure" }, "申请", h("strong", { "data-testid": "figure-cases" }, String(v.cases))),
        h("li", { class: "figure" }, "事项", h("strong", {}, String(v.items))),
        h("li", { class: "figure" }, "按时办结率", h("strong", { "data-testid": "figure-sla" }, pct(f.sla.compliance))),
        h("li", { class: "figure" }, "满意率", h("strong", {}, pct(f.satisfaction?.satisfaction)))),
      trendSection(f.trend),
      mattersSection(v.by_matter),
      itemsTable(f.items),
      table("按企业类型", ["企业类型", "申请数"], Object.entries(v.by_entity_type)),
      table("按地市（行政区划）", ["区划代码", "申请数"], Object.entries(v.by_region)),
      table("按渠道", ["渠道", "申请数"], channelRows(v.by_channel)),
      satisfactionSection(f.satisfaction),
    );
  } catch (error) {
    showError(messages, error);
  }
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
load();
