// Control: jog, home, extrude/retract, fan, motors, feed and flow rate, custom commands, webcam.

import { api } from "../api.js";
import { $, $$, attempt, confirmAction, h, setText, show } from "../dom.js";
import { printerBusy, printerLive } from "../printerstate.js";
import { can } from "../session.js";
import { store } from "../store.js";

const tools = new Set();

const printhead = (body) => attempt(() => api.post("/api/printer/printhead", body));
const sendCommands = (commands) => attempt(() => api.post("/api/printer/command", { commands }));

function jogStep() {
  const checked = $('input[name="jog-step"]:checked');
  return checked ? Number(checked.value) : 10;
}

async function extrude(sign) {
  const amount = Number($("#extrude-amount").value);
  if (!amount || amount <= 0) return;
  const tool = $("#extrude-tool").value;
  if (tool && tools.size > 1) await attempt(() => api.post("/api/printer/tool", { command: "select", tool }));
  await attempt(() => api.post("/api/printer/tool", { command: "extrude", amount: sign * amount }));
}

function renderTools() {
  const select = $("#extrude-tool");
  const names = [...tools].sort();
  if (select.options.length === names.length) return;
  select.replaceChildren(...names.map((name) => h("option", { value: name }, `Tool ${Number(name.slice(4)) + 1}`)));
}

// Custom controls (OctoPrint's schema): buttons that send commands or run a GCODE script,
// optionally after a confirmation; containers become titled groups.
function controlAction(control) {
  if (control.commands) return { body: { commands: control.commands }, text: control.commands.join("\n") };
  if (control.command) return { body: { commands: [control.command] }, text: control.command };
  if (control.script) return { body: { script: control.script }, text: `script ${control.script}` };
  return null;
}

// A control with "input" gets one field per parameter; their values fill the {placeholders}.
function controlButton(control) {
  const action = controlAction(control);
  const inputs = (control.input || []).map((parameter) => h("input", {
    class: "narrow", "aria-label": parameter.name, placeholder: parameter.name, dataset: { parameter: parameter.parameter },
    value: parameter.default === undefined || parameter.default === null ? "" : String(parameter.default),
  }));
  const button = h("button", {
    type: "button", class: "small", title: action.text,
    onclick: async () => {
      if (control.confirm && !(await confirmAction(control.confirm, control.name || "Send"))) return;
      const body = { ...action.body };
      if (inputs.length) {
        const parameters = Object.fromEntries(inputs.map((input) => [input.dataset.parameter, input.value]));
        if (body.script) body.context = { parameters };
        else body.parameters = parameters;
      }
      attempt(() => api.post("/api/printer/command", body));
    },
  }, control.name || action.text);
  return inputs.length ? h("span", { class: "control-with-input" }, ...inputs, button) : button;
}

// A feedback control (regex and template) shows the printer's last matching answer, filled into
// its template by the server (RegisteredMessageReceived); it sends nothing itself.
function feedbackOutput(control) {
  const output = h("output", { dataset: { key: control.key, templateKey: control.template_key } }, "–");
  return h("span", { class: "control-feedback" }, control.name ? `${control.name}: ` : "", output);
}

function showFeedback(payload) {
  for (const output of $$("#custom-controls output[data-key]")) {
    const text = (payload.outputs || {})[output.dataset.templateKey];
    if (output.dataset.key === payload.key && text !== undefined) setText(output, text);
  }
}

function renderControls(controls) {
  const nodes = [];
  for (const control of controls || []) {
    if (Array.isArray(control.children)) {
      const children = renderControls(control.children);
      if (children.length) {
        nodes.push(h("div", { class: "control-group", role: "group", "aria-label": control.name || "Controls" },
          control.name ? h("span", { class: "control-group-name" }, control.name) : null,
          h("div", { class: "buttons" }, children)));
      }
    } else if (controlAction(control)) {
      nodes.push(controlButton(control));
    } else if (control.key && control.template_key) {
      nodes.push(feedbackOutput(control));
    }
  }
  return nodes;
}

async function loadCustomControls() {
  if (!can(store.get("user"), "CONTROL")) return;
  let data;
  try {
    data = await api.get("/api/printer/command/custom");
  } catch (error) {
    return;
  }
  const nodes = renderControls(data && data.controls);
  $("#custom-controls").replaceChildren(...nodes);
  show($("#custom-controls-box"), nodes.length > 0);
}

// While a job runs (or waits paused) a jog, home, extrude, fan or motors-off command would be
// queued into the middle of it, as OctoPrint's UI prevents too. The API still takes them.
function renderLock() {
  const state = store.get("state");
  const busy = printerBusy(state);
  const idle = !busy && printerLive(state);
  for (const fieldset of $$("[data-idle-only]")) fieldset.disabled = !idle;
  for (const button of $$("#control-general-buttons button")) button.disabled = !idle;
  show($("#control-busy-note"), busy);
}

function renderWebcam(settings) {
  const webcam = (settings && settings.webcam) || {};
  const stream = webcam.streamUrl || webcam.stream || "";
  const snapshot = webcam.snapshotUrl || webcam.snapshot || "";
  const box = $("#webcam");
  show(box, Boolean(stream || snapshot));
  const image = $("#webcam-stream");
  const source = stream || snapshot;
  if (source && store.get("tab") === "control") {
    if (image.getAttribute("src") !== source) image.src = source;
  } else if (image.hasAttribute("src")) {
    // Stop the MJPEG download while the tab is not shown (light on a Pi).
    image.removeAttribute("src");
  }
  const transforms = [];
  if (webcam.flipH) transforms.push("scaleX(-1)");
  if (webcam.flipV) transforms.push("scaleY(-1)");
  if (webcam.rotate90) transforms.push("rotate(-90deg)");
  image.style.transform = transforms.join(" ");
  const link = $("#webcam-snapshot");
  show(link, Boolean(snapshot));
  if (snapshot) link.href = snapshot;
}

export function init() {
  for (const button of $$("[data-jog]")) {
    button.addEventListener("click", () => printhead({ command: "jog", [button.dataset.jog]: Number(button.dataset.dir) * jogStep() }));
  }
  for (const button of $$("[data-home]")) {
    button.addEventListener("click", () => printhead({ command: "home", axes: button.dataset.home.split(",") }));
  }
  $("#extrude-button").addEventListener("click", () => extrude(1));
  $("#retract-button").addEventListener("click", () => extrude(-1));
  $("#fan-on").addEventListener("click", () => sendCommands(["M106 S255"]));
  $("#fan-off").addEventListener("click", () => sendCommands(["M107"]));
  $("#motors-off").addEventListener("click", () => sendCommands(["M18"]));
  for (const [id, apply] of [["feedrate", (factor) => printhead({ command: "feedrate", factor })],
    ["flowrate", (factor) => attempt(() => api.post("/api/printer/tool", { command: "flowrate", factor }))]]) {
    const input = $(`#${id}`);
    input.addEventListener("input", () => setText($(`#${id}-value`), input.value));
    $(`#${id}-set`).addEventListener("click", () => apply(Number(input.value)));
  }
  store.on("temps", ({ points }) => {
    const before = tools.size;
    for (const point of points) for (const name of Object.keys(point)) if (/^tool\d+$/.test(name)) tools.add(name);
    if (tools.size !== before) renderTools();
  });
  store.on("user", (user) => { if (user) loadCustomControls(); });
  store.on("event:SettingsUpdated", loadCustomControls, { immediate: false });
  store.on("event:RegisteredMessageReceived", showFeedback, { immediate: false });
  renderLock();
  store.on("state", renderLock);
  store.on("socket", renderLock);
  store.on("settings", renderWebcam);
  store.on("tab", () => renderWebcam(store.get("settings")));
}
