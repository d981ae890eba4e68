// Boot: wire the push socket into the store, start every view, keep tabs and permissions in step.

import { $, $$, labelTableCells, setText, show } from "./dom.js";
import { fillIcons } from "./icons.js";
import { store } from "./store.js";
import { PushSocket } from "./socket.js";
import { can } from "./session.js";
import * as auth from "./views/auth.js";
import * as header from "./views/header.js";
import * as connection from "./views/connection.js";
import * as machine from "./views/machine.js";
import * as job from "./views/job.js";
import * as files from "./views/files.js";
import * as temperature from "./views/temperature.js";
import * as control from "./views/control.js";
import * as terminal from "./views/terminal.js";
import * as history from "./views/history.js";
import * as timelapse from "./views/timelapse.js";
import * as recovery from "./views/recovery.js";
import * as settings from "./views/settings.js";
import * as profiles from "./views/profiles.js";
import * as users from "./views/users.js";
import * as mqtt from "./views/mqtt.js";
import * as backup from "./views/backup.js";
import * as theme from "./views/theme.js";
import * as notify from "./views/notify.js";
import * as gcode from "./views/gcode.js";
import * as controlsEditor from "./views/controlseditor.js";

// Every view module, started in this order: one per line, so a new view is a one-line addition.
const VIEWS = [
  header,
  connection,
  machine,
  job,
  files,
  temperature,
  control,
  terminal,
  history,
  timelapse,
  recovery,
  settings,
  profiles,
  users,
  theme,
  notify,
  mqtt,
  backup,
  gcode,
  controlsEditor,
];

function applyCurrent(payload, fromHistory) {
  for (const key of ["state", "job", "progress", "currentZ", "offsets", "busyFiles", "resends"]) {
    if (key in payload) store.set(key, payload[key]);
  }
  if (payload.temps && payload.temps.length) store.emit("temps", { points: payload.temps, history: fromHistory });
  if (payload.logs && payload.logs.length) store.emit("logs", { lines: payload.logs, history: fromHistory });
  if (payload.messages && payload.messages.length) store.emit("messages", payload.messages);
}

function onMessage(type, payload) {
  switch (type) {
    case "connected":
      store.set("server", payload);
      store.emit("serverConnected", payload);
      break;
    case "history":
      applyCurrent(payload, true);
      break;
    case "current":
      applyCurrent(payload, false);
      break;
    case "event":
      store.emit("event", payload);
      store.emit(`event:${payload.type}`, payload.payload || {});
      break;
    case "plugin":
      store.emit(`plugin:${payload.plugin}`, payload.data);
      break;
    case "reauthRequired":
      auth.reauthenticate(payload && payload.reason);
      break;
    default:
      store.emit(`message:${type}`, payload);
  }
}

function setupTabs() {
  const tabs = $$('[role="tab"]');
  const select = (tab) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      show(document.getElementById(other.getAttribute("aria-controls")), selected);
    }
    store.set("tab", tab.id.replace(/^tab-/, ""));
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const visible = tabs.filter((t) => !t.hidden);
      const next = visible[(visible.indexOf(tab) + step + visible.length) % visible.length];
      next.focus();
      select(next);
    });
    tab.tabIndex = index === 0 ? 0 : -1;
  });
  store.set("tab", "temperature");
}

// Hide what the user may not use; the server enforces it anyway.
function applyPermissions(user) {
  for (const element of $$("[data-needs]")) {
    const allowed = element.dataset.needs.split(",").every((need) => can(user, need.trim()));
    show(element, allowed);
  }
}

function setupOfflineBanner(socket) {
  const banner = $("#offline-banner");
  const text = $("#offline-text");
  let countdown = null;
  $("#offline-retry").addEventListener("click", () => socket.retryNow());
  store.on("socket", (status) => {
    clearInterval(countdown);
    if (status.online || !store.get("everConnected")) {
      show(banner, false);
      return;
    }
    show(banner, true);
    const update = () => {
      if (status.retryAt) {
        const seconds = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
        setText(text, `Lost the connection to the server. Reconnecting in ${seconds} s…`);
      } else {
        setText(text, "Lost the connection to the server. Reconnecting…");
      }
    };
    update();
    countdown = setInterval(update, 1000);
  });
}

function start() {
  const socket = new PushSocket({
    onMessage,
    onStatus: (status) => {
      if (status.online) store.set("everConnected", true);
      store.set("socket", status);
    },
  });
  fillIcons();
  setupTabs();
  setupOfflineBanner(socket);
  for (const table of $$("table.cards")) labelTableCells(table);
  store.on("user", applyPermissions);
  for (const view of VIEWS) view.init();
  auth.init(socket);
  socket.start();
}

start();
