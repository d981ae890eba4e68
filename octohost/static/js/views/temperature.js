// Temperatures: a canvas graph of actual and target per heater, targets, offsets and presets.

import { api } from "../api.js";
import { $, attempt, h, setText, show } from "../dom.js";
import { printerLive } from "../printerstate.js";
import { store } from "../store.js";

const COLORS = ["#e4572e", "#f4a259", "#9b5de5", "#00a6a6", "#bc4b51", "#5b8e7d"];
const FIXED_COLORS = { bed: "#2e86de", chamber: "#2ca02c" };
const MAX_POINTS = 4000;

const series = new Map(); // heater -> {times: [], actual: [], target: [], color}
const latest = {}; // heater -> {actual, target}
let cutoffSeconds = 30 * 60;
let drawPending = false;
let dirty = false;
let heaterSignature = "";

function heaterLabel(name) {
  if (name === "bed") return "Bed";
  if (name === "chamber") return "Chamber";
  const match = /^tool(\d+)$/.exec(name);
  return match ? `Tool ${Number(match[1]) + 1}` : name;
}

function colorFor(name) {
  if (FIXED_COLORS[name]) return FIXED_COLORS[name];
  const match = /^tool(\d+)$/.exec(name);
  return COLORS[(match ? Number(match[1]) : series.size) % COLORS.length];
}

function addPoints(points, replace) {
  if (replace) series.clear();
  for (const point of points) {
    const time = point.time;
    for (const [name, value] of Object.entries(point)) {
      if (name === "time" || !value || typeof value !== "object") continue;
      if (!series.has(name)) series.set(name, { times: [], actual: [], target: [], color: colorFor(name) });
      const s = series.get(name);
      s.times.push(time);
      s.actual.push(value.actual);
      s.target.push(value.target);
      latest[name] = { actual: value.actual, target: value.target };
    }
  }
  const newest = Math.max(0, ...[...series.values()].map((s) => s.times[s.times.length - 1] || 0));
  for (const s of series.values()) {
    let drop = 0;
    while (drop < s.times.length && s.times[drop] < newest - cutoffSeconds) drop += 1;
    drop = Math.max(drop, s.times.length - MAX_POINTS);
    if (drop > 0) {
      s.times.splice(0, drop);
      s.actual.splice(0, drop);
      s.target.splice(0, drop);
    }
  }
}

function scheduleDraw() {
  dirty = true;
  if (drawPending || store.get("tab") !== "temperature" || document.hidden) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    dirty = false;
    draw();
  });
}

function draw() {
  const canvas = $("#temp-graph");
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (!width || !height) return;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const styles = getComputedStyle(document.documentElement);
  const gridColor = styles.getPropertyValue("--grid").trim() || "#ddd";
  const textColor = styles.getPropertyValue("--muted").trim() || "#666";
  const left = 36;
  const bottom = 20;
  const plotW = width - left - 8;
  const plotH = height - bottom - 8;
  let newest = 0;
  let maxValue = 50;
  let count = 0;
  for (const s of series.values()) {
    newest = Math.max(newest, s.times[s.times.length - 1] || 0);
    for (let i = 0; i < s.times.length; i += 1) {
      maxValue = Math.max(maxValue, s.actual[i] || 0, s.target[i] || 0);
    }
    count += s.times.length;
  }
  const top = Math.ceil((maxValue + 10) / 50) * 50;
  const x = (t) => left + plotW * (1 - (newest - t) / cutoffSeconds);
  const y = (v) => 8 + plotH * (1 - v / top);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = textColor;
  ctx.strokeStyle = gridColor;
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let v = 0; v <= top; v += 50) {
    ctx.beginPath();
    ctx.moveTo(left, y(v));
    ctx.lineTo(left + plotW, y(v));
    ctx.stroke();
    ctx.fillText(`${v}°`, left - 4, y(v));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const minutes = cutoffSeconds / 60;
  for (let m = 0; m <= minutes; m += minutes >= 20 ? 10 : 5) {
    const px = left + plotW * (1 - m / minutes);
    ctx.textAlign = m === 0 ? "right" : m === minutes ? "left" : "center";
    ctx.fillText(m === 0 ? "now" : `-${m} min`, px, height - bottom + 4);
  }
  for (const s of series.values()) {
    // about two points per pixel are enough for a temperature curve
    const stride = Math.max(1, Math.floor(s.times.length / (plotW * 2)));
    plot(ctx, s.times, s.target, x, y, s.color, [5, 4], stride);
    plot(ctx, s.times, s.actual, x, y, s.color, [], stride);
  }
  canvas.dataset.points = String(count);
}

function plot(ctx, times, values, x, y, color, dash, stride) {
  ctx.beginPath();
  ctx.setLineDash(dash);
  ctx.strokeStyle = color;
  ctx.lineWidth = dash.length ? 1 : 2;
  let started = false;
  const last = times.length - 1;
  for (let i = 0; i <= last; i = i < last && i + stride > last ? last : i + stride) {
    const value = values[i];
    if (value === null || value === undefined) {
      started = false;
      continue;
    }
    if (started) ctx.lineTo(x(times[i]), y(value));
    else ctx.moveTo(x(times[i]), y(value));
    started = true;
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

const format = (value) => (value === null || value === undefined ? "-" : `${value.toFixed(1)}°C`);

function setTarget(name, value) {
  if (name === "bed" || name === "chamber") return api.post(`/api/printer/${name}`, { command: "target", target: value });
  return api.post("/api/printer/tool", { command: "target", targets: { [name]: value } });
}

function setOffset(name, value) {
  if (name === "bed" || name === "chamber") return api.post(`/api/printer/${name}`, { command: "offset", offset: value });
  return api.post("/api/printer/tool", { command: "offset", offsets: { [name]: value } });
}

function heaterRow(name) {
  const targetInput = h("input", { type: "number", min: "0", max: "400", step: "1", "aria-label": `Target for ${heaterLabel(name)}`, class: "narrow" });
  const offsetInput = h("input", { type: "number", min: "-50", max: "50", step: "1", value: "0", "aria-label": `Offset for ${heaterLabel(name)}`, class: "narrow" });
  const submitTarget = () => {
    const value = Number(targetInput.value);
    if (targetInput.value === "" || Number.isNaN(value)) return;
    attempt(() => setTarget(name, value));
  };
  targetInput.addEventListener("keydown", (event) => { if (event.key === "Enter") submitTarget(); });
  offsetInput.addEventListener("change", () => attempt(() => setOffset(name, Number(offsetInput.value) || 0)));
  return h("tr", { dataset: { heater: name } },
    h("th", { scope: "row" }, h("span", { class: "swatch", style: `background:${colorFor(name)}` }), heaterLabel(name)),
    h("td", { class: "actual" }, "-"),
    h("td", { class: "target" }, "-"),
    h("td", { class: "control-cell" }, h("div", { class: "input-row" }, targetInput,
      h("button", { type: "button", class: "small", onclick: submitTarget }, "Set"),
      h("button", { type: "button", class: "small", onclick: () => attempt(() => setTarget(name, 0)), "aria-label": `Turn ${heaterLabel(name)} off` }, "Off"))),
    h("td", {}, offsetInput));
}

function heaterOrder(name) {
  const match = /^tool(\d+)$/.exec(name);
  if (match) return Number(match[1]);
  return { bed: 1000, chamber: 1001 }[name] ?? 2000;
}

function renderTable() {
  const names = [...series.keys()].sort((a, b) => heaterOrder(a) - heaterOrder(b) || a.localeCompare(b));
  const signature = names.join(",");
  if (signature !== heaterSignature) {
    heaterSignature = signature;
    $("#heater-rows").replaceChildren(...names.map(heaterRow));
    $("#temp-legend").replaceChildren(...names.map((name) => h("li", { dataset: { heater: name } },
      h("span", { class: "swatch", style: `background:${colorFor(name)}` }), `${heaterLabel(name)}: `, h("span", { class: "legend-value" }, ""))));
  }
  // Without a printer (or a server) the last reading is history, not a temperature: show none.
  const live = printerLive();
  if (!live) for (const name of Object.keys(latest)) delete latest[name];
  $("#heater-table").classList.toggle("stale", !live);
  show($("#heater-stale"), !live && names.length > 0);
  for (const name of names) {
    const row = $(`#heater-rows tr[data-heater="${name}"]`);
    const value = live ? latest[name] || {} : {};
    setText($(".actual", row), format(value.actual));
    const target = live ? (value.target ? format(value.target) : "off") : "-";
    setText($(".target", row), target);
    setText($(`#temp-legend li[data-heater="${name}"] .legend-value`), `${format(value.actual)} / ${target}`);
  }
}

function renderOffsets(offsets) {
  for (const [name, value] of Object.entries(offsets || {})) {
    const input = $(`#heater-rows tr[data-heater="${name}"] td:last-child input`);
    if (input && document.activeElement !== input) input.value = value;
  }
}

function heaters() {
  return [...series.keys()];
}

async function applyPreset(preset) {
  const tools = heaters().filter((n) => n.startsWith("tool"));
  const targets = Object.fromEntries(tools.map((t) => [t, preset.extruder || 0]));
  const requests = [];
  if (tools.length) requests.push(api.post("/api/printer/tool", { command: "target", targets }));
  if (heaters().includes("bed") && preset.bed !== null && preset.bed !== undefined) requests.push(setTarget("bed", preset.bed));
  if (heaters().includes("chamber") && preset.chamber) requests.push(setTarget("chamber", preset.chamber));
  await attempt(() => Promise.all(requests), `Preset ${preset.name} set`);
}

async function allOff() {
  const tools = heaters().filter((n) => n.startsWith("tool"));
  const requests = [];
  if (tools.length) requests.push(api.post("/api/printer/tool", { command: "target", targets: Object.fromEntries(tools.map((t) => [t, 0])) }));
  for (const name of ["bed", "chamber"]) if (heaters().includes(name)) requests.push(setTarget(name, 0));
  await attempt(() => Promise.all(requests), "All heaters off");
}

function renderPresets(settings) {
  const presets = (settings && settings.temperature && settings.temperature.profiles) || [];
  $("#temp-presets").replaceChildren(...presets.map((preset) => h("button", {
    type: "button", class: "small", title: `Extruder ${preset.extruder}°C, bed ${preset.bed}°C`, onclick: () => applyPreset(preset),
  }, preset.name)));
  const cutoff = settings && settings.temperature && settings.temperature.cutoff;
  if (cutoff) cutoffSeconds = cutoff * 60;
}

export function init() {
  store.on("temps", ({ points, history }) => {
    addPoints(points, history);
    renderTable();
    scheduleDraw();
  });
  store.on("offsets", renderOffsets);
  store.on("state", renderTable);
  store.on("socket", renderTable);
  store.on("settings", renderPresets);
  store.on("tab", (tab) => { if (tab === "temperature" && dirty) scheduleDraw(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && dirty) scheduleDraw(); });
  window.addEventListener("resize", scheduleDraw);
  $("#temp-all-off").addEventListener("click", allOff);
}
