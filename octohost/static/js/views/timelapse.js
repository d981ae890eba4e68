// Timelapse: rendered videos (play, download, delete), recordings waiting to be rendered, the render's
// progress (push messages renderProgress and Movie* events) and the configuration for the next prints.

import { api } from "../api.js";
import { $, attempt, confirmAction, formatBytes, h, setText, show, toast } from "../dom.js";
import { can } from "../session.js";
import { store } from "../store.js";

let loaded = null;

function visible() {
  return store.get("tab") === "timelapse";
}

function setProgress(percent, name) {
  show($("#timelapse-rendering"), percent !== null);
  if (percent === null) return;
  if (name !== undefined) setText($("#timelapse-rendering-name"), name);
  $("#timelapse-progress-fill").style.width = `${percent}%`;
  setText($("#timelapse-progress-text"), `${Math.round(percent)}%`);
  $("#timelapse-progressbar").setAttribute("aria-valuenow", String(Math.round(percent)));
}

function play(file) {
  const video = $("#timelapse-video");
  video.src = file.url;
  setText($("#timelapse-player-name"), file.name);
  show($("#timelapse-player"), true);
  video.play().catch(() => {});  // autoplay may be refused: the controls are there
}

async function removeVideo(file) {
  if (!await confirmAction(`Delete ${file.name}?`, "Delete")) return;
  if (await attempt(() => api.delete(`/api/timelapse/${encodeURIComponent(file.name)}`), "Timelapse deleted")) load();
}

async function removeRecording(entry) {
  if (!await confirmAction(`Delete the ${entry.count} frames of ${entry.name}?`, "Delete")) return;
  if (await attempt(() => api.delete(`/api/timelapse/unrendered/${encodeURIComponent(entry.name)}`), "Frames deleted")) load();
}

async function render(entry) {
  const path = `/api/timelapse/unrendered/${encodeURIComponent(entry.name)}`;
  if (await attempt(() => api.post(path, { command: "render" }), "Rendering queued")) load();
}

function videoRow(file, user) {
  return h("tr", {},
    h("td", { class: "filename" },
      file.thumbnail ? h("img", { class: "timelapse-thumb", src: file.thumbnail, alt: "", width: "80" }) : null,
      " ", file.name),
    h("td", {}, formatBytes(file.bytes)),
    h("td", {}, file.date),
    h("td", { class: "actions" },
      h("button", { type: "button", class: "small", onclick: () => play(file) }, "Play"),
      can(user, "TIMELAPSE_DOWNLOAD") ? h("a", { class: "button small", href: file.url, download: file.name }, "Download") : null,
      can(user, "TIMELAPSE_DELETE") ? h("button", { type: "button", class: "small danger", onclick: () => removeVideo(file) }, "Delete") : null));
}

function recordingRow(entry, user) {
  const manage = can(user, "TIMELAPSE_MANAGE_UNRENDERED") && !entry.processing;
  const state = entry.recording ? "recording" : entry.rendering ? "rendering" : "";
  return h("tr", {},
    h("td", { class: "filename" }, entry.name, state ? h("span", { class: "muted" }, ` (${state})`) : null),
    h("td", {}, String(entry.count)),
    h("td", {}, formatBytes(entry.bytes)),
    h("td", {}, entry.date),
    h("td", { class: "actions" },
      manage ? h("button", { type: "button", class: "small", onclick: () => render(entry) }, "Render") : null,
      manage ? h("button", { type: "button", class: "small danger", onclick: () => removeRecording(entry) }, "Delete") : null));
}

function showFor(type) {
  for (const field of document.querySelectorAll("#timelapse-config [data-for]")) {
    const wanted = field.dataset.for;
    show(field, wanted === type || (wanted === "on" && type !== "off"));
  }
}

function fillConfig(config, enabled) {
  const form = $("#timelapse-config");
  if (form.contains(document.activeElement)) return;
  form.elements.type.value = config.type || "off";
  const fields = { interval: "interval", retractionZHop: "retractionZHop", minDelay: "minDelay", fps: "fps",
    postRoll: "postRoll", renderAfterPrint: "renderAfterPrint" };
  for (const [key, name] of Object.entries(fields)) {
    if (config[key] !== undefined && config[key] !== null) form.elements[name].value = String(config[key]);
  }
  showFor(form.elements.type.value);
  show($("#timelapse-disabled"), !enabled || config.type === "off");
}

export async function load() {
  const user = store.get("user");
  if (!user || !can(user, "TIMELAPSE_LIST")) return;
  const data = await attempt(() => api.get("/api/timelapse?unrendered=true"));
  if (!data) return;
  loaded = data;
  const files = data.files || [];
  $("#timelapse-rows").replaceChildren(...files.map((file) => videoRow(file, user)));
  show($("#timelapse-empty"), files.length === 0);
  const unrendered = data.unrendered || [];
  $("#timelapse-unrendered-rows").replaceChildren(...unrendered.map((entry) => recordingRow(entry, user)));
  show($("#timelapse-unrendered-box"), unrendered.length > 0);
  fillConfig(data.config || { type: "off" }, data.enabled);
}

async function applyConfig(event) {
  event.preventDefault();
  const form = event.target;
  const type = form.elements.type.value;
  const body = { type, fps: Number(form.elements.fps.value), postRoll: Number(form.elements.postRoll.value),
    renderAfterPrint: form.elements.renderAfterPrint.value, save: form.elements.save.checked };
  if (type === "timed") body.interval = Number(form.elements.interval.value);
  if (type === "zchange") {
    body.retractionZHop = Number(form.elements.retractionZHop.value);
    body.minDelay = Number(form.elements.minDelay.value);
  }
  const result = await attempt(() => api.post("/api/timelapse", body), "Timelapse settings applied");
  if (result) fillConfig(result.config, result.enabled);
}

export function init() {
  $("#timelapse-config").addEventListener("submit", applyConfig);
  $("#timelapse-config").elements.type.addEventListener("change", (event) => showFor(event.target.value));
  store.on("tab", () => { if (visible()) load(); });
  store.on("message:renderProgress", (payload) => setProgress(payload.progress));
  store.on("event:MovieRendering", (payload) => {
    show($("#timelapse-error"), false);
    setProgress(0, payload.movie_basename);
    if (visible()) load();
  }, { immediate: false });
  store.on("event:MovieDone", (payload) => {
    setProgress(null);
    toast(`Timelapse ${payload.movie_basename} is ready`);
    if (visible()) load();
  }, { immediate: false });
  store.on("event:MovieFailed", (payload) => {
    setProgress(null);
    const box = $("#timelapse-error");
    setText(box, `Timelapse ${payload.movie_prefix} was not rendered: ${payload.error || payload.reason}`);
    show(box, true);
    if (visible()) load();
  }, { immediate: false });
  for (const event of ["PrintStarted", "PrintDone", "PrintFailed", "PrintCancelled", "CaptureDone"]) {
    store.on(`event:${event}`, () => { if (visible()) load(); }, { immediate: false });
  }
  store.on("message:timelapse", () => { if (visible() && loaded) load(); }, { immediate: false });
}
