// Shared helpers of the back-office pages: the page chrome, a sign-in prompt on 401,
// zh-CN / English labels for script-made text, and small formatters.
import { api, ApiError } from "/shared/api.js";
import { currentLocale } from "/shared/i18n.js";
import { h } from "/shared/ui.js";

export { api, ApiError, h };

const TEXT = {
  "zh-CN": {
    signIn: "请先登录工作人员账号。", signInLink: "登录", loading: "正在加载…", empty: "暂无待办事项。", failed: "操作未成功：",
    daysLeft: "剩余 {n} 个工作日", dueToday: "今日到期", overdue: "已超期 {n} 个工作日", noSla: "无承诺时限",
    accepted: "已受理。", corrected: "已退回补正，申请人将收到通知。", approved: "已办结，结果文书已送达申请人。", refused: "已作出不予办理决定。",
  },
  en: {
    signIn: "Please sign in with a staff account.", signInLink: "Sign in", loading: "Loading…", empty: "Nothing to work on.", failed: "That did not work: ",
    daysLeft: "{n} working days left", dueToday: "Due today", overdue: "Overdue by {n} working days", noSla: "No promised time",
    accepted: "Accepted.", corrected: "Sent back for correction; the applicant is notified.", approved: "Completed; the result reached the applicant.", refused: "Refused.",
  },
};

export function tx(key, params = {}) {
  const table = TEXT[currentLocale()] || TEXT["zh-CN"];
  return (table[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
}

export function pickText(record) {
  if (!record) return "";
  if (typeof record === "string") return record;
  return currentLocale() === "en" ? record.en ?? record["zh-CN"] : record["zh-CN"] ?? record.en;
}

/** The SLA clock of an item: a label and a class (ok, soon, overdue). */
export function slaOf(sla) {
  if (!sla || sla.days_left == null) return { text: tx("noSla"), cls: "" };
  if (sla.overdue) return { text: tx("overdue", { n: -sla.days_left }), cls: "sla--overdue" };
  if (sla.days_left === 0) return { text: tx("dueToday"), cls: "sla--soon" };
  return { text: tx("daysLeft", { n: sla.days_left }), cls: sla.days_left <= 1 ? "sla--soon" : "sla--ok" };
}

export function dateTime(ms) {
  return ms ? new Date(ms).toLocaleString(currentLocale(), { timeZone: "Asia/Shanghai", hour12: false }) : "";
}

/** Show an error where the page puts its messages; a 401 becomes a sign-in prompt. */
export function showError(target, error) {
  target.replaceChildren();
  if (error instanceof ApiError && error.status === 401) {
    target.append(h("div", { class: "alert alert--error", role: "alert", "data-testid": "sign-in" }, tx("signIn"), " ",
      h("a", { href: `/auth/login?next=${encodeURIComponent(location.pathname + location.search)}` }, tx("signInLink"))));
    return;
  }
  target.append(h("div", { class: "alert alert--error", role: "alert", "data-testid": "error" }, tx("failed"), error.message || String(error)));
}

export function showOk(target, text) {
  target.replaceChildren(h("div", { class: "alert", role: "status", "data-testid": "ok" }, text));
}
