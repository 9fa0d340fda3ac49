// Upload in one step (the GOV.UK pattern): choosing a file sends it at once; a <progress> shows how
// far it got; a failure is listed in the page's error summary and said at the field, with 重试 /
// Retry sending the same file again where trying again can help; a success names the file, and
// choosing another uploads that one too. Used by the materials page and a correction's files.
import { t } from "./i18n.js";
import { errorSummary, h, zhAttrs } from "./ui.js";

/** Failures worth sending the same file again for: no connection, a timeout, too many requests, the server's own trouble. */
const retryable = (error) => error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500;

const MARK = "\u0000";

/** Message `key` with file names where its {file} or {files} goes, each in a <bdi> of its own: a name
 * is the person's data, not words in the message's language (and may run either way). */
function withNames(key, names, params = {}) {
  const [before, after = ""] = t(key, { ...params, file: MARK, files: MARK }).split(MARK);
  const named = (name) => h("bdi", zhAttrs(name), name);
  return [before, ...names.flatMap((name, i) => (i ? ["、", named(name)] : [named(name)])), after];
}

/** The uploads of one page: their failures in the page's error summary (drawn in `slot`, after the
 * page's own `errors`), and what is still on its way. */
export function uploadGroup(slot, errors = []) {
  const failed = new Map(); // field id → () => the message's nodes
  const running = new Set();
  const draw = (focus) => {
    const summary = errorSummary([...errors, ...[...failed].map(([field, message]) => ({ field, message: message() }))]);
    slot.replaceChildren(...(summary ? [summary] : []));
    if (focus) summary?.focus();
  };
  draw(false);
  return {
    fail(field, message) { failed.set(field, message); draw(true); },
    clear(field) { if (failed.delete(field)) draw(false); },
    track(promise) { running.add(promise); promise.catch(() => {}).finally(() => running.delete(promise)); },
    /** Wait for every upload on its way; the fields that failed (listed again, with focus on the summary). */
    async settled() {
      while (running.size) await Promise.allSettled([...running]);
      if (failed.size) draw(true);
      return [...failed.keys()];
    },
  };
}

/**
 * A file field that uploads as soon as a file is chosen.
 * `send(file, onprogress, signal)` uploads (shared/api.js `upload`) and resolves with what was kept;
 * `describe(error)` words a failure; `uploaded` the files already there (`{id, filename}`, or names);
 * `onuploaded(result)` follows each success; `group` (uploadGroup) lists failures in the page's error
 * summary. With `remove(file)` (resolves once the file is gone) each file kept has a 删除 / Remove button.
 * Test ids, each + `testid`: upload- (the field), uploaded-, progress-, retry-, status- (what is said), remove-.
 */
export function fileUpload({ id, label, hint, uploaded = [], testid = id, group, send, describe, remove = null, onuploaded = () => {} }) {
  const files = uploaded.map((u) => (typeof u === "string" ? { filename: u } : u));
  const done = h("p", { class: "ok-text", id: `${id}-done`, "data-testid": `uploaded-${testid}` });
  const removals = h("ul", { class: "plain upload__files", hidden: true });
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const input = h("input", { type: "file", id, name: "file", accept: "image/*,application/pdf", capture: "environment" });
  const bar = h("progress", { id: `${id}-progress`, max: "100", value: "0" });
  const percent = h("span", { class: "upload__percent", "aria-hidden": "true" });
  const going = h("label", { for: `${id}-progress` });
  const progress = h("div", { class: "upload__progress", "data-testid": `progress-${testid}`, hidden: true }, going, bar, percent);
  const retry = h("button", { class: "button button--secondary", type: "button", hidden: true, "aria-describedby": `${id}-error`, "data-testid": `retry-${testid}` }, t("upload.retry"));
  const status = h("p", { class: "visually-hidden", role: "status", "data-testid": `status-${testid}` });
  const field = h("div", { class: "upload field", "data-testid": `upload-${testid}` },
    h("label", { for: id, class: "label--bold" }, label),
    h("p", { class: "hint", id: `${id}-hint` }, hint, " ", t("upload.auto")),
    error, done, removals, input, progress, retry, status);
  let file = null; // the file last chosen: what Retry sends again
  let attempt = null; // the upload on its way (a newer choice aborts it)
  let told = 0; // the last quarter said

  const removeButton = (kept) => {
    const button = h("button", { class: "button button--secondary upload__remove", type: "button", "data-testid": `remove-${testid}` },
      h("span", {}, ...withNames("upload.remove", [kept.filename]))); // one flex item: its spaces stay
    button.addEventListener("click", async () => {
      if (button.getAttribute("aria-disabled") === "true") return;
      button.setAttribute("aria-disabled", "true");
      try {
        await remove(kept);
        files.splice(files.indexOf(kept), 1);
        error.hidden = true;
        field.classList.remove("field--error");
        show();
        status.replaceChildren(...withNames("upload.removed", [kept.filename]));
        input.focus(); // the button is gone: the field is where to go on
      } catch (failure) {
        button.removeAttribute("aria-disabled");
        const message = () => withNames("upload.removeFailed", [kept.filename], { reason: describe(failure) });
        error.replaceChildren(h("span", { class: "visually-hidden" }, t("error.prefix")), ...message());
        error.hidden = false;
        status.replaceChildren(...message());
        show();
      }
    });
    return button;
  };
  const show = () => {
    const names = files.map((f) => f.filename);
    done.hidden = !names.length;
    done.replaceChildren(...(names.length ? withNames("materials.uploaded", names) : []));
    const removable = remove ? files.filter((f) => f.id != null) : [];
    removals.hidden = !removable.length;
    removals.replaceChildren(...removable.map((f) => h("li", {}, removeButton(f))));
    input.setAttribute("aria-describedby", [`${id}-hint`, error.hidden ? "" : `${id}-error`, names.length ? `${id}-done` : ""].filter(Boolean).join(" "));
  };
  const onprogress = (loaded, total) => {
    const value = total ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
    bar.value = value;
    percent.textContent = `${value}%`;
    if (value >= told + 25) { // said at each quarter, not at every step
      told = value - (value % 25);
      status.replaceChildren(...withNames("upload.progress", [file.name], { percent: value }));
    }
  };

  async function start(chosen) {
    attempt?.abort();
    const mine = (attempt = new AbortController());
    file = chosen;
    told = 0;
    going.replaceChildren(...withNames("upload.uploading", [file.name]));
    status.replaceChildren(...withNames("upload.uploading", [file.name]));
    bar.value = 0;
    percent.textContent = "0%";
    progress.hidden = false;
    retry.setAttribute("aria-disabled", "true");
    const sending = send(file, onprogress, mine.signal);
    group?.track(sending);
    try {
      const result = await sending;
      if (mine !== attempt) return;
      const retried = document.activeElement === retry;
      files.push({ id: result?.id, filename: file.name });
      field.classList.remove("field--error");
      error.hidden = true;
      retry.hidden = true;
      progress.hidden = true;
      input.value = ""; // the next choice, even of the same file, is a new upload
      show();
      status.replaceChildren(...withNames("upload.done", [file.name]));
      group?.clear(id);
      if (retried) input.focus(); // the Retry button is gone: focus stays with the field
      onuploaded(result);
    } catch (failure) {
      if (mine !== attempt || failure.name === "AbortError") return;
      const reason = failure.status === 413 && failure.code !== "material_too_large" ? t("upload.tooLarge") : describe(failure);
      const name = file.name;
      const message = () => withNames("upload.failed", [name], { reason });
      field.classList.add("field--error");
      error.replaceChildren(h("span", { class: "visually-hidden" }, t("error.prefix")), ...message());
      error.hidden = false;
      retry.hidden = !retryable(failure);
      progress.hidden = true;
      show();
      status.replaceChildren(...message());
      group?.fail(id, message);
    } finally {
      if (mine === attempt) retry.removeAttribute("aria-disabled");
    }
  }

  input.addEventListener("change", () => { if (input.files[0]) start(input.files[0]); });
  retry.addEventListener("click", () => { if (file && retry.getAttribute("aria-disabled") !== "true") start(file); });
  show();
  return field;
}
