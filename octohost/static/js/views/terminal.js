// The terminal: the live serial log (bounded), poll filters, and commands with history.

import { api } from "../api.js";
import { $, attempt, h } from "../dom.js";
import { store } from "../store.js";

const MAX_LINES = 2000;
const MAX_HISTORY = 100;

// Temperature polls and reports ("Send: M105", "Recv: ok T:210.0 /210.0 B:60.0 /60.0").
const TEMPERATURE_LINE = /^(Send: (N\d+\s+)?M105\b)|^Recv:\s+(ok\s+)?([PBN]\d+\s+)*(B|C|T\d*):\s*-?\d/;
// SD status polls and answers.
const SD_LINE = /^(Send: (N\d+\s+)?M27\b)|^Recv:\s+(SD printing byte|Not SD printing)/;

const buffer = [];
const commandHistory = [];
let historyIndex = 0;

function hidden(line) {
  return ($("#terminal-hide-temps").checked && TEMPERATURE_LINE.test(line))
    || ($("#terminal-hide-sd").checked && SD_LINE.test(line));
}

function lineElement(line) {
  const kind = line.startsWith("Send:") ? "send" : line.startsWith("Recv:") ? "recv" : "info";
  return h("div", { class: `line line-${kind}` }, line);
}

function trimDom(output) {
  while (output.childElementCount > MAX_LINES) output.firstElementChild.remove();
}

function scroll(output) {
  if ($("#terminal-autoscroll").checked) output.scrollTop = output.scrollHeight;
}

function append(lines) {
  buffer.push(...lines);
  if (buffer.length > MAX_LINES) buffer.splice(0, buffer.length - MAX_LINES);
  const output = $("#terminal-output");
  const fragment = document.createDocumentFragment();
  for (const line of lines) if (!hidden(line)) fragment.append(lineElement(line));
  output.append(fragment);
  trimDom(output);
  scroll(output);
}

function rebuild() {
  const output = $("#terminal-output");
  output.replaceChildren(...buffer.filter((line) => !hidden(line)).map(lineElement));
  scroll(output);
}

async function send(event) {
  event.preventDefault();
  const input = $("#terminal-input");
  const command = input.value.trim();
  if (!command) return;
  if (commandHistory[commandHistory.length - 1] !== command) commandHistory.push(command);
  if (commandHistory.length > MAX_HISTORY) commandHistory.shift();
  historyIndex = commandHistory.length;
  input.value = "";
  await attempt(() => api.post("/api/printer/command", { commands: command.split("\n").filter(Boolean) }));
}

function browseHistory(event) {
  if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
  if (!commandHistory.length) return;
  event.preventDefault();
  historyIndex = Math.max(0, Math.min(commandHistory.length, historyIndex + (event.key === "ArrowUp" ? -1 : 1)));
  event.target.value = commandHistory[historyIndex] || "";
}

export function init() {
  store.on("logs", ({ lines, history }) => {
    if (history) buffer.length = 0;
    if (history) $("#terminal-output").replaceChildren();
    append(lines);
  });
  $("#terminal-form").addEventListener("submit", send);
  $("#terminal-input").addEventListener("keydown", browseHistory);
  $("#terminal-hide-temps").addEventListener("change", rebuild);
  $("#terminal-hide-sd").addEventListener("change", rebuild);
  store.on("tab", (tab) => { if (tab === "terminal") scroll($("#terminal-output")); });
}
