// The connection panel: ports (refreshable), baud rate, profile, connect/disconnect, auto-connect.

import { api } from "../api.js";
import { $, attempt, h, setText, show } from "../dom.js";
import { can } from "../session.js";
import { store } from "../store.js";

function fillSelect(select, values, preferred, label = (v) => String(v), value = (v) => String(v)) {
  const current = select.value;
  select.replaceChildren(...values.map((v) => h("option", { value: value(v) }, label(v))));
  const wanted = current && values.some((v) => value(v) === current) ? current : preferred;
  if (wanted !== undefined && wanted !== null) select.value = String(wanted);
}

export async function refresh() {
  if (!can(store.get("user"), "CONNECTION")) return;
  const data = await attempt(() => api.get("/api/connection"));
  if (!data) return;
  store.set("connection", data);
}

function render(data) {
  const options = data.options || {};
  const current = data.current || {};
  const ports = [...(options.ports || [])];
  if (current.port && !ports.includes(current.port)) ports.unshift(current.port);
  fillSelect($("#connection-port"), ["AUTO", ...ports], current.port || options.portPreference || "AUTO",
    (p) => (p === "AUTO" ? "Auto-detect" : p));
  const baudrates = [...(options.baudrates || [])];
  fillSelect($("#connection-baudrate"), [0, ...baudrates], current.baudrate || options.baudratePreference || 0,
    (b) => (b === 0 ? "Auto-detect" : String(b)));
  fillSelect($("#connection-profile"), options.printerProfiles || [],
    current.printerProfile || options.printerProfilePreference, (p) => p.name || p.id, (p) => p.id);
  $("#connection-autoconnect").checked = Boolean(options.autoconnect);
}

function connected() {
  const flags = ((store.get("state") || {}).flags) || {};
  return !flags.closedOrError && Object.keys(flags).length > 0;
}

// Once connected the options are folded away (on a phone they would push the job and the tabs
// down a screen); they unfold on a disconnect or when asked.
let folded = false;
let wasConnected = null;

function renderFold() {
  show($("#connection-fields"), !folded);
  const toggle = $("#connection-toggle");
  toggle.setAttribute("aria-expanded", String(!folded));
  setText(toggle, folded ? "Show options" : "Hide options");
  const current = (store.get("connection") || {}).current || {};
  const summary = connected() && current.port ? `Connected to ${current.port}${current.baudrate ? ` at ${current.baudrate} baud` : ""}` : "";
  setText($("#connection-summary"), summary);
  show($("#connection-summary"), folded && Boolean(summary));
}

function renderState() {
  const isConnected = connected();
  if (isConnected !== wasConnected) {
    folded = isConnected;
    wasConnected = isConnected;
  }
  renderFold();
  $("#connection-button").textContent = isConnected ? "Disconnect" : "Connect";
  $("#connection-button").classList.toggle("danger", isConnected);
  $("#connection-button").classList.toggle("primary", !isConnected);
  for (const id of ["#connection-port", "#connection-baudrate", "#connection-profile", "#connection-refresh"]) {
    $(id).disabled = isConnected;
  }
}

async function submit(event) {
  event.preventDefault();
  if (connected()) {
    await attempt(() => api.post("/api/connection", { command: "disconnect" }));
    return;
  }
  const port = $("#connection-port").value;
  const baudrate = Number($("#connection-baudrate").value);
  const body = {
    command: "connect",
    save: $("#connection-save").checked,
    autoconnect: $("#connection-autoconnect").checked,
  };
  if (port !== "AUTO") body.port = port;
  if (baudrate) body.baudrate = baudrate;
  if ($("#connection-profile").value) body.printerProfile = $("#connection-profile").value;
  await attempt(() => api.post("/api/connection", body));
}

export function init() {
  $("#connection-form").addEventListener("submit", submit);
  $("#connection-refresh").addEventListener("click", refresh);
  $("#connection-toggle").addEventListener("click", () => {
    folded = !folded;
    renderFold();
  });
  store.on("connection", (data) => {
    render(data);
    renderFold();
  });
  store.on("state", renderState);
  store.on("user", (user) => { if (user) refresh(); });
  for (const event of ["Connected", "Disconnected", "PrinterProfileModified", "PrinterProfileAdded", "PrinterProfileDeleted"]) {
    store.on(`event:${event}`, refresh, { immediate: false });
  }
  renderState();
}
