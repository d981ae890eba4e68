// Print-end notifications: always a message in the page; with the browser's permission (asked for
// in Settings > Account) also a system notification while the tab is in the background.
// A command the host kept from the printer (CommandSuppressed: serial.blockedCommands, M0/M1 by
// default) shows its message in the page when its severity is "warn", as OctoPrint's UI does by
// default (notifySuppressedCommands); ignored commands (severity "info") stay in the terminal.

import { $, toast } from "../dom.js";
import { store } from "../store.js";

const KEY = "octohost.notify";
const TEXT = {
  PrintDone: (p) => [`Print done: ${p.name || p.path}`, "success"],
  PrintFailed: (p) => [`Print failed: ${p.name || p.path}${p.reason ? ` (${p.reason})` : ""}`, "error"],
  PrintCancelled: (p) => [`Print cancelled: ${p.name || p.path}`, "info"],
};

function wanted() {
  try {
    return localStorage.getItem(KEY) === "on";
  } catch (error) {
    return false;
  }
}

function supported() {
  return typeof Notification !== "undefined";
}

function renderSetting() {
  const box = $("#notify-enable");
  if (!box) return;
  box.checked = wanted() && supported() && Notification.permission === "granted";
  box.disabled = !supported() || Notification.permission === "denied";
  const note = $("#notify-note");
  if (note) {
    note.textContent = !supported() ? "This browser has no notifications (they need HTTPS or localhost)."
      : Notification.permission === "denied" ? "Notifications are blocked for this page in the browser's settings." : "";
  }
}

async function toggle(event) {
  let on = event.target.checked;
  if (on && supported() && Notification.permission !== "granted") {
    on = (await Notification.requestPermission()) === "granted";
  }
  try {
    localStorage.setItem(KEY, on ? "on" : "off");
  } catch (error) {
    // Private mode: nothing to remember.
  }
  renderSetting();
}

function announce(type, payload) {
  const [text, kind] = TEXT[type](payload || {});
  toast(text, kind);
  if (wanted() && supported() && Notification.permission === "granted" && document.hidden) {
    try {
      new Notification(text, { tag: "octohost-print", icon: "/static/img/favicon.svg" });
    } catch (error) {
      // Some browsers allow notifications only from a service worker: the in-page message stays.
    }
  }
}

export function init() {
  for (const type of Object.keys(TEXT)) {
    store.on(`event:${type}`, (payload) => announce(type, payload), { immediate: false });
  }
  store.on("event:CommandSuppressed", (payload) => {
    if (payload && payload.severity === "warn" && payload.message) toast(payload.message, "warning");
  }, { immediate: false });
  const box = $("#notify-enable");
  if (box) box.addEventListener("change", toggle);
  renderSetting();
}
