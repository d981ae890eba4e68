// Print history with results and durations.
//
// A server that keeps a job log announces it in /api/version's capabilities (printHistory: URL
// answering {jobs: [...], stats: {...}}); otherwise the per-file print statistics of the file list are shown.

import { api } from "../api.js";
import { $, attempt, formatDate, formatDuration, formatEstimate, h, setText, show } from "../dom.js";
import { can } from "../session.js";
import { store } from "../store.js";

export const RESULT_TEXT = { done: "Done", cancelled: "Cancelled", failed: "Failed" };
let historyUrl;
let recentJobs = null; // a promise of the newest jobs, dropped when a print ends

// The newest job of a file in the print history (null without one), so the file list names a
// cancelled print as History does.
export async function lastResultFor(path, origin) {
  const url = await discover();
  if (!url) return null;
  if (!recentJobs) recentJobs = api.get(`${url}?limit=200`).then((data) => (data && data.jobs) || []).catch(() => []);
  const jobs = await recentJobs;
  return jobs.find((job) => job.path === path && (job.origin || "local") === origin) || null;
}

let discovering = null;

// Asked once per page: several views want the answer at start-up.
function discover() {
  if (!discovering) {
    discovering = attempt(() => api.get("/api/version")).then((version) => {
      historyUrl = (version && version.capabilities && version.capabilities.printHistory) || null;
      if (version === undefined) discovering = null; // not answered: ask again next time
      return historyUrl;
    });
  }
  return discovering;
}

function flatten(entries, out = []) {
  for (const entry of entries || []) {
    if (entry.type === "folder") flatten(entry.children, out);
    else out.push(entry);
  }
  return out;
}

async function jobsFromServer(url) {
  const data = await attempt(() => api.get(`${url}?limit=200`));
  return data ? { jobs: data.jobs || [], stats: data.stats } : null;
}

function summary(jobs, stats) {
  if (stats) {
    if (!stats.count) return "No prints yet.";
    const prints = stats.count === 1 ? "1 print" : `${stats.count} prints`;
    return `${prints}: ${stats.done || 0} done, ${stats.cancelled || 0} cancelled, ${stats.failed || 0} failed`;
  }
  const done = jobs.filter((j) => j.result === "done").length;
  return jobs.length ? `${jobs.length} prints, ${done} finished` : "No prints yet.";
}

// One row per file that was printed: its last print and the tally of all of them.
async function jobsFromFileStatistics() {
  const data = await attempt(() => api.get("/api/files/local?recursive=true"));
  if (!data) return null;
  return flatten(data.files)
    .filter((file) => file.prints && file.prints.last)
    .map((file) => ({
      name: file.display || file.name,
      started: file.prints.last.date,
      result: file.prints.last.success ? "done" : "failed",
      duration: file.prints.last.printTime,
      reason: `${file.prints.success || 0} successful, ${file.prints.failure || 0} failed in all`,
    }))
    .sort((a, b) => (b.started || 0) - (a.started || 0));
}

let shown = { jobs: [], stats: null };

function filtered(jobs) {
  const result = $("#history-filter-result").value;
  const text = $("#history-filter-text").value.trim().toLowerCase();
  return jobs.filter((job) => (!result || job.result === result)
    && (!text || String(job.name || job.path || "").toLowerCase().includes(text)));
}

// Totals over every recorded print (the server's stats), not just the rows loaded.
function renderStats(stats) {
  const box = $("#history-stats");
  show(box, Boolean(stats && stats.count));
  if (!stats || !stats.count) return;
  const ended = (stats.done || 0) + (stats.cancelled || 0) + (stats.failed || 0);
  const rate = ended ? `${Math.round((100 * (stats.done || 0)) / ended)}%` : "-";
  const facts = [
    ["Prints", String(stats.count)],
    ["Success rate", rate],
    ["Printing time", formatEstimate(stats.total_duration)],
    ["Filament used", stats.total_filament_length ? `${(stats.total_filament_length / 1000).toFixed(1)} m` : "-"],
  ];
  box.replaceChildren(...facts.map(([name, value]) => h("div", { class: "stat" }, h("dt", {}, name), h("dd", {}, value))));
}

// Print a file of the history again: select it and start, as the file list's Print does.
async function reprint(job) {
  const origin = job.origin || "local";
  const path = String(job.path).split("/").map(encodeURIComponent).join("/");
  await attempt(() => api.post(`/api/files/${origin}/${path}`, { command: "select", print: true }), `Printing ${job.name || job.path}`);
}

function renderRows() {
  const jobs = filtered(shown.jobs);
  const flags = ((store.get("state") || {}).flags) || {};
  const ready = Boolean(flags.operational && flags.ready && !flags.printing && !flags.paused);
  const mayPrint = can(store.get("user"), "PRINT");
  $("#history-rows").replaceChildren(...jobs.map((job) => h("tr", { class: `result-${job.result || "running"}` },
    h("td", { class: "filename" }, job.name || job.path),
    h("td", {}, formatDate(job.started)),
    h("td", {}, RESULT_TEXT[job.result] || job.result || "Running"),
    h("td", {}, formatDuration(job.duration)),
    h("td", {}, job.reason || ""),
    h("td", {}, mayPrint && job.path && job.result ? h("button", {
      type: "button", class: "small", disabled: !ready, title: ready ? "" : "The printer is not ready",
      "aria-label": `Print ${job.name || job.path} again`, onclick: () => reprint(job),
    }, "Reprint") : ""))));
  const all = shown.jobs.length;
  setText($("#history-summary"), jobs.length === all ? summary(shown.jobs, shown.stats) : `${jobs.length} of ${all} shown`);
}

export async function load() {
  if (!store.get("user")) return;
  const url = await discover();
  const result = url ? await jobsFromServer(url) : { jobs: await jobsFromFileStatistics() };
  if (!result || !result.jobs) return;
  shown = { jobs: result.jobs, stats: result.stats };
  renderStats(result.stats);
  renderRows();
}

export function init() {
  $("#history-refresh").addEventListener("click", load);
  $("#history-filter-result").addEventListener("change", renderRows);
  $("#history-filter-text").addEventListener("input", renderRows);
  store.on("state", () => { if (store.get("tab") === "history") renderRows(); });
  store.on("tab", (tab) => { if (tab === "history") load(); });
  for (const event of ["PrintDone", "PrintFailed", "PrintCancelled"]) {
    store.on(`event:${event}`, () => {
      recentJobs = null;
      if (store.get("tab") === "history") load();
    }, { immediate: false });
  }
}
