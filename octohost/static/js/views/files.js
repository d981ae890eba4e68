// The file list: upload (button, drag and drop), folders, sort, search, details, and file actions.

import { api, postForm, upload } from "../api.js";
import {
  $, attempt, chooseOption, confirmAction, formatBytes, formatDate, formatEstimate, formatFilament, formatSlicerFilament, h, promptText,
  setText, show, toast,
} from "../dom.js";
import { icon } from "../icons.js";
import { can } from "../session.js";
import { lastResultFor, RESULT_TEXT } from "./history.js";
import { store } from "../store.js";

const view = { origin: "local", cwd: "", search: "", sort: "name", expanded: new Set(), trees: { local: [], sdcard: [] } };
let refreshTimer = null;

export async function refresh() {
  const user = store.get("user");
  if (!can(user, "FILES_LIST")) return;
  const data = await attempt(() => api.get(`/api/files/${view.origin}?recursive=true`));
  if (!data) return;
  view.trees[view.origin] = data.files || [];
  const free = data.free !== undefined ? `${formatBytes(data.free)} free` : "";
  setText($("#files-free"), view.origin === "local" ? free : "");
  render();
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

function folderAt(path) {
  let entries = view.trees[view.origin];
  if (!path) return entries;
  for (const part of path.split("/")) {
    const folder = entries.find((e) => e.type === "folder" && e.name === part);
    if (!folder) return null;
    entries = folder.children || [];
  }
  return entries;
}

function flatten(entries, out = []) {
  for (const entry of entries) {
    if (entry.type === "folder") flatten(entry.children || [], out);
    else out.push(entry);
  }
  return out;
}

function sorted(entries) {
  const folderFirst = (a, b) => (a.type === "folder") === (b.type === "folder") ? 0 : a.type === "folder" ? -1 : 1;
  const by = {
    name: (a, b) => (a.display || a.name).localeCompare(b.display || b.name),
    date: (a, b) => (b.date || 0) - (a.date || 0),
    size: (a, b) => (b.size || 0) - (a.size || 0),
  }[view.sort];
  return [...entries].sort((a, b) => folderFirst(a, b) || by(a, b));
}

function selectedPath() {
  const file = (store.get("job") || {}).file || {};
  return file.origin === view.origin ? file.path : null;
}

// The slicer's preview: the server's refs.thumbnail, else a "thumbnail" URL (as OctoPrint's
// thumbnail plugins add), else the largest of the "thumbnails" that come with a URL.
function thumbnailOf(entry) {
  if (entry.refs && entry.refs.thumbnail) return entry.refs.thumbnail;
  if (typeof entry.thumbnail === "string") return entry.thumbnail;
  const withUrl = (entry.thumbnails || []).filter((t) => t && t.url);
  withUrl.sort((a, b) => (b.width || 0) * (b.height || 0) - (a.width || 0) * (a.height || 0));
  return withUrl.length ? withUrl[0].url : null;
}

function details(entry) {
  const analysis = entry.gcodeAnalysis || {};
  const dims = analysis.dimensions;
  const prints = entry.prints || {};
  const rows = [
    ["Size", formatBytes(entry.size)],
    ["Uploaded", formatDate(entry.date)],
    ["Estimated time", formatEstimate(analysis.estimatedPrintTime)],
    ["Filament", formatFilament(analysis.filament)],
    ["Dimensions", dims ? `${dims.width.toFixed(1)} × ${dims.depth.toFixed(1)} × ${dims.height.toFixed(1)} mm` : "-"],
  ];
  const slicer = entry.slicer || {};
  const slicerName = [slicer.name, slicer.version].filter(Boolean).join(" ");
  if (slicer.estimatedPrintTime) {
    rows.push([slicerName ? `${slicerName} estimate` : "Slicer estimate", formatEstimate(slicer.estimatedPrintTime)]);
  }
  if (slicer.filament) rows.push([slicerName ? `${slicerName} filament` : "Slicer filament", formatSlicerFilament(slicer.filament)]);
  if (slicer.layerCount) rows.push(["Layers", String(slicer.layerCount)]);
  let lastPrint = null;
  if (prints.last) {
    // The file's own tally knows only success or not; the print history tells cancelled from failed.
    lastPrint = h("dd", {}, `${prints.last.success ? "Done" : "Not finished"}, ${formatDate(prints.last.date)}`);
    lastResultFor(entry.path, view.origin).then((job) => {
      if (job && job.result) setText(lastPrint, `${RESULT_TEXT[job.result] || job.result}, ${formatDate(job.started)}`);
    });
  }
  const user = store.get("user");
  const busy = (store.get("busyFiles") || []).some((b) => b.path === entry.path && b.origin === view.origin);
  const resource = entry.refs && entry.refs.resource;
  const actions = [];
  if (can(user, "FILES_SELECT")) {
    actions.push(h("button", { type: "button", class: "small", onclick: () => selectFile(entry, false) }, "Select"));
  }
  if (can(user, "PRINT")) {
    actions.push(h("button", { type: "button", class: "small primary", onclick: () => selectFile(entry, true) }, "Print"));
  }
  if (entry.refs && entry.refs.download && can(user, "FILES_DOWNLOAD")) {
    actions.push(h("a", { class: "button small", href: entry.refs.download, download: entry.name }, "Download"));
  }
  if (view.origin === "local" && can(user, "FILES_UPLOAD")) {
    actions.push(h("button", { type: "button", class: "small", disabled: busy, onclick: () => moveFile(entry) }, "Move"));
  }
  if (can(user, "FILES_DELETE")) {
    actions.push(h("button", { type: "button", class: "small danger", disabled: busy, onclick: () => deleteEntry(entry, resource) }, "Delete"));
  }
  const thumbnailUrl = thumbnailOf(entry);
  const thumbnail = thumbnailUrl ? h("img", { class: "thumbnail", src: thumbnailUrl, alt: `Preview of ${entry.name}`, loading: "lazy" }) : null;
  return h("div", { class: "file-details" },
    thumbnail,
    h("dl", { class: "facts" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      lastPrint ? [h("dt", {}, "Last print"), lastPrint] : []),
    h("div", { class: "buttons" }, actions));
}

function fileItem(entry) {
  if (entry.type === "folder") {
    return h("li", { class: "file folder" },
      h("button", { type: "button", class: "file-name", onclick: () => { view.cwd = entry.path; render(); } },
        icon("folder"), entry.display || entry.name),
      can(store.get("user"), "FILES_DELETE")
        ? h("button", { type: "button", class: "small danger", "aria-label": `Delete folder ${entry.name}`, onclick: () => deleteEntry(entry, entry.refs && entry.refs.resource) }, "Delete")
        : null);
  }
  const expanded = view.expanded.has(entry.path);
  const selected = entry.path === selectedPath();
  const analysis = entry.gcodeAnalysis || {};
  return h("li", { class: `file${selected ? " selected" : ""}`, dataset: { path: entry.path } },
    h("button", {
      type: "button", class: "file-name", "aria-expanded": String(expanded),
      onclick: () => { expanded ? view.expanded.delete(entry.path) : view.expanded.add(entry.path); render(); },
    }, entry.display || entry.name),
    h("span", { class: "muted file-meta" }, `${formatBytes(entry.size)}${analysis.estimatedPrintTime ? ` · ${formatEstimate(analysis.estimatedPrintTime)}` : ""}`),
    expanded ? details(entry) : null);
}

function renderBreadcrumbs() {
  const crumbs = [h("button", { type: "button", class: "link", onclick: () => { view.cwd = ""; render(); } }, view.origin === "local" ? "Files" : "SD card")];
  let path = "";
  for (const part of view.cwd ? view.cwd.split("/") : []) {
    path = path ? `${path}/${part}` : part;
    const target = path;
    crumbs.push(" / ", h("button", { type: "button", class: "link", onclick: () => { view.cwd = target; render(); } }, part));
  }
  $("#files-breadcrumbs").replaceChildren(...crumbs);
}

export function render() {
  let entries = folderAt(view.cwd);
  if (entries === null) {
    view.cwd = "";
    entries = folderAt("");
  }
  if (view.search) {
    const needle = view.search.toLowerCase();
    entries = flatten(view.trees[view.origin]).filter((e) => (e.display || e.name).toLowerCase().includes(needle) || e.path.toLowerCase().includes(needle));
  }
  renderBreadcrumbs();
  const items = sorted(entries).map(fileItem);
  if (!items.length) items.push(h("li", { class: "muted empty" }, view.search ? "No file matches." : "No files yet."));
  $("#file-list").replaceChildren(...items);
}

async function selectFile(entry, print) {
  const resource = entry.refs && entry.refs.resource;
  await attempt(() => api.post(resource, { command: "select", print }), print ? `Printing ${entry.name}` : `Selected ${entry.name}`);
}

function folderPaths(entries, out = []) {
  for (const entry of entries || []) {
    if (entry.type !== "folder") continue;
    out.push(entry.path);
    folderPaths(entry.children, out);
  }
  return out;
}

// The destination is picked from the folders that exist, so a typo cannot send the file astray.
async function moveFile(entry) {
  const here = entry.path.includes("/") ? entry.path.slice(0, entry.path.lastIndexOf("/")) : "";
  const options = [["", "Files (top level)"], ...folderPaths(view.trees.local).sort().map((path) => [path, `Files / ${path.split("/").join(" / ")}`])];
  const destination = await chooseOption(`Move ${entry.name} to`, options, here, "Move");
  if (destination === null || destination === here) return;
  await attempt(() => api.post(entry.refs.resource, { command: "move", destination: destination || "/" }), "Moved");
  refresh();
}

async function deleteEntry(entry, resource) {
  if (!(await confirmAction(`Delete ${entry.type === "folder" ? "the folder" : ""} ${entry.name}?`, "Delete"))) return;
  await attempt(() => api.delete(resource), "Deleted");
  view.expanded.delete(entry.path);
  refresh();
}

async function newFolder() {
  const name = await promptText("Name of the new folder");
  if (!name || !name.trim()) return;
  await attempt(() => postForm("/api/files/local", { foldername: name.trim(), path: view.cwd }), `Created ${name.trim()}`);
  refresh();
}

function setUploadProgress(fraction, text) {
  const box = $("#upload-progress");
  show(box, fraction !== null);
  if (fraction === null) return;
  const percent = `${(fraction * 100).toFixed(0)}%`;
  $("#upload-progress-fill").style.width = percent;
  $("#upload-progressbar").setAttribute("aria-valuenow", (fraction * 100).toFixed(0));
  setText($("#upload-progress-text"), `${text} ${percent}`);
}

export async function uploadFiles(fileList) {
  const files = [...fileList];
  for (const [index, file] of files.entries()) {
    const label = files.length > 1 ? `${file.name} (${index + 1}/${files.length})` : file.name;
    setUploadProgress(0, label);
    try {
      await upload(`/api/files/${view.origin === "sdcard" ? "sdcard" : "local"}`, file, { path: view.cwd }, (f) => setUploadProgress(f, label));
      toast(`Uploaded ${file.name}`, "success");
    } catch (error) {
      toast(error.message, "error");
    }
  }
  setUploadProgress(null);
  refresh();
}

function setupDropzone() {
  const zone = $("#files-panel");
  let depth = 0;
  zone.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer || ![...event.dataTransfer.types].includes("Files")) return;
    depth += 1;
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dragging");
  });
  zone.addEventListener("dragover", (event) => event.preventDefault());
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    if (!can(store.get("user"), "FILES_UPLOAD")) {
      toast("You may not upload files.", "error");
      return;
    }
    if (event.dataTransfer && event.dataTransfer.files.length) uploadFiles(event.dataTransfer.files);
  });
}

function setOrigin(origin) {
  view.origin = origin;
  view.cwd = "";
  for (const button of document.querySelectorAll("#files-origin button")) {
    button.setAttribute("aria-pressed", String(button.dataset.origin === origin));
  }
  refresh();
}

export function init() {
  $("#gcode_upload").addEventListener("change", (event) => {
    if (event.target.files.length) uploadFiles(event.target.files);
    event.target.value = "";
  });
  $("#upload-label").addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      $("#gcode_upload").click();
    }
  });
  $("#files-newfolder").addEventListener("click", newFolder);
  $("#files-refresh").addEventListener("click", refresh);
  $("#files-search").addEventListener("input", (event) => { view.search = event.target.value.trim(); render(); });
  $("#files-sort").addEventListener("change", (event) => { view.sort = event.target.value; render(); });
  for (const button of document.querySelectorAll("#files-origin button")) {
    button.addEventListener("click", () => setOrigin(button.dataset.origin));
  }
  setupDropzone();
  store.on("user", (user) => { if (user) refresh(); });
  store.on("job", () => render(), { immediate: false });
  store.on("state", (state) => {
    const sdReady = Boolean(state && state.flags && state.flags.sdReady);
    const box = $("#files-origin");
    if (box.hidden === sdReady) {
      show(box, sdReady);
      if (!sdReady && view.origin === "sdcard") setOrigin("local");
    }
  });
  for (const event of ["UpdatedFiles", "FileAdded", "FileRemoved", "FolderAdded", "FolderRemoved", "MetadataAnalysisFinished", "PrintDone", "PrintFailed"]) {
    store.on(`event:${event}`, refreshSoon, { immediate: false });
  }
}
