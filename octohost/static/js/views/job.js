// The job panel: file, progress, times, filament; start, pause/resume, cancel with confirmation.

import { api } from "../api.js";
import { $, attempt, confirmAction, formatDuration, formatFilament, setText } from "../dom.js";
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
  setText($("#job-estimate"), formatDuration(job && job.estimatedPrintTime));
  setText($("#job-filament"), formatFilament(job && job.filament));
  renderButtons();
}

function renderProgress(progress) {
  const p = progress || {};
  const completion = p.completion === null || p.completion === undefined ? 0 : p.completion;
  const percent = `${completion.toFixed(1)}%`;
  const fill = $("#job-progress-fill");
  if (fill.style.width !== percent) fill.style.width = percent;
  setText($("#job-progress-text"), percent);
  $("#job-progressbar").setAttribute("aria-valuenow", completion.toFixed(0));
  setText($("#job-elapsed"), formatDuration(p.printTime));
  setText($("#job-left"), formatDuration(p.printTimeLeft));
  setText($("#job-left-origin"), ORIGIN_TEXT[p.printTimeLeftOrigin] || "");
}

function renderButtons() {
  const state = store.get("state") || {};
  const flags = state.flags || {};
  const job = store.get("job") || {};
  const hasFile = Boolean(job.file && job.file.name);
  const active = flags.printing || flags.paused || flags.pausing || flags.resuming;
  setText($("#job-state"), state.text || "Offline");
  $("#job-print").disabled = !(flags.operational && flags.ready && hasFile && !active);
  $("#job-pause").disabled = !(flags.printing || flags.paused);
  setText($("#job-pause"), flags.paused ? "Resume" : "Pause");
  $("#job-cancel").disabled = !active || flags.cancelling;
}

export function init() {
  store.on("job", renderJob);
  store.on("progress", renderProgress);
  store.on("state", renderButtons);
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
