// Print recovery: after a restart or a lost printer, offer to resume the interrupted print.
//
// The server shows the interrupted job as "recovery" in /api/job while nothing prints; resuming
// selects that file and prints it from the recorded position (job command "recover").

import { api } from "../api.js";
import { $, attempt, confirmAction, formatDate, setText, show } from "../dom.js";
import { can } from "../session.js";
import { store } from "../store.js";

function describe(recovery) {
  const name = recovery.file.name;
  const where = recovery.completion === null || recovery.completion === undefined
    ? `byte ${recovery.pos}` : `${recovery.completion.toFixed(0)}%`;
  const reason = recovery.reason ? ` (${recovery.reason})` : "";
  const when = recovery.date ? `, ${formatDate(recovery.date)}` : "";
  return `The last print of ${name} stopped at ${where}${reason}${when}.`;
}

function render(recovery) {
  show($("#recovery-banner"), Boolean(recovery));
  if (recovery) setText($("#recovery-text"), describe(recovery));
}

export async function load() {
  if (!can(store.get("user"), "STATUS")) {
    render(null);
    return;
  }
  try {
    const data = await api.get("/api/job");
    render(data && data.recovery);
  } catch (error) {
    render(null);
  }
}

// Resuming needs a connected, idle printer; the banner stays so the user can connect first.
function renderReady(state) {
  const flags = (state && state.flags) || {};
  $("#recovery-resume").disabled = !(flags.operational && flags.ready);
}

export function init() {
  $("#recovery-resume").addEventListener("click", async () => {
    // The printer heats and moves straight away: make sure the plate is clear and the nozzle fits.
    const question = `${$("#recovery-text").textContent} Resume printing from there? `
      + "Check that the print is still on the bed and nothing is in the way first.";
    if (!(await confirmAction(question, "Resume print"))) return;
    show($("#recovery-banner"), false);
    await attempt(() => api.post("/api/job", { command: "recover" }), "Resuming the print");
    load();
  });
  $("#recovery-dismiss").addEventListener("click", async () => {
    show($("#recovery-banner"), false);
    await attempt(() => api.delete("/api/job/recovery"));
    load();
  });
  store.on("user", (user) => { if (!user) render(null); });
  store.on("state", renderReady);
  store.on("loggedIn", load, { immediate: false });
  for (const event of ["PrintStarted", "PrintFailed", "PrintDone", "PrintCancelled", "Connected"]) {
    store.on(`event:${event}`, load, { immediate: false });
  }
}
