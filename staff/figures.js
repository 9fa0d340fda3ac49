// Shared rendering of statistics (staff page) and public figures (transparency page).
import { h, pickText } from "/staff/staff.js";
import { barChart, lineChart } from "/staff/charts.js";

export const MATTERS = { tax: "税务注销", registration: "企业注销登记", customs: "海关报关单位备案注销", social_insurance: "注销社会保险登记", bank: "银行账户注销", seal: "企业印章注销" };
const CHANNELS = { pwa: "手机端", kiosk: "自助终端", window: "窗口帮办" };

export function pct(v) {
  return v == null ? "—" : `${(v * 100).toFixed(1)}%`;
}

export function table(caption, head, rows, testid) {
  // numeric columns (every value a number, a percentage or empty) are right-aligned
  const numeric = head.map((_, i) => i > 0 && rows.length > 0 && rows.every((r) => r[i] == null || typeof r[i] === "number" || /^[\d.]+%$|^—$/.test(String(r[i]))));
  return h("table", { class: "data", "data-testid": testid || null },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: numeric[i] ? "num" : "" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i ? h("td", { class: numeric[i] ? "num" : "" }, c ?? "—") : h("th", { scope: "row" }, c)))))));
}

export function trendSection(trend) {
  const labels = trend.map((r) => r.day);
  return h("section", {}, h("h2", {}, "近30日趋势"),
    lineChart(labels, [{ name: "提交申请", values: trend.map((r) => r.submitted) }, { name: "办结申请", values: trend.map((r) => r.closed) }], { title: "近30日每日提交与办结的申请数" }),
    h("details", {}, h("summary", {}, "以表格查看趋势数据"), table("每日提交与办结", ["日期", "提交", "办结"], trend.map((r) => [r.day, r.submitted, r.closed]))));
}

export function mattersSection(byMatter) {
  const entries = Object.entries(byMatter).map(([k, v]) => [MATTERS[k] || k, v]);
  return h("section", {}, h("h2", {}, "各部门事项办件量"), barChart(entries, { title: "各部门事项办件量" }), table("各部门事项办件量", ["事项", "件数"], entries));
}

export function channelRows(byChannel) {
  return Object.entries(byChannel).map(([k, v]) => [CHANNELS[k] || k, v]);
}

export function itemsTable(items, withCounts = true) {
  const rows = Object.entries(items).map(([code, v]) => [
    `${pickText(v.name)}（${code}）`, v.promised_days, v.closed, v.median_days, v.p90_days, pct(v.sla_compliance), ...(withCounts ? [v.open_overdue] : []),
  ]);
  const head = ["事项", "承诺时限（工作日）", "已办结", "用时中位数（工作日）", "用时90分位（工作日）", "按时办结率", ...(withCounts ? ["在办超期"] : [])];
  return table("各事项办理用时与按时办结率", head, rows, "items-table");
}

export function satisfactionSection(sat) {
  if (!sat) return "";
  const levels = Object.entries(sat.by_level || {}).sort((a, b) => Number(b[0]) - Number(a[0])).map(([k, v]) => [pickText(sat.level_labels?.[k]) || k, v]);
  return h("section", {}, h("h2", {}, "好差评"),
    h("p", {}, `评价 ${sat.total} 条，满意率（基本满意及以上）${pct(sat.satisfaction)}。`),
    levels.length ? table("各评价等级数量", ["等级", "条数"], levels) : "");
}
