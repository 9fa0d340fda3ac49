// Render the list of guides (one per entity type) from the catalog; used by both channels.
import { api } from "./api.js";
import { pick, t } from "./i18n.js";

export async function renderGuideLinks(list, { linkClass = "" } = {}) {
  try {
    const catalog = await api("/api/v1/catalog");
    const types = catalog.entity_types || [];
    list.replaceChildren(
      ...types.map((type) => {
        const item = document.createElement("li");
        item.className = "card";
        const link = document.createElement("a");
        link.href = `/api/v1/guides/${encodeURIComponent(type.code)}`;
        link.textContent = pick(type);
        if (linkClass) link.className = linkClass;
        item.append(link);
        return item;
      }),
    );
  } catch {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = t("start.unavailable") === "start.unavailable" ? "暂时无法加载事项目录，请稍后刷新。" : t("start.unavailable");
    list.replaceChildren(item);
  }
  list.setAttribute("aria-busy", "false");
}
