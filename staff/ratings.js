// 好差评整改: bad ratings to follow up (回访, 整改, 答复) with working-day deadlines; appeals to re-review.
import { api, dateTime, h, pickText, showError, showOk } from "/staff/staff.js";

const root = document.getElementById("follow-ups");
const appealsRoot = document.getElementById("appeals");
const reportRoot = document.getElementById("report");
const messages = document.getElementById("messages");
const STATUS = { open: "待回访", visited: "已回访，待整改", rectified: "已整改，待答复", replied: "已答复，待申请人再评价", closed: "已办结", void: "已撤销（申诉成立）" };
const NEXT = { open: ["visit", "回访记录"], visited: ["rectification", "整改措施"], rectified: ["reply", "答复申请人"] };

function stepForm(f) {
  const next = NEXT[f.status];
  if (!next) return "";
  const id = `note-${f.id}`;
  const form = h("form", { novalidate: true, "data-testid": `step-${next[0]}` },
    h("label", { for: id }, next[1]), h("textarea", { id, name: "note", required: true }),
    h("p", {}, h("button", { type: "submit", class: "button" }, `提交${next[1]}`)));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const b = form.querySelector("button");
    b.disabled = true;
    try {
      await api(`/api/v1/ratings/follow-ups/${f.id}/${next[0]}`, { method: "POST", body: { note: new FormData(form).get("note") || "" } });
      showOk(messages, "已保存。");
      await load();
      report();
    } catch (error) {
      showError(messages, error);
      b.disabled = false;
    }
  });
  return form;
}

async function load() {
  try {
    const rows = await api("/api/v1/ratings/follow-ups");
    root.replaceChildren(h("h2", {}, "待处理的差评"), rows.length ? "" : h("p", {}, "当前没有待处理的差评。"),
      ...rows.map((f) => h("section", { class: "panel", "data-testid": "follow-up", "aria-labelledby": `fu-${f.id}` },
        h("h3", { id: `fu-${f.id}` }, `${pickText(f.rating.level_label)} · ${f.rating.item_code || f.rating.hall} · ${STATUS[f.status] || f.status}`),
        h("dl", { class: "facts" },
          h("dt", {}, "评价内容"), h("dd", {}, f.rating.comment || "—"),
          h("dt", {}, "回访期限"), h("dd", { class: f.visit_overdue ? "sla sla--overdue" : "" }, `${f.visit_due_on}${f.visit_overdue ? "（已超期）" : ""}`),
          h("dt", {}, "整改答复期限"), h("dd", { class: f.rectify_overdue ? "sla sla--overdue" : "" }, `${f.rectify_due_on}${f.rectify_overdue ? "（已超期）" : ""}`)),
        h("ul", {}, f.events.map((e) => h("li", {}, `${dateTime(e.at)} ${e.type} ${e.message}`))),
        stepForm(f))));
  } catch (error) {
    showError(messages, error);
  }
  try {
    const appeals = await api("/api/v1/ratings/appeals");
    appealsRoot.replaceChildren(h("h2", {}, "待复核的申诉"), appeals.length ? "" : h("p", {}, "当前没有待复核的申诉。"),
      ...appeals.map((a) => {
        const id = `decision-${a.id}`;
        const form = h("form", { novalidate: true }, h("label", { for: id }, "复核意见"), h("textarea", { id, name: "decision", required: true }),
          h("p", { class: "actions" }, h("button", { type: "submit", class: "button", value: "uphold" }, "申诉成立（评价不计入）"), h("button", { type: "submit", class: "button button--secondary", value: "dismiss" }, "维持评价")));
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          try {
            await api(`/api/v1/ratings/appeals/${a.id}/review`, { method: "POST", body: { uphold: ev.submitter?.value === "uphold", decision: new FormData(form).get("decision") || "" } });
            showOk(messages, "已复核。");
            await load();
      report();
          } catch (error) { showError(messages, error); }
        });
        return h("section", { class: "panel" }, h("p", {}, `${a.ground === "malicious" ? "恶意评价" : "误评"}：${a.reason}（${a.filed_by}，${dateTime(a.filed_at)}）`), form);
      }));
  } catch (error) {
    if (error.status !== 403) showError(messages, error);
    else appealsRoot.replaceChildren();
  }
}

async function report() {
  try {
    const r = await api("/api/v1/ratings/report");
    const f = r.follow_ups;
    reportRoot.replaceChildren(h("h2", {}, "好差评报表"),
      h("ul", { class: "figures", "data-testid": "rating-report" },
        h("li", { class: "figure" }, "有效评价", h("strong", {}, String(r.total))),
        h("li", { class: "figure" }, "满意率", h("strong", {}, r.satisfaction == null ? "—" : `${(r.satisfaction * 100).toFixed(1)}%`)),
        h("li", { class: "figure" }, "差评", h("strong", {}, String(r.bad))),
        h("li", { class: "figure" }, "回访超期", h("strong", {}, String(f.visit_overdue))),
        h("li", { class: "figure" }, "整改答复超期", h("strong", {}, String(f.rectify_overdue)))),
      // delivery to the provincial 好差评 system: every rating, follow-up step and appeal is one report
      h("h3", {}, "上报省好差评系统"),
      h("ul", { class: "figures", "data-testid": "rating-reporting" },
        h("li", { class: "figure" }, "已送达", h("strong", { "data-testid": "reports-delivered" }, String(r.reporting.delivered))),
        h("li", { class: "figure" }, "待送达", h("strong", { "data-testid": "reports-pending" }, String(r.reporting.pending))),
        h("li", { class: "figure" }, "送达失败", h("strong", { "data-testid": "reports-failed" }, String(r.reporting.failed)))),
      r.reporting.failed ? h("p", { class: "hint" }, "送达失败：省系统拒收，或多次重试仍未送达（可在“管理”页的死信任务中重新发送）。") : "");
  } catch (error) {
    reportRoot.replaceChildren();  // staff other than administrators see no report
  }
}

load();
report();
