// Small DOM helpers and formatters shared by the views.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Build an element: h("button", {class: "primary", onclick: fn}, "Text").
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// Touch the DOM only when the text really changes (cheap at two pushes a second).
export function setText(element, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (element && element.textContent !== value) element.textContent = value;
}

export function show(element, visible) {
  if (element && element.hidden === Boolean(visible)) element.hidden = !visible;
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "-";
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${pad(minutes)}:${pad(secs)}` : `${minutes}:${pad(secs)}`;
}

// A length of time to come, as people say it ("1h 2m", "58m", "40s"): "10:58" reads as a clock.
export function formatEstimate(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "-";
  const total = Math.max(0, Math.round(seconds));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${minutes}m`;
  if (minutes) return `${minutes}m`;
  return `${total}s`;
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "-";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function formatDate(epochSeconds) {
  if (!epochSeconds) return "-";
  return new Date(epochSeconds * 1000).toLocaleString();
}

export function formatFilament(filament) {
  if (!filament) return "-";
  const parts = [];
  for (const [tool, data] of Object.entries(filament)) {
    if (data && data.length) parts.push(`${tool}: ${(data.length / 1000).toFixed(2)} m`);
  }
  return parts.length ? parts.join(", ") : "-";
}

// The slicer's own filament figures per tool: length (mm) and, when it says, weight (g).
export function formatSlicerFilament(filament) {
  const parts = [];
  for (const data of Object.values(filament || {})) {
    const bits = [];
    if (data.length) bits.push(`${(data.length / 1000).toFixed(2)} m`);
    if (data.weight) bits.push(`${data.weight.toFixed(1)} g`);
    if (bits.length) parts.push(bits.join(", "));
  }
  return parts.length ? parts.join("; ") : "-";
}

let toastTimer = null;

export function toast(message, kind = "info") {
  const box = $("#toast");
  if (!box) return;
  box.className = `toast toast-${kind}`;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 4000);
}

// Run an API action, reporting failure in a toast instead of an unhandled rejection.
export async function attempt(action, success) {
  try {
    const result = await action();
    if (success) toast(success, "success");
    return result;
  } catch (error) {
    toast(error.message || String(error), "error");
    return undefined;
  }
}

// A modal yes/no question on the page's <dialog id="confirm-dialog">.
export function confirmAction(question, confirmLabel = "OK") {
  const dialog = $("#confirm-dialog");
  setText($("#confirm-message", dialog), question);
  setText($("#confirm-ok", dialog), confirmLabel);
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener("close", onClose);
      resolve(dialog.returnValue === "ok");
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", onClose);
    dialog.showModal();
  });
}

// A modal prompt for one line of text, on <dialog id="prompt-dialog">.
export function promptText(question, initial = "") {
  const dialog = $("#prompt-dialog");
  const input = $("#prompt-input", dialog);
  setText($("#prompt-label", dialog), question);
  input.value = initial;
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener("close", onClose);
      resolve(dialog.returnValue === "ok" ? input.value : null);
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    input.select();
  });
}

// A modal choice from a list (value, label pairs), on <dialog id="choose-dialog">: resolves to the
// chosen value, or null when cancelled. Nothing to type, so nothing to mistype.
export function chooseOption(question, options, initial, confirmLabel = "OK") {
  const dialog = $("#choose-dialog");
  const select = $("#choose-select", dialog);
  setText($("#choose-label", dialog), question);
  setText($("#choose-ok", dialog), confirmLabel);
  select.replaceChildren(...options.map(([value, label]) => h("option", { value, selected: value === initial }, label)));
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener("close", onClose);
      resolve(dialog.returnValue === "ok" ? select.value : null);
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    select.focus();
  });
}

// Read a form's named fields into a nested object ("volume.width" -> {volume: {width}}).
export function readForm(form) {
  const out = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    let value;
    if (element.type === "checkbox") value = element.checked;
    else if (element.type === "number") value = element.value === "" ? null : Number(element.value);
    else value = element.value;
    const path = element.name.split(".");
    let node = out;
    for (const key of path.slice(0, -1)) node = node[key] = node[key] || {};
    node[path[path.length - 1]] = value;
  }
  return out;
}

// Fill a form's named fields from a nested object.
export function fillForm(form, data) {
  for (const element of form.elements) {
    if (!element.name) continue;
    let value = data;
    for (const key of element.name.split(".")) value = value === null || value === undefined ? undefined : value[key];
    if (element.type === "checkbox") element.checked = Boolean(value);
    else element.value = value === null || value === undefined ? "" : value;
  }
}

// Tables with class "cards" become one card per row on a phone; each cell then names its column
// (data-label, from the header). Labelled whenever rows change, so views just render rows.
export function labelTableCells(table) {
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  const label = () => {
    for (const row of table.tBodies[0] ? table.tBodies[0].rows : []) {
      [...row.cells].forEach((cell, index) => {
        if (heads[index] && cell.dataset.label !== heads[index]) cell.dataset.label = heads[index];
      });
    }
  };
  label();
  if (table.tBodies[0]) new MutationObserver(label).observe(table.tBodies[0], { childList: true });
}
