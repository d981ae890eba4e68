// Print history: one row per job with its result and duration.

import { api } from "../api.js";
import { $, attempt, formatDate, formatDuration, h, setText } from "../dom.js";
import { store } from "../store.js";

const RESULT_TEXT = { done: "Done", cancelled: "Cancelled", failed: "Failed" };

export async function load() {
  if (!store.get("user")) return;
  const data = await attempt(() => api.get("/api/history"));
  if (!data) return;
  const jobs = data.jobs || [];
  $("#history-rows").replaceChildren(...jobs.map((job) => h("tr", { class: `result-${job.result || "running"}` },
    h("td", { class: "filename" }, job.name || job.path),
    h("td", {}, formatDate(job.started)),
    h("td", {}, RESULT_TEXT[job.result] || (job.result ? job.result : "Running")),
    h("td", {}, formatDuration(job.duration)),
    h("td", {}, job.reason || ""))));
  const done = jobs.filter((j) => j.result === "done").length;
  setText($("#history-summary"), jobs.length ? `${jobs.length} prints, ${done} finished` : "No prints yet.");
}

export function init() {
  $("#history-refresh").addEventListener("click", load);
  store.on("tab", (tab) => { if (tab === "history") load(); });
  for (const event of ["PrintDone", "PrintFailed", "PrintCancelled"]) {
    store.on(`event:${event}`, () => { if (store.get("tab") === "history") load(); }, { immediate: false });
  }
}
