// 数据汇聚: figures for a period, charts, CSV export links.
import { api, h, showError } from "/staff/staff.js";
import { channelRows, itemsTable, mattersSection, pct, satisfactionSection, table, trendSection } from "/staff/figures.js";

const form = document.getElementById("period");
const root = document.getElementById("figures");
const messages = document.getElementById("messages");

// Codes are shown by name: entity types from the catalog, prefectures from the GB/T 2260 divisions (read once).
let names = null;
async function codeNames() {
  if (!names) {
    const [catalog, divisions] = await Promise.all([api("/api/v1/catalog").catch(() => ({ entity_types: [] })), api("/api/v1/divisions").catch(() => [])]);
    names = {
      entity: Object.fromEntries(catalog.entity_types.map((e) => [e.code, e.name?.["zh-CN"] || e.code])),
      region: Object.fromEntries(divisions.map((d) => [d.code, d.name])),
    };
  }
  return names;
}
const named = (counts, dictionary) => Object.entries(counts).map(([code, n]) => [dictionary[code] || "其他", n]);

async function load() {
  const params = new URLSearchParams();
  for (const key of ["since", "until"]) { const v = form.elements[key].value.trim(); if (v) params.set(key, v); }
  const query = params.toString();
  for (const section of ["items", "volumes", "trend"]) document.getElementById(`csv-${section}`).href = `/api/v1/stats/export?section=${section}${query ? `&${query}` : ""}`;
  try {
    const [f, known] = await Promise.all([api(`/api/v1/stats${query ? `?${query}` : ""}`), codeNames()]);
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
      table("按企业类型", ["企业类型", "申请数"], named(v.by_entity_type, known.entity)),
      table("按地市", ["设区市", "申请数"], named(v.by_region, known.region)),
      table("按渠道", ["渠道", "申请数"], channelRows(v.by_channel)),
      satisfactionSection(f.satisfaction),
    );
  } catch (error) {
    showError(messages, error);
  }
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
load();
