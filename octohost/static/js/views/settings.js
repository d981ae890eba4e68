// Settings: forms generated from the settings schema, temperature presets, scripts, plugins, system.

import { api } from "../api.js";
import { $, $$, attempt, confirmAction, h, show } from "../dom.js";
import { icon } from "../icons.js";
import { can } from "../session.js";
import { store } from "../store.js";

const config = JSON.parse(document.getElementById("octohost-config").textContent);
const SCHEMA = config.settingsSchema || {};
const ACRONYMS = { sd: "SD", rx: "RX", url: "URL", gcode: "GCODE", m105: "M105", ok: "OK" };

function humanize(key) {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/_/g, " ").toLowerCase().split(" ");
  const text = words.map((w) => ACRONYMS[w] || w).join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Labels people read, where the key's words do not say it (looked up by full path, then by key).
const LABELS = {
  "serial.port": "Port",
  "serial.baudrate": "Baud rate",
  "serial.autoconnect": "Connect when the server starts",
  "serial.additionalPorts": "Extra ports to list (patterns)",
  "serial.additionalBaudrates": "Extra baud rates",
  "serial.log": "Log the serial traffic",
  "serial.window": "Lines in flight",
  "serial.rxBufferSize": "Firmware receive buffer (bytes)",
  "serial.helloCommand": "First command after connecting",
  "serial.firmwareErrors": "On a firmware error",
  "serial.resendHistory": "Lines kept for resends",
  "serial.maxResendsPerLine": "Resends of one line before giving up",
  "serial.longRunningCommands": "Commands that may run long",
  "serial.checksumRequiringCommands": "Commands always sent with a checksum",
  "serial.neverSendChecksum": "Never send line numbers and checksums",
  "serial.autoreport": "Use the firmware's auto-reports",
  "serial.timeout.connection": "Answer after connecting (s)",
  "serial.timeout.detection": "Each try while auto-detecting (s)",
  "serial.timeout.communication": "Silence before asking again (s)",
  "serial.timeout.communicationBusy": "Silence while busy (s)",
  "serial.timeout.temperature": "Temperature poll (s)",
  "serial.timeout.temperatureTargetSet": "Temperature poll while heating (s)",
  "serial.timeout.temperatureAutoreport": "Temperature auto-report interval (s)",
  "serial.timeout.sdStatus": "SD status poll (s)",
  "serial.timeout.sdStatusAutoreport": "SD status auto-report interval (s)",
  "serial.timeout.resendOk": "Wait for the ok after a resend (s)",
  "serial.timeout.resendQuiet": "Quiet time after a resend (s)",
  "serial.maxCommunicationTimeouts.idle": "While idle",
  "serial.maxCommunicationTimeouts.printing": "While printing",
  "serial.maxCommunicationTimeouts.long": "During a long-running command",
  "serial.virtual.okDelay": "Delay before each ok (s)",
  "serial.virtual.rxBufferSize": "Receive buffer (bytes)",
  "serial.virtual.timeScale": "Time runs faster by",
  "serial.virtual.heatRate": "Heating (°C per second)",
  "serial.virtual.sdPrintRate": "SD print speed (bytes per second)",
  flipH: "Flip horizontally",
  flipV: "Flip vertically",
  rotate90: "Rotate 90° counter-clockwise",
  streamUrl: "Stream URL",
  snapshotUrl: "Snapshot URL",
};

// How a section's settings are grouped: the everyday ones first and open, the rest folded.
// A setting no group names lands in "Other", so settings added later still show. A group with
// "when" shows only while that holds (the virtual printer's faults only while it is in use).
const LAYOUTS = {
  serial: [
    { title: "Connection", paths: ["serial.port", "serial.baudrate", "serial.autoconnect", "serial.additionalPorts",
      "serial.additionalBaudrates"] },
    { title: "Logging", paths: ["serial.log"] },
    { title: "Protocol", folded: true, paths: ["serial.helloCommand", "serial.autoreport", "serial.neverSendChecksum",
      "serial.checksumRequiringCommands", "serial.longRunningCommands", "serial.window", "serial.rxBufferSize"] },
    { title: "Errors and resends", folded: true, paths: ["serial.firmwareErrors", "serial.resendHistory",
      "serial.maxResendsPerLine"] },
    { title: "Timeouts", folded: true, prefix: "serial.timeout." },
    { title: "Timeouts in a row before disconnecting", folded: true, prefix: "serial.maxCommunicationTimeouts." },
    { title: "Virtual printer", folded: true, prefix: "serial.virtual.", when: virtualPrinterInUse },
  ],
};

function virtualPrinterInUse() {
  const current = ((store.get("connection") || {}).current) || {};
  const settings = store.get("settings") || {};
  return current.port === "VIRTUAL" || (settings.serial && settings.serial.port === "VIRTUAL");
}

function labelFor(path) {
  return LABELS[path] || LABELS[path.split(".").pop()] || humanize(path.split(".").pop());
}

function valueAt(tree, path) {
  return path.split(".").reduce((node, key) => (node === null || node === undefined ? undefined : node[key]), tree);
}

function field(path, meta, value) {
  const id = `setting-${path.replace(/\./g, "-")}`;
  const label = labelFor(path);
  const help = h("small", { id: `${id}-help`, class: "help" }, meta.help);
  const common = { id, name: path, "aria-describedby": `${id}-help`, dataset: { type: meta.type, itemType: meta.itemType || "" } };
  if (meta.type === "boolean") {
    return h("div", { class: "field" }, h("label", { class: "check" }, h("input", { ...common, type: "checkbox", checked: Boolean(value) }), ` ${label}`), help);
  }
  let input;
  if (meta.choices) {
    input = h("select", common, meta.choices.map((choice) => h("option", { value: choice, selected: choice === value }, choice)));
  } else if (meta.type === "integer" || meta.type === "number") {
    input = h("input", { ...common, type: "number", step: meta.type === "integer" ? "1" : "any", value: value === null || value === undefined ? "" : String(value) });
  } else if (meta.type === "list") {
    input = h("textarea", { ...common, rows: "2" });
    input.value = (value || []).join("\n");
  } else {
    input = h("input", { ...common, type: "text", value: value === null || value === undefined ? "" : String(value) });
  }
  return h("div", { class: "field" }, h("label", { for: id }, label), input, help);
}

// Fields for every schema leaf under the given sections: grouped by the section's layout, or by
// nesting (nested sections as fieldsets) when it has none.
function buildFields(sections, settings) {
  const fields = new Map();
  for (const [path, meta] of Object.entries(SCHEMA)) {
    const section = sections.find((s) => path.startsWith(`${s}.`));
    if (!section || meta.type === "mapping" || (meta.type === "list" && meta.itemType === "mapping")) continue;
    if (section === "temperature") continue;
    const value = valueAt(settings, path);
    if (value === undefined) continue;
    fields.set(path, field(path, meta, value));
  }
  const layout = sections.flatMap((section) => LAYOUTS[section] || []);
  const groups = [];
  for (const group of layout) {
    const paths = group.paths || [...fields.keys()].filter((path) => path.startsWith(group.prefix));
    const members = paths.filter((path) => fields.has(path)).map((path) => {
      const element = fields.get(path);
      fields.delete(path);
      return element;
    });
    if (members.length && (!group.when || group.when())) groups.push({ title: group.title, folded: group.folded, members });
  }
  const rest = new Map();
  for (const [path, element] of fields) {
    const parent = path.split(".").slice(0, -1).join(".");
    const title = layout.length ? "Other" : humanize(parent.split(".").pop());
    if (!rest.has(title)) rest.set(title, []);
    rest.get(title).push(element);
  }
  for (const [title, members] of rest) groups.push({ title, folded: layout.length > 0, members });
  return groups.map(({ title, folded, members }) => (folded
    ? h("details", { class: "settings-group", dataset: { group: title } }, h("summary", {}, title), members)
    : h("fieldset", {}, h("legend", {}, title), members)));
}

function readValue(element) {
  const type = element.dataset.type;
  if (type === "boolean") return element.checked;
  if (type === "integer" || type === "number") return element.value === "" ? null : Number(element.value);
  if (type === "list") {
    const items = element.value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
    return element.dataset.itemType === "integer" ? items.map(Number) : items;
  }
  if (element.value === "" && SCHEMA[element.name] && SCHEMA[element.name].nullable) return null;
  return element.value;
}

function setPath(tree, path, value) {
  const keys = path.split(".");
  let node = tree;
  for (const key of keys.slice(0, -1)) node = node[key] = node[key] || {};
  node[keys[keys.length - 1]] = value;
}

// Only what changed goes to the server, so a save cannot clobber settings changed elsewhere.
function changedValues(form) {
  const settings = store.get("settings") || {};
  const changes = {};
  let count = 0;
  for (const element of form.elements) {
    if (!element.name || !(element.name in SCHEMA)) continue;
    const value = readValue(element);
    if (JSON.stringify(value) !== JSON.stringify(valueAt(settings, element.name))) {
      setPath(changes, element.name, value);
      count += 1;
    }
  }
  return count ? changes : null;
}

export async function save(changes) {
  const result = await attempt(() => api.post("/api/settings", changes), "Settings saved");
  if (result) store.set("settings", result);
  return result;
}

function renderGenericForms(settings) {
  for (const form of $$("form[data-settings]")) {
    if (form.contains(document.activeElement) && form.dataset.rendered) continue;
    const sections = form.dataset.settings.split(",");
    const open = new Set($$("details[open]", form).map((d) => d.dataset.group));
    const groups = buildFields(sections, settings);
    for (const group of groups) if (group.tagName === "DETAILS" && open.has(group.dataset.group)) group.open = true;
    $(".generic-fields", form).replaceChildren(...groups);
    form.dataset.rendered = "true";
  }
}

function presetRow(preset = { name: "", extruder: 0, bed: 0, chamber: null }) {
  const number = (key, label) => h("td", {}, h("input", {
    type: "number", min: "0", max: "400", step: "1", class: "narrow", "aria-label": label, dataset: { key },
    value: preset[key] === null || preset[key] === undefined ? "" : String(preset[key]),
  }));
  const row = h("tr", {},
    h("td", {}, h("input", { "aria-label": "Preset name", dataset: { key: "name" }, value: preset.name, required: true })),
    number("extruder", "Extruder temperature"), number("bed", "Bed temperature"), number("chamber", "Chamber temperature"),
    h("td", {}, h("button", { type: "button", class: "small danger", "aria-label": "Remove preset", onclick: () => row.remove() }, icon("close"))));
  return row;
}

function renderPresets(settings) {
  const presets = (settings.temperature && settings.temperature.profiles) || [];
  if ($("#settings-temperatures").contains(document.activeElement)) return;
  $("#preset-rows").replaceChildren(...presets.map((p) => presetRow(p)));
}

function readPresets() {
  return $$("#preset-rows tr").map((row) => {
    const preset = {};
    for (const input of $$("input", row)) {
      const key = input.dataset.key;
      preset[key] = key === "name" ? input.value.trim() : input.value === "" ? null : Number(input.value);
    }
    if (preset.extruder === null) preset.extruder = 0;
    if (preset.bed === null) preset.bed = 0;
    return preset;
  });
}

function renderScripts(settings) {
  const scripts = settings.scripts && settings.scripts.gcode;
  const box = $("#script-fields");
  if (!scripts) {
    box.replaceChildren(h("p", { class: "muted" }, "This server does not offer its GCODE scripts for editing."));
    show($("#settings-scripts button[type=submit]"), false);
    return;
  }
  show($("#settings-scripts button[type=submit]"), true);
  // Any settings update re-renders; never over a script being edited or edited and not saved yet.
  const edited = $$("textarea", box).some((area) => area.value !== area.dataset.saved);
  if (edited || $("#settings-scripts").contains(document.activeElement)) return;
  box.replaceChildren(...Object.entries(scripts).map(([name, text]) => {
    const id = `script-${name}`;
    const area = h("textarea", { id, rows: "4", dataset: { script: name, saved: text || "" }, spellcheck: "false" });
    area.value = text || "";
    return h("div", { class: "field" }, h("label", { for: id }, humanize(name)), area);
  }));
}

// The server may announce a plugin list (capabilities.pluginList in /api/version); without it
// the page knows the identifiers of the loaded plugins it was rendered with.
async function loadPlugins() {
  const version = await attempt(() => api.get("/api/version"));
  const url = version && version.capabilities && version.capabilities.pluginList;
  const data = url ? await attempt(() => api.get(url)) : null;
  const plugins = data ? data.plugins || [] : config.plugins.map((key) => ({ key }));
  if (!plugins.length) {
    $("#plugin-list").replaceChildren(h("li", { class: "muted" }, "No plugins are loaded."));
    return;
  }
  $("#plugin-list").replaceChildren(...plugins.map((p) => h("li", {},
    h("strong", {}, p.name || p.key), p.version ? ` ${p.version}` : "",
    h("span", { class: "muted" }, ` · ${p.enabled === false ? "disabled" : p.loaded === false ? "failed to load" : "loaded"}${p.bundled ? " · bundled" : ""}`),
    p.description ? h("div", { class: "muted" }, p.description) : null,
    p.error ? h("div", { class: "form-error" }, p.error) : null)));
}

async function loadSystem() {
  const box = $("#system-commands");
  const server = store.get("server") || {};
  $("#system-info").textContent = server.version ? `octohost ${server.display_version || server.version}, Python ${server.python_version || "?"}` : "";
  let data;
  try {
    data = await api.get("/api/system/commands");
  } catch (error) {
    box.replaceChildren(h("p", { class: "muted" }, error.message));
    return;
  }
  const commands = [...(data.core || []), ...(data.plugin || []), ...(data.custom || [])];
  if (!commands.length) {
    box.replaceChildren(h("p", { class: "muted" }, "No system commands are configured."));
    return;
  }
  box.replaceChildren(...commands.map((command) => h("button", {
    type: "button", class: command.action && command.action.includes("shutdown") ? "danger" : "",
    onclick: async () => {
      const question = command.confirm || `Run "${command.name}"?`;
      if (!(await confirmAction(question, command.name))) return;
      attempt(() => api.post(command.resource || `/api/system/commands/${command.source}/${command.action}`), `${command.name}: started`);
    },
  }, command.name)));
}

function selectSection(name) {
  for (const button of $$(".settings-nav button")) {
    const selected = button.dataset.section === name;
    if (selected) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
  for (const section of $$(".settings-section")) show(section, section.id === `settings-${name}`);
  store.emit("settingsSection", name);
  if (name === "plugins") loadPlugins();
  if (name === "system") loadSystem();
}

export async function load() {
  if (!can(store.get("user"), "SETTINGS_READ") && !can(store.get("user"), "SETTINGS")) return;
  const settings = await attempt(() => api.get("/api/settings"));
  if (settings) store.set("settings", settings);
}

export function init() {
  for (const button of $$(".settings-nav button")) button.addEventListener("click", () => selectSection(button.dataset.section));
  for (const form of $$("form[data-settings]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = changedValues(form);
      if (!changes) return;
      delete form.dataset.rendered;
      await save(changes);
    });
  }
  $("#preset-add").addEventListener("click", () => $("#preset-rows").append(presetRow()));
  $("#settings-temperatures").addEventListener("submit", async (event) => {
    event.preventDefault();
    const presets = readPresets();
    if (presets.some((p) => !p.name)) return;
    await save({ temperature: { profiles: presets } });
  });
  $("#settings-scripts").addEventListener("submit", async (event) => {
    event.preventDefault();
    const areas = $$("#script-fields textarea");
    const gcode = Object.fromEntries(areas.map((area) => [area.dataset.script, area.value]));
    if (await save({ scripts: { gcode } })) for (const area of areas) area.dataset.saved = area.value;
  });
  store.on("settings", (settings) => {
    renderGenericForms(settings);
    renderPresets(settings);
    renderScripts(settings);
  });
  store.on("user", (user) => {
    if (!user) return;
    load();
    // The permissions decide which sections exist: stay on a visible one.
    const current = $(".settings-nav button[aria-current]");
    if (!current || current.hidden) {
      const first = $$(".settings-nav button").find((button) => !button.hidden);
      if (first) selectSection(first.dataset.section);
    }
  });
  store.on("event:SettingsUpdated", load, { immediate: false });
  // The virtual printer's group comes and goes with the port in use.
  let virtual = null;
  store.on("connection", () => {
    const now = virtualPrinterInUse();
    if (now !== virtual && store.get("settings")) renderGenericForms(store.get("settings"));
    virtual = now;
  });
}
