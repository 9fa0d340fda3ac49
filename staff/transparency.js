// 政务公开: aggregate figures only (no case-level data), from the public endpoint.
import { api, h, showError } from "/staff/staff.js";
import { channelRows, itemsTable, mattersSection, pct, satisfactionSection, table, trendSection } from "/staff/figures.js";

const root = document.getElementById("figures");
try {
  const f = await api("/api/v1/public/transparency");
  root.replaceChildren(
    h("ul", { class: "figures" },
      h("li", { class: "figure" }, "累计申请", h("strong", { "data-testid": "public-cases" }, String(f.cases))),
      h("li", { class: "figure" }, "按时办结率", h("strong", {}, pct(f.sla.compliance))),
      h("li", { class: "figure" }, "满意率", h("strong", {}, pct(f.satisfaction.satisfaction)))),
    trendSection(f.trend),
    mattersSection(f.by_matter),
    itemsTable(f.items, false),
    table("按渠道", ["渠道", "申请数"], channelRows(f.by_channel)),
    satisfactionSection(f.satisfaction),
  );
} catch (error) {
  showError(document.getElementById("messages"), error);
}
