// The job panel: file, progress, times, filament; start, pause/resume, cancel with confirmation.

import { api } from "../api.js";
import { $, attempt, confirmAction, formatDuration, formatEstimate, formatFilament, setText, show } from "../dom.js";
import { formatProgress, printerLive, serverOnline } from "../printerstate.js";
import { store } from "../store.js";

const ORIGIN_TEXT = {
  linear: "(linear estimate)",
  analysis: "(from the file analysis)",
  estimate: "(estimated from progress)",
  average: "(from earlier prints)",
  "mixed-analysis": "(analysis and progress)",
  "mixed-average": "(earlier prints and progress)",
};

function renderJob(job) {
  const file = (job && job.file) || {};
  setText($("#job-file"), file.display || file.name || "-");
  $("#job-file").title = file.path || "";
  setText($("#job-estimate"), formatEstimate(job && job.estimatedPrintTime));
  setText($("#job-filament"), formatFilament(job && job.filament));
  renderButtons();
}

// How the last print ended, from the server's events, until the next one starts: a finished
// print reads 100 % and says so (the last progress push is often a little short of the end).
let outcome = null;

const OUTCOME_TEXT = {
  done: (o) => `Done: ${o.name} printed in ${formatDuration(o.time)}.`,
  cancelled: (o) => `Cancelled: ${o.name}.`,
  failed: (o) => `Failed: ${o.name}${o.reason ? ` (${o.reason})` : ""}.`,
};

function renderOutcome() {
  const box = $("#job-outcome");
  const current = outcome && outcome.name === ((store.get("job") || {}).file || {}).name ? outcome : null;
  show(box, Boolean(current));
  if (current) {
    setText(box, OUTCOME_TEXT[current.result](current));
    box.className = `job-outcome outcome-${current.result}`;
  }
  return current;
}

function setOutcome(result, payload) {
  outcome = { result, name: payload.name || payload.path || "", time: payload.time, reason: payload.reason };
  renderProgress(store.get("progress"));
}

function renderProgress(progress) {
  const p = progress || {};
  let completion = p.completion === null || p.completion === undefined ? 0 : p.completion;
  const current = renderOutcome();
  if (current && current.result === "done") completion = 100;
  const percent = formatProgress(completion);
  const fill = $("#job-progress-fill");
  if (fill.style.width !== percent) fill.style.width = percent;
  setText($("#job-progress-text"), percent);
  $("#job-progressbar").setAttribute("aria-valuenow", completion.toFixed(0));
  setText($("#job-elapsed"), formatDuration(current && current.time !== undefined ? current.time : p.printTime));
  setText($("#job-left"), formatDuration(p.printTimeLeft));
  setText($("#job-left-origin"), ORIGIN_TEXT[p.printTimeLeftOrigin] || "");
}

function renderButtons() {
  const state = store.get("state") || {};
  const flags = state.flags || {};
  const job = store.get("job") || {};
  const hasFile = Boolean(job.file && job.file.name);
  const active = flags.printing || flags.paused || flags.pausing || flags.resuming;
  // With the server gone the last pushed state is stale: say so and offer nothing to click.
  const online = serverOnline();
  const live = printerLive(state);
  setText($("#job-state"), online ? state.text || "Offline" : "Server unreachable");
  $("#job-print").disabled = !(live && flags.ready && hasFile && !active);
  $("#job-pause").disabled = !(online && (flags.printing || flags.paused));
  setText($("#job-pause"), flags.paused ? "Resume" : "Pause");
  $("#job-cancel").disabled = !online || !active || flags.cancelling;
}

export function init() {
  store.on("job", renderJob);
  store.on("progress", renderProgress);
  store.on("state", renderButtons);
  store.on("socket", renderButtons);
  store.on("event:PrintStarted", () => { outcome = null; renderProgress(store.get("progress")); }, { immediate: false });
  store.on("event:PrintDone", (payload) => setOutcome("done", payload), { immediate: false });
  store.on("event:PrintCancelled", (payload) => setOutcome("cancelled", payload), { immediate: false });
  store.on("event:PrintFailed", (payload) => setOutcome("failed", payload), { immediate: false });
  $("#job-print").addEventListener("click", () => attempt(() => api.post("/api/job", { command: "start" })));
  $("#job-pause").addEventListener("click", () => {
    const paused = ((store.get("state") || {}).flags || {}).paused;
    attempt(() => api.post("/api/job", { command: "pause", action: paused ? "resume" : "pause" }));
  });
  $("#job-cancel").addEventListener("click", async () => {
    if (await confirmAction("Cancel the running print? This cannot be undone.", "Cancel print")) {
      attempt(() => api.post("/api/job", { command: "cancel" }));
    }
  });
}
