// The header: printer state always in view (Operational, Printing 42%, Error: reason).

import { $, setText, show } from "../dom.js";
import { formatProgress } from "../printerstate.js";
import { store } from "../store.js";

export function stateClass(state) {
  const flags = (state && state.flags) || {};
  if (flags.error || flags.closedOrError && state.error) return "state-error";
  if (flags.paused || flags.pausing) return "state-paused";
  if (flags.printing || flags.cancelling || flags.finishing || flags.resuming) return "state-printing";
  if (flags.operational) return "state-ready";
  return "state-offline";
}

export function stateLabel(state, progress) {
  if (!state) return "Offline";
  const flags = state.flags || {};
  let text = state.text || "Offline";
  if (state.error && (flags.error || flags.closedOrError) && !text.includes(state.error)) text = `${text}: ${state.error}`;
  // the same text as the job panel's bar, also before the first progress report (0.0%)
  if (flags.printing || flags.paused) text = `${text} ${formatProgress((progress || {}).completion)}`;
  return text;
}

function serverLost() {
  const socket = store.get("socket");
  return Boolean(store.get("everConnected") && socket && !socket.online);
}

function render() {
  const state = store.get("state");
  const badge = $("#header-state");
  const lost = serverLost();
  // While the server is away the last known printer state may be stale: say so instead.
  setText(badge, lost ? "Server unreachable" : stateLabel(state, store.get("progress")));
  const cls = `state-badge ${lost ? "state-offline" : stateClass(state)}`;
  if (badge.className !== cls) badge.className = cls;
  const error = state && state.error && (state.flags || {}).closedOrError ? state.error : "";
  const banner = $("#printer-error");
  setText(banner, error ? `Printer error: ${error}` : "");
  show(banner, Boolean(error));
}

export function init() {
  store.on("state", render);
  store.on("progress", render);
  store.on("socket", render);
  store.on("user", (user) => setText($("#current-user"), user && user.name ? user.name : ""));
  store.on("settings", (settings) => {
    const name = settings && settings.appearance && settings.appearance.name;
    setText($("#brand-name"), name || "octohost");
    document.title = name ? `${name} · octohost` : "octohost";
  });
}
