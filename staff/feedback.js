// 测试问题反馈: trial staff file problems; the platform team triages, assigns and moves them;
// the reporter confirms the fix or reopens it. Script-made text in zh-CN or English, one at a time.
import { currentLocale } from "/shared/i18n.js";
import { api, dateTime, h, pickText, showError, showOk } from "/staff/staff.js";

const TEXT = {
  "zh-CN": {
    status: { new: "新提交", triaged: "已分派", in_progress: "处理中", fixed: "已修复，待确认", confirmed: "已确认解决", reopened: "已重新打开" },
    severity: { blocker: "阻断", major: "严重", minor: "一般", cosmetic: "轻微" },
    action: { filed: "提交", triaged: "分级指派", status: "更新进度", confirmed: "确认解决", reopened: "重新打开" },
    level: { province: "省级", city: "市级", county: "县级" },
    stats: "统计", total: "合计", byAgency: "按单位", agency: "单位", list: "问题列表", none: "暂无问题反馈。",
    page: "页面", step: "操作步骤", expected: "预期结果", actual: "实际结果", reporter: "反馈人", assignee: "处理人",
    screenshot: "查看截图", history: "处理记录", note: "说明", severityLabel: "严重程度",
    triage: "分级并指派", start: "开始处理", fix: "标记为已修复", confirm: "确认已解决", reopen: "重新打开（请说明原因）",
    filed: "问题已提交，平台技术团队将尽快处理。", saved: "已保存。", all: "全部",
  },
  en: {
    status: { new: "New", triaged: "Assigned", in_progress: "In progress", fixed: "Fixed, awaiting confirmation", confirmed: "Confirmed", reopened: "Reopened" },
    severity: { blocker: "Blocker", major: "Major", minor: "Minor", cosmetic: "Cosmetic" },
    action: { filed: "Filed", triaged: "Triaged", status: "Progress", confirmed: "Confirmed", reopened: "Reopened" },
    level: { province: "Province", city: "City", county: "County" },
    stats: "Statistics", total: "Total", byAgency: "By agency", agency: "Agency", list: "Reports", none: "No problem reports yet.",
    page: "Page", step: "Steps", expected: "Expected", actual: "Actual", reporter: "Reporter", assignee: "Assignee",
    screenshot: "View screenshot", history: "History", note: "Note", severityLabel: "Severity",
    triage: "Triage and assign", start: "Start work", fix: "Mark fixed", confirm: "Confirm it is solved", reopen: "Reopen (say why)",
    filed: "Filed; the platform team will handle it soon.", saved: "Saved.", all: "All",
  },
};
const T = TEXT[currentLocale()] || TEXT["zh-CN"];
const messages = document.getElementById("messages");
const statsRoot = document.getElementById("stats");
const listRoot = document.getElementById("reports");
const form = document.getElementById("report-form");
let me = null;

async function post(path, body) {
  await api(path, { method: "POST", body });
  showOk(messages, T.saved);
  await refresh();
}

function actionForm(r, label, run, { withSeverity = false, noteRequired = false } = {}) {
  const noteId = `note-${r.id}-${label}`;
  const parts = [];
  if (withSeverity) {
    const sid = `severity-${r.id}`;
    const aid = `assignee-${r.id}`;
    parts.push(h("label", { for: sid }, T.severityLabel),
      h("select", { id: sid, name: "severity" }, ...Object.entries(T.severity).map(([k, v]) => h("option", { value: k, selected: r.severity === k }, v))),
      h("label", { for: aid }, T.assignee), h("input", { id: aid, name: "assignee", value: r.assignee || "", maxlength: 80, required: true }));
  }
  parts.push(h("label", { for: noteId }, T.note), h("textarea", { id: noteId, name: "note", required: noteRequired }));
  const el = h("form", { novalidate: true, class: "panel" }, ...parts, h("p", {}, h("button", { type: "submit", class: "button" }, label)));
  el.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = el.querySelector("button");
    button.disabled = true;
    try {
      await run(Object.fromEntries(new FormData(el)));
    } catch (error) {
      showError(messages, error);
      button.disabled = false;
    }
  });
  return el;
}

function actions(r) {
  const base = `/api/v1/feedback/reports/${encodeURIComponent(r.id)}`;
  const out = [];
  const admin = me && me.roles.includes("admin");
  if (admin && ["new", "triaged", "in_progress", "reopened"].includes(r.status)) {
    out.push(actionForm(r, T.triage, (f) => post(`${base}/triage`, { severity: f.severity, assignee: f.assignee, note: f.note }), { withSeverity: true }));
  }
  if (admin && ["triaged", "reopened"].includes(r.status)) out.push(actionForm(r, T.start, (f) => post(`${base}/status`, { status: "in_progress", note: f.note })));
  if (admin && r.status === "in_progress") out.push(actionForm(r, T.fix, (f) => post(`${base}/status`, { status: "fixed", note: f.note })));
  if (me && r.reporter_id === (me.person_id || me.subject) && r.status === "fixed") {
    out.push(actionForm(r, T.confirm, (f) => post(`${base}/confirm`, { note: f.note })));
    out.push(actionForm(r, T.reopen, (f) => post(`${base}/reopen`, { note: f.note }), { noteRequired: true }));
  }
  return out;
}

async function reportPanel(summary) {
  const r = await api(`/api/v1/feedback/reports/${encodeURIComponent(summary.id)}`);
  return h("section", { class: "panel", "data-testid": "feedback-report", "aria-labelledby": `fb-${r.id}` },
    h("h3", { id: `fb-${r.id}` }, `${T.status[r.status] || ""} · ${pickText(r.agency_name)} · ${T.level[r.level] || ""}${r.severity ? ` · ${T.severity[r.severity] || ""}` : ""}`),
    h("dl", { class: "facts" },
      h("dt", {}, T.page), h("dd", {}, r.page),
      h("dt", {}, T.step), h("dd", {}, r.step),
      h("dt", {}, T.expected), h("dd", {}, r.expected),
      h("dt", {}, T.actual), h("dd", {}, r.actual),
      h("dt", {}, T.reporter), h("dd", {}, r.reporter_name || r.reporter_id),
      h("dt", {}, T.assignee), h("dd", {}, r.assignee || "—")),
    r.has_screenshot ? h("p", {}, h("a", { href: `/api/v1/feedback/reports/${encodeURIComponent(r.id)}/screenshot`, target: "_blank", rel: "noopener" }, T.screenshot)) : "",
    h("h4", {}, T.history),
    h("ul", {}, r.events.map((e) => h("li", {}, `${dateTime(e.at)} ${e.actor_name || e.actor_id} ${T.action[e.action] || ""}${e.to_status ? ` → ${T.status[e.to_status] || ""}` : ""}${e.detail.note ? `：${e.detail.note}` : ""}`))),
    ...actions(r));
}

function statsView(s) {
  const statusCells = (counts) => s.statuses.map((k) => h("td", { class: "num" }, String(counts[k] || 0)));
  return [h("h2", {}, T.stats),
    h("ul", { class: "figures" },
      h("li", { class: "figure" }, T.total, h("strong", { "data-testid": "feedback-total" }, String(s.total))),
      ...s.statuses.map((k) => h("li", { class: "figure" }, T.status[k], h("strong", {}, String(s.by_status[k] || 0))))),
    s.by_agency.length ? h("table", { class: "data", "data-testid": "feedback-by-agency" },
      h("caption", {}, T.byAgency),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, T.agency), h("th", { scope: "col" }, T.total), ...s.statuses.map((k) => h("th", { scope: "col" }, T.status[k])))),
      h("tbody", {}, ...s.by_agency.map((row) => h("tr", {}, h("th", { scope: "row" }, pickText(row.agency_name)), h("td", { class: "num" }, String(row.total)), ...statusCells(row.by_status))))) : ""];
}

async function refresh() {
  try {
    me = me || await api("/api/v1/me");
    statsRoot.replaceChildren(...statsView(await api("/api/v1/feedback/stats")));
    const rows = await api("/api/v1/feedback/reports");
    listRoot.replaceChildren(h("h2", {}, T.list), rows.length ? "" : h("p", {}, T.none), ...(await Promise.all(rows.map(reportPanel))));
  } catch (error) {
    showError(messages, error);
  }
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  const data = new FormData(form);
  const file = data.get("screenshot");
  if (!file || !file.size) data.delete("screenshot");  // no screenshot: send none, not an empty part
  try {
    await api("/api/v1/feedback/reports", { method: "POST", form: data, idempotent: true });
    form.reset();
    showOk(messages, T.filed);
    await refresh();
  } catch (error) {
    showError(messages, error);
  } finally {
    button.disabled = false;
  }
});

refresh();
