// Settings → MQTT: the bridge's connection state (polled while the section is open) and its settings (admins).

import { api } from "../api.js";
import { $, attempt, fillForm, readForm, setText } from "../dom.js";
import { store } from "../store.js";

const STATE_TEXT = { connected: "Connected", connecting: "Connecting…", disconnected: "Disconnected, retrying",
  refused: "Refused by the broker, retrying", disabled: "Off", error: "Not started (see the error)", stopped: "Stopped" };
const OPTIONAL = ["printerId", "clientId", "broker.username", "broker.tls.ca", "broker.tls.certfile", "broker.tls.keyfile"];
let timer = null;

function renderState(state) {
  const since = state.connectedSince ? ` since ${new Date(state.connectedSince * 1000).toLocaleString()}` : "";
  const where = state.broker ? ` — ${state.broker}${state.tls ? " (TLS)" : ""}` : "";
  setText($("#mqtt-state"), `${STATE_TEXT[state.state] || state.state}${where}${since}`);
  setText($("#mqtt-error"), state.lastError || "—");
  if (state.topic) setText($("#mqtt-topic"), `${state.topic}/`);
  const events = state.events;
  setText($("#mqtt-events"), events
    ? `${events.lastSeq} published, ${events.queued} waiting, ${events.dropped} dropped; ${state.telemetrySent} telemetry`
    : "—");
}

async function load(fillSettings) {
  const body = await attempt(() => api.get("/api/mqtt"));
  if (!body) return;
  renderState(body.state);
  if (fillSettings && body.settings) {
    const form = $("#settings-mqtt");
    fillForm(form, body.settings);
    const password = form.elements["broker.password"];
    password.value = "";
    password.placeholder = body.settings.broker.passwordSet ? "unchanged" : "none";
  }
}

// Empty optional fields mean "not set" (null); an empty password field keeps the stored one.
function changes(form) {
  const values = readForm(form);
  for (const path of OPTIONAL) {
    const keys = path.split(".");
    const parent = keys.slice(0, -1).reduce((node, key) => node[key], values);
    const last = keys[keys.length - 1];
    if (parent[last] === "") parent[last] = null;
  }
  if (values.broker.password === "") delete values.broker.password;
  return values;
}

export function init() {
  const form = $("#settings-mqtt");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await attempt(() => api.post("/api/mqtt", { settings: changes(form) }), "MQTT settings saved");
    if (saved) {
      renderState(saved.state);
      setTimeout(() => load(true), 1000); // the bridge restarts with the new settings
    }
  });
  store.on("settingsSection", (name) => {
    clearInterval(timer);
    timer = null;
    if (name !== "mqtt") return;
    load(true);
    timer = setInterval(() => (document.hidden ? null : load(false)), 2000);
  }, { immediate: false });
}
