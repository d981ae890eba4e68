// Settings > Custom controls: edit the Control tab's buttons (OctoPrint's "controls" schema) in
// the page. Groups and buttons with name, commands and an optional confirmation; whatever else an
// entry holds (inputs, scripts, layout) is kept as it was.

import { $, $$, h, show } from "../dom.js";
import { icon } from "../icons.js";
import { store } from "../store.js";
import { save } from "./settings.js";

function commandsOf(control) {
  if (Array.isArray(control.commands)) return control.commands.join("\n");
  return control.command || "";
}

function buttonRow(control = { name: "", commands: [] }) {
  const row = h("div", { class: "control-row" },
    h("input", { "aria-label": "Button name", placeholder: "Button name", class: "control-name", value: control.name || "", required: true }),
    h("textarea", { "aria-label": `Commands of ${control.name || "the button"}`, placeholder: "G28\nM117 Homed", rows: "2", class: "control-commands", spellcheck: "false" }),
    h("input", { "aria-label": "Confirmation question (optional)", placeholder: "Ask first (optional)", class: "control-confirm", value: control.confirm || "" }),
    h("button", { type: "button", class: "small danger", "aria-label": `Remove ${control.name || "the button"}`, onclick: () => row.remove() }, icon("close")));
  $(".control-commands", row).value = commandsOf(control);
  row.original = control;
  return row;
}

function groupBox(group = { name: "", children: [] }) {
  const list = h("div", { class: "control-children" }, (group.children || []).map((child) => buttonRow(child)));
  const box = h("fieldset", { class: "control-group-edit" },
    h("legend", {}, "Group"),
    h("div", { class: "input-row" },
      h("input", { "aria-label": "Group name", placeholder: "Group name", class: "group-name", value: group.name || "", required: true }),
      h("button", { type: "button", class: "small danger", "aria-label": `Remove the group ${group.name || ""}`, onclick: () => box.remove() }, icon("close"))),
    list,
    h("button", { type: "button", class: "small", onclick: () => list.append(buttonRow()) }, "Add button to group"));
  box.original = group;
  return box;
}

function render(settings) {
  const form = $("#settings-controls");
  if (form.contains(document.activeElement) || form.dataset.edited) return;
  const controls = (settings && settings.controls) || [];
  $("#controls-editor").replaceChildren(...controls.map((c) => (Array.isArray(c.children) ? groupBox(c) : buttonRow(c))));
}

function readButton(row) {
  const commands = $(".control-commands", row).value.split("\n").map((c) => c.trim()).filter(Boolean);
  const out = { ...(row.original || {}), name: $(".control-name", row).value.trim() };
  delete out.command;
  delete out.commands;
  if (commands.length === 1) out.command = commands[0];
  else if (commands.length) out.commands = commands;
  const confirm = $(".control-confirm", row).value.trim();
  if (confirm) out.confirm = confirm; else delete out.confirm;
  return out;
}

function readAll() {
  return [...$("#controls-editor").children].map((node) => (node.classList.contains("control-group-edit")
    ? { ...(node.original || {}), name: $(".group-name", node).value.trim(), children: $$(".control-row", node).map(readButton) }
    : readButton(node)));
}

export function init() {
  const form = $("#settings-controls");
  form.addEventListener("input", () => { form.dataset.edited = "true"; });
  $("#controls-add-group").addEventListener("click", () => {
    form.dataset.edited = "true";
    const box = groupBox({ name: "", children: [{ name: "", commands: [] }] });
    $("#controls-editor").append(box);
    $(".group-name", box).focus();
  });
  $("#controls-add-button").addEventListener("click", () => {
    form.dataset.edited = "true";
    const row = buttonRow();
    $("#controls-editor").append(row);
    $(".control-name", row).focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const controls = readAll();
    if (await save({ controls })) {
      delete form.dataset.edited;
      render(store.get("settings"));
    }
  });
  store.on("settings", render);
  show(form, false);
}
