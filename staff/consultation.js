// 征求意见: a draft catalog version's guides opened to the agencies; comments per item and section,
// replies, resolutions; publication once every comment is resolved (or with an administrator's reason).
import { currentLocale } from "/shared/i18n.js";
import { api, dateTime, h, pickText, showError, showOk } from "/staff/staff.js";

const TEXT = {
  "zh-CN": {
    section: { conditions: "办理条件", materials: "申请材料", procedure: "办理流程", time_limit: "办理时限", fees: "收费标准", basis: "设定依据", venue: "办理地点", other: "其他" },
    resolution: { adopted: "采纳", partly: "部分采纳", declined: "不予采纳" },
    status: { open: "征求中", closed: "已结束" },
    list: "征求意见的目录版本", none: "暂无征求意见。", version: "目录版本", note: "说明", open: "发起征求意见",
    counts: "意见 {n} 条，未处理 {u} 条", item: "事项", sectionLabel: "指南章节", body: "意见内容", comment: "提交意见",
    reply: "回复", replyLabel: "回复内容", resolve: "处理意见", resolutionLabel: "处理结果", reason: "处理理由",
    unresolved: "待处理", resolved: "已处理：{r}", publish: "发布此版本", override: "未处理意见仍需发布时，请说明理由",
    published: "已发布。", saved: "已保存。", view: "查看意见", overridden: "先行发布理由：{r}",
  },
  en: {
    section: { conditions: "Conditions", materials: "Materials", procedure: "Procedure", time_limit: "Time limit", fees: "Fees", basis: "Legal basis", venue: "Venue", other: "Other" },
    resolution: { adopted: "Adopted", partly: "Partly adopted", declined: "Declined" },
    status: { open: "Open for comments", closed: "Closed" },
    list: "Catalog versions under consultation", none: "No consultations yet.", version: "Catalog version", note: "Note", open: "Open for comments",
    counts: "{n} comments, {u} unresolved", item: "Item", sectionLabel: "Guide section", body: "Comment", comment: "Submit comment",
    reply: "Reply", replyLabel: "Reply", resolve: "Resolve", resolutionLabel: "Resolution", reason: "Reason",
    unresolved: "Unresolved", resolved: "Resolved: {r}", publish: "Publish this version", override: "Reason to publish with unresolved comments",
    published: "Published.", saved: "Saved.", view: "View comments", overridden: "Published ahead with the reason: {r}",
  },
};
const T = TEXT[currentLocale()] || TEXT["zh-CN"];
const fill = (text, params) => text.replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
const messages = document.getElementById("messages");
const listRoot = document.getElementById("consultations");
const detailRoot = document.getElementById("consultation");
const openRoot = document.getElementById("open-form");
let me = null;
let shown = null;

function formOf(id, fields, label, run) {
  const el = h("form", { novalidate: true, class: "panel", id }, ...fields, h("p", {}, h("button", { type: "submit", class: "button" }, label)));
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

const field = (id, label, control) => [h("label", { for: id }, label), control];
const select = (id, name, options) => h("select", { id, name }, ...options.map(([v, t]) => h("option", { value: v }, t)));
const isAdmin = () => me && me.roles.includes("admin");

function thread(c, version, open, names) {
  const base = `/api/v1/consultations/${encodeURIComponent(version)}/comments/${encodeURIComponent(c.id)}`;
  const state = c.status === "resolved" ? fill(T.resolved, { r: T.resolution[c.resolution] || "" }) : T.unresolved;
  const parts = [
    h("h3", { id: `c-${c.id}` }, `${names[c.item_code] || c.item_code} · ${T.section[c.section] || ""} · ${state}`),
    h("p", {}, `${pickText(c.agency_name)} ${c.author_name || c.author_id} ${dateTime(c.created_at)}：${c.body}`),
    h("ul", {}, c.replies.map((r) => h("li", {}, `${dateTime(r.at)} ${r.author_name || r.author_id}：${r.body}`))),
    c.status === "resolved" ? h("p", {}, `${T.reason}：${c.resolution_note}`) : "",
  ];
  if (open) {
    parts.push(formOf(`reply-${c.id}`, field(`reply-body-${c.id}`, T.replyLabel, h("textarea", { id: `reply-body-${c.id}`, name: "body", required: true })), T.reply,
      async (f) => { await api(`${base}/replies`, { method: "POST", body: { body: f.body } }); showOk(messages, T.saved); await show(version); }));
  }
  if (isAdmin() && c.status !== "resolved") {
    parts.push(formOf(`resolve-${c.id}`, [
      ...field(`resolution-${c.id}`, T.resolutionLabel, select(`resolution-${c.id}`, "resolution", Object.entries(T.resolution))),
      ...field(`reason-${c.id}`, T.reason, h("textarea", { id: `reason-${c.id}`, name: "note", required: true })),
    ], T.resolve, async (f) => { await api(`${base}/resolution`, { method: "POST", body: f }); showOk(messages, T.saved); await show(version); }));
  }
  return h("section", { class: "panel", "data-testid": "comment", "aria-labelledby": `c-${c.id}` }, ...parts);
}

async function show(version) {
  shown = version;
  try {
    const c = await api(`/api/v1/consultations/${encodeURIComponent(version)}`);
    const open = c.status === "open";
    const parts = [h("h2", {}, `${T.version} ${c.version} · ${T.status[c.status] || ""}`),
      h("p", { "data-testid": "consultation-counts" }, fill(T.counts, { n: c.comments, u: c.unresolved })),
      c.note ? h("p", {}, c.note) : "",
      c.override_reason ? h("p", {}, fill(T.overridden, { r: c.override_reason })) : ""];
    if (open) {
      parts.push(formOf("comment-form", [
        ...field("comment-item", T.item, select("comment-item", "item_code", c.items.map((i) => [i.code, pickText(i.name)]))),
        ...field("comment-section", T.sectionLabel, select("comment-section", "section", c.sections.map((s) => [s, T.section[s] || s]))),
        ...field("comment-body", T.body, h("textarea", { id: "comment-body", name: "body", required: true })),
      ], T.comment, async (f) => {
        await api(`/api/v1/consultations/${encodeURIComponent(version)}/comments`, { method: "POST", body: f });
        showOk(messages, T.saved);
        await refresh();
      }));
    }
    const names = Object.fromEntries(c.items.map((i) => [i.code, pickText(i.name)]));
    parts.push(...c.threads.map((t) => thread(t, version, open, names)));
    if (isAdmin() && open) {
      parts.push(formOf("publish-form", field("override", T.override, h("textarea", { id: "override", name: "override_reason" })), T.publish, async (f) => {
        await api("/api/v1/admin/catalog/publications", { method: "POST", body: { version, override_reason: f.override_reason || "" } });
        showOk(messages, T.published);
        await refresh();
      }));
    }
    detailRoot.replaceChildren(...parts);
  } catch (error) {
    showError(messages, error);
  }
}

async function refresh() {
  try {
    me = me || await api("/api/v1/me");
    if (isAdmin() && !openRoot.childElementCount) {
      openRoot.append(formOf("open-consultation", [
        ...field("open-version", T.version, h("input", { id: "open-version", name: "version", required: true })),
        ...field("open-note", T.note, h("textarea", { id: "open-note", name: "note" })),
      ], T.open, async (f) => {
        await api("/api/v1/consultations", { method: "POST", body: f });
        showOk(messages, T.saved);
        shown = f.version;
        await refresh();
      }));
    }
    const rows = await api("/api/v1/consultations");
    listRoot.replaceChildren(h("h2", {}, T.list), rows.length ? "" : h("p", {}, T.none),
      h("ul", {}, ...rows.map((c) => h("li", {}, `${c.version} · ${T.status[c.status] || ""} · ${fill(T.counts, { n: c.comments, u: c.unresolved })} `,
        h("button", { type: "button", class: "button button--secondary", onclick: () => show(c.version) }, `${T.view} ${c.version}`)))));
    const target = shown || (rows[0] && rows[0].version);
    if (target) await show(target);
  } catch (error) {
    showError(messages, error);
  }
}

refresh();
