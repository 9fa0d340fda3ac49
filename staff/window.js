// 帮办代办: consent by the visitor's face verification, a draft in the visitor's name, hand-over by QR code.
import { api, h, showError } from "/staff/staff.js";
import { qrSvg } from "/shared/qr.js";

const form = document.getElementById("start");
const root = document.getElementById("assisted");
const messages = document.getElementById("messages");

function render(a) {
  const parts = [h("h2", {}, "帮办记录"), h("p", { "data-testid": "assisted-status" }, { consent_pending: "等待来访人完成人脸识别授权", consented: "已获授权，申请草稿已建立", handed_over: "已交来访人手机确认签名" }[a.status] || a.status)];
  if (a.status === "consent_pending") {
    parts.push(h("p", {}, "请来访人在本人手机上打开以下链接完成人脸识别："), h("p", {}, h("a", { href: a.face_url, target: "_blank", rel: "noopener" }, "人脸识别授权链接")));
    const b = h("button", { type: "button", class: "button" }, "来访人已完成授权，建立申请");
    b.addEventListener("click", () => step(b, `/api/v1/assisted/${a.id}/confirm`));
    parts.push(b);
  } else if (a.status === "consented") {
    parts.push(h("p", {}, "申请草稿编号：", h("code", {}, a.case_id)));
    const b = h("button", { type: "button", class: "button" }, "交来访人手机签名提交");
    b.addEventListener("click", () => step(b, `/api/v1/assisted/${a.id}/handoff`));
    parts.push(b);
  } else if (a.status === "handed_over") {
    parts.push(h("p", {}, "请来访人用手机扫描二维码，确认申请内容、签名并提交："), h("div", { html: qrSvg(a.handoff_url, { label: "申请交接二维码" }) }), h("p", {}, h("a", { href: a.handoff_url }, a.handoff_url)));
  }
  root.replaceChildren(...parts);
}

async function step(button, path) {
  button.disabled = true;
  try {
    render(await api(path, { method: "POST" }));
  } catch (error) {
    showError(messages, error);
    button.disabled = false;
  }
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  try {
    render(await api("/api/v1/assisted", { method: "POST", body: { uscc: String(data.get("uscc") || "").trim(), visitor_id: String(data.get("visitor_id") || "").trim(), visitor_name: String(data.get("visitor_name") || "") } }));
  } catch (error) {
    showError(messages, error);
  }
});
