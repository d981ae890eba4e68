// What the printer's state flags mean for the page, in one place: the views agree on "busy",
// "live" and the progress they show.

import { store } from "./store.js";

// The server's socket is up (or was never up yet: the page is still starting).
export function serverOnline() {
  const socket = store.get("socket");
  return !(store.get("everConnected") && socket && !socket.online);
}

// A job runs or waits paused: commands that move or heat would land in the middle of it.
export function printerBusy(state = store.get("state")) {
  const flags = (state && state.flags) || {};
  return Boolean(flags.printing || flags.paused || flags.pausing || flags.resuming || flags.cancelling
    || flags.finishing);
}

// Values pushed by the printer (temperatures, state) are current only while both links are up.
export function printerLive(state = store.get("state")) {
  const flags = (state && state.flags) || {};
  return serverOnline() && Boolean(flags.operational);
}

// The one progress text of the page (header badge and job panel): floored to a tenth, so a print
// at 99.96 % never reads "100.0 %" before it is done.
export function formatProgress(completion) {
  if (completion === null || completion === undefined || Number.isNaN(completion)) return "0.0%";
  return `${(Math.floor(Math.max(0, Math.min(100, completion)) * 10) / 10).toFixed(1)}%`;
}
