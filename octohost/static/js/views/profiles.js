// Printer profiles: list, create, edit (the full schema) and delete.

import { api, encodePath } from "../api.js";
import { $, attempt, confirmAction, fillForm, h, readForm, setText, show } from "../dom.js";
import { can } from "../session.js";
import { store } from "../store.js";

const NEW_PROFILE = {
  id: "", name: "", model: "", color: "default",
  volume: { width: 200, depth: 200, height: 200, formFactor: "rectangular", origin: "lowerleft", custom_box: false },
  heatedBed: true, heatedChamber: false,
  axes: { x: { speed: 6000, inverted: false }, y: { speed: 6000, inverted: false }, z: { speed: 200, inverted: false }, e: { speed: 300, inverted: false } },
  extruder: { count: 1, offsets: [[0, 0]], nozzleDiameter: 0.4, sharedNozzle: false, defaultExtrusionLength: 5 },
};

let editing = null; // id of the profile in the form, or "" for a new one

export async function load() {
  if (!can(store.get("user"), "CONNECTION") && !can(store.get("user"), "SETTINGS")) return;
  const data = await attempt(() => api.get("/api/printerprofiles"));
  if (data) store.set("profiles", data.profiles || {});
}

function renderList(profiles) {
  const admin = can(store.get("user"), "SETTINGS");
  $("#profile-list").replaceChildren(...Object.values(profiles).map((profile) => h("li", { dataset: { profile: profile.id } },
    h("strong", {}, profile.name || profile.id),
    h("span", { class: "muted" }, ` ${profile.model || ""} · ${profile.volume ? `${profile.volume.width}×${profile.volume.depth}×${profile.volume.height} mm` : ""}`),
    profile.default ? h("span", { class: "tag" }, "default") : null,
    profile.current ? h("span", { class: "tag" }, "in use") : null,
    admin ? h("span", { class: "buttons" },
      h("button", { type: "button", class: "small", onclick: () => edit(profile.id) }, "Edit"),
      profile.default ? null : h("button", { type: "button", class: "small", onclick: () => makeDefault(profile.id) }, "Make default"),
      profile.default ? null : h("button", { type: "button", class: "small danger", onclick: () => remove(profile) }, "Delete")) : null)));
  show($("#profile-new"), admin);
}

function edit(id) {
  const profiles = store.get("profiles") || {};
  const profile = id ? profiles[id] : NEW_PROFILE;
  editing = id || "";
  const form = $("#profile-form");
  fillForm(form, profile);
  const box = profile.volume && profile.volume.custom_box;
  form.customBoxEnabled.checked = Boolean(box);
  show($("#profile-custombox-fields"), Boolean(box));
  form.offsetsText.value = ((profile.extruder && profile.extruder.offsets) || []).slice(1).map((o) => o.join(",")).join("\n");
  form.id.readOnly = Boolean(id);
  setText($("#profile-form-title"), id ? `Edit ${profile.name || id}` : "New profile");
  setText($("#profile-error"), "");
  show($("#profile-error"), false);
  show(form, true);
  form.name.focus();
}

function parseOffsets(text) {
  const offsets = [[0, 0]];
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const parts = line.split(/[,\s]+/).map(Number);
    if (parts.length !== 2 || parts.some(Number.isNaN)) throw new Error(`Offset "${line}" is not "x,y"`);
    offsets.push(parts);
  }
  return offsets;
}

function profileFromForm(form) {
  const data = readForm(form);
  const profile = { ...data };
  delete profile.customBoxEnabled;
  delete profile.offsetsText;
  if (!data.customBoxEnabled) profile.volume.custom_box = false;
  profile.extruder.offsets = parseOffsets(data.offsetsText || "");
  while (profile.extruder.offsets.length < profile.extruder.count) profile.extruder.offsets.push([0, 0]);
  profile.extruder.offsets = profile.extruder.offsets.slice(0, profile.extruder.count);
  return profile;
}

// A new profile must name its id (OctoPrint's API answers 400 without); made from the name
// as the server's slug() would.
function profileId(name) {
  const text = String(name).replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^[_.-]+|[_.-]+$/g, "").toLowerCase();
  return text || "profile";
}

async function submit(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#profile-error");
  let profile;
  try {
    profile = profileFromForm(form);
  } catch (exc) {
    setText(error, exc.message);
    show(error, true);
    return;
  }
  try {
    if (editing) await api.patch(`/api/printerprofiles/${encodePath(editing)}`, { profile });
    else await api.post("/api/printerprofiles", { profile: { id: profileId(profile.name), ...profile } });
  } catch (exc) {
    setText(error, exc.message);
    show(error, true);
    return;
  }
  show(form, false);
  editing = null;
  await load();
}

async function makeDefault(id) {
  await attempt(() => api.patch(`/api/printerprofiles/${encodePath(id)}`, { profile: { default: true } }), "Default profile changed");
  load();
}

async function remove(profile) {
  if (!(await confirmAction(`Delete the printer profile ${profile.name || profile.id}?`, "Delete"))) return;
  await attempt(() => api.delete(`/api/printerprofiles/${encodePath(profile.id)}`), "Profile deleted");
  load();
}

export function init() {
  $("#profile-form").addEventListener("submit", submit);
  $("#profile-new").addEventListener("click", () => edit(null));
  $("#profile-cancel").addEventListener("click", () => { show($("#profile-form"), false); editing = null; });
  $("#profile-custombox").addEventListener("change", (event) => show($("#profile-custombox-fields"), event.target.checked));
  store.on("profiles", renderList);
  store.on("user", (user) => { if (user) load(); });
  for (const event of ["PrinterProfileModified", "PrinterProfileAdded", "PrinterProfileDeleted"]) {
    store.on(`event:${event}`, load, { immediate: false });
  }
}
