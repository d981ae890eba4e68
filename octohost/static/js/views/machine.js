// The machine panel: status code with its colour, the errors, the reconnect countdown, Restart.
//
// GET /api/machine gives the whole picture; the push socket's MachineStatusChanged events (and
// connection events) say when to read it again, and a one-second timer counts down to the next
// reconnection attempt between those.

import { api } from "../api.js";
import { $, attempt, formatDate, h, setText, show } from "../dom.js";
import { can } from "../session.js";
import { store } from "../store.js";

//: the status colour names of octohost.machine.status, as the badge classes the header uses
const BADGE = { success: "state-ready", primary: "state-printing", info: "state-printing", warning: "state-paused",
  danger: "state-error", secondary: "state-offline", dark: "state-error" };

let retryAt = null;
let timer = null;

function renderCountdown(connection) {
  const box = $("#machine-retry");
  if (retryAt === null) {
    show(box, false);
    return;
  }
  const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  const circuit = connection && connection.circuit === "open" ? " (circuit open)" : "";
  setText(box, `Next connection attempt in ${seconds} s${circuit}.`);
  show(box, true);
}

function render(data) {
  const status = data.status || {};
  const badge = $("#machine-status-badge");
  badge.className = `state-badge ${BADGE[status.color] || "state-offline"}`;
  setText(badge, status.label || "–");
  badge.title = status.text || "";
  setText($("#machine-status-code"), status.code ? String(status.code) : "");
  setText($("#machine-status-text"), data.statusText || "");
  setText($("#machine-driver"), data.driver ? `${data.driver.name} (${data.driver.slug})` : "–");
  const errors = data.errors || [];
  show($("#machine-errors-box"), errors.length > 0);
  setText($("#machine-error-count"), String(errors.length));
  $("#machine-errors").replaceChildren(...errors.slice().reverse().map((error) =>
    h("li", {}, `${formatDate(error.time)} · ${error.code} · ${error.message}`)));
  const connection = data.connection || {};
  retryAt = typeof connection.nextRetryIn === "number" ? Date.now() + connection.nextRetryIn * 1000 : null;
  clearInterval(timer);
  renderCountdown(connection);
  if (retryAt !== null) timer = setInterval(() => renderCountdown(connection), 1000);
}

export async function load() {
  if (!can(store.get("user"), "CONNECTION")) return;
  try {
    render(await api.get("/api/machine"));
  } catch (error) {
    // the panel keeps what it showed; the offline banner tells about the server
  }
}

export function init() {
  $("#machine-restart").addEventListener("click", async () => {
    await attempt(() => api.post("/api/machine", { command: "restart" }), "Restarting the connection");
    load();
  });
  store.on("loggedIn", load, { immediate: false });
  for (const event of ["MachineStatusChanged", "ReconnectScheduled", "Connected", "Disconnected", "Error"]) {
    store.on(`event:${event}`, load, { immediate: false });
  }
}
