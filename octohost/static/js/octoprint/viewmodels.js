// OctoPrint plugins' Knockout view models (OCTOPRINT_VIEWMODELS), run beside octohost's own UI.
//
// OctoPrint's front end is Knockout throughout; octohost's is not. This bridge gives plugin scripts
// what they use most and nothing more: jQuery and Knockout (vendored, loaded before them),
// OCTOPRINT_VIEWMODELS, a settingsViewModel whose settings.plugins.<id>.* are observables over
// /api/settings (saved with a Save button in each plugin's settings panel), a loginStateViewModel,
// the startup callbacks in OctoPrint's order and onDataUpdaterPluginMessage from the push socket.
// A view model that depends on another core view model is skipped with a console warning.
// It is loaded only when an OctoPrint plugin ships scripts (see server/ui.py).

import { api } from "../api.js";
import { store } from "../store.js";

window.OCTOPRINT_VIEWMODELS = window.OCTOPRINT_VIEWMODELS || [];

const config = JSON.parse(document.getElementById("octohost-config").textContent);
const ko = window.ko;

// Plain data into nested objects of observables (arrays become observableArrays), as OctoPrint's
// settings view model offers them.
function toObservables(data) {
  const out = {};
  for (const [key, value] of Object.entries(data || {})) {
    if (Array.isArray(value)) out[key] = ko.observableArray(value);
    else if (value !== null && typeof value === "object") out[key] = toObservables(value);
    else out[key] = ko.observable(value);
  }
  return out;
}

function updateObservables(target, data) {
  for (const [key, value] of Object.entries(data || {})) {
    if (ko.isObservable(target[key])) target[key](value);
    else if (target[key] && value !== null && typeof value === "object" && !Array.isArray(value)) {
      updateObservables(target[key], value);
    } else target[key] = Array.isArray(value) ? ko.observableArray(value)
      : (value !== null && typeof value === "object" ? toObservables(value) : ko.observable(value));
  }
}

function normalise(entry) {
  if (Array.isArray(entry)) {
    const [construct, dependencies, elements] = entry;
    return { construct, dependencies: dependencies || [], elements: elements || [], name: null };
  }
  const elements = entry.elements || entry.additionalNames || [];
  return { construct: entry.construct, dependencies: entry.dependencies || [],
           elements: Array.isArray(elements) ? elements : [elements], name: entry.name || null };
}

function camel(name) {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function call(models, method, ...args) {
  for (const model of models) {
    if (typeof model[method] !== "function") continue;
    try {
      model[method](...args);
    } catch (error) {
      console.warn(`OctoPrint view model ${method} failed`, error);
    }
  }
}

function settingsViewModel(loginState) {
  const model = { settings: { plugins: {} }, loginState, receiving: ko.observable(false) };
  model.requestData = async () => {
    const data = await api.get("/api/settings");
    updateObservables(model.settings.plugins, data.plugins || {});
    return data;
  };
  model.saveData = async (data) => {
    const payload = data || { plugins: ko.toJS(model.settings.plugins) };
    const saved = await api.post("/api/settings", payload);
    updateObservables(model.settings.plugins, (saved && saved.plugins) || {});
    return saved;
  };
  return model;
}

// A binding that fails (a template naming what octohost's view models lack) leaves that element
// unbound and the others working.
function bind(model, element, bound) {
  try {
    ko.applyBindings(model, element);
    bound.add(element);
  } catch (error) {
    console.warn(`OctoPrint view model bindings of #${element.id} failed`, error);
    ko.cleanNode(element);
  }
}

// Each plugin settings panel (the wrapper server/ui.py puts around its template): a template with
// custom_bindings false is bound to the settings view model, as OctoPrint binds it; every bound
// panel gets a Save button that posts that plugin's part of settings.plugins.
function bindSettingsPanels(models, settings, bound) {
  for (const panel of document.querySelectorAll("[data-octoprint-settings]")) {
    if (panel.dataset.customBindings === "false" && !bound.has(panel)) bind(settings, panel, bound);
    if (!bound.has(panel)) continue;
    const identifier = panel.dataset.octoprintSettings;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary octoprint-plugin-save";
    button.textContent = "Save";
    button.addEventListener("click", async () => {
      call(models, "onSettingsBeforeSave");
      const all = ko.toJS(settings.settings.plugins);
      try {
        await settings.saveData({ plugins: { [identifier]: all[identifier] || {} } });
        call(models, "onEventSettingsUpdated", {});
      } catch (error) {
        console.warn(`saving ${identifier}'s settings failed`, error);
      }
    });
    panel.after(button);
  }
}

async function start() {
  const loginState = { isUser: ko.observable(true), isAdmin: ko.observable(false), loggedIn: ko.observable(true),
                       username: ko.observable(null) };
  const user = store.get("user");
  if (user) {
    loginState.username(user.name);
    loginState.isAdmin((user.groups || []).includes("admins"));
  }
  const settings = settingsViewModel(loginState);
  await settings.requestData();
  // OctoPrint's top bar is #navbar; plugins place things relative to it
  const topbar = document.querySelector("header.topbar");
  if (topbar && !document.getElementById("navbar")) topbar.id = "navbar";
  const byName = { settingsViewModel: settings, loginStateViewModel: loginState };
  const models = [settings];
  const pending = window.OCTOPRINT_VIEWMODELS.map(normalise).filter((entry) => typeof entry.construct === "function");
  // construct in dependency order: an entry waits until every dependency it names exists
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (const entry of [...pending]) {
      const deps = entry.dependencies.map((name) => byName[name.replace(/^\?/, "")]);
      if (deps.some((dep, i) => dep === undefined && !entry.dependencies[i].startsWith("?"))) continue;
      pending.splice(pending.indexOf(entry), 1);
      progress = true;
      try {
        const model = new entry.construct(deps);
        byName[entry.name || camel(entry.construct.name || "")] = model;
        models.push(model);
        entry.model = model;
      } catch (error) {
        console.warn(`OctoPrint view model ${entry.construct.name} failed to construct`, error);
      }
    }
  }
  for (const entry of pending) {
    console.warn(`OctoPrint view model ${entry.construct.name} skipped: octohost lacks one of`, entry.dependencies);
  }
  const entries = window.OCTOPRINT_VIEWMODELS.map(normalise);
  call(models, "onStartup");
  call(models, "onBeforeBinding");
  const bound = new Set();
  for (const model of models.slice(1)) {
    const entry = entries.find((candidate) => candidate.construct === model.constructor);
    for (const selector of (entry && entry.elements) || []) {
      const element = typeof selector === "string" ? document.querySelector(selector) : selector;
      if (element && !bound.has(element)) bind(model, element, bound);
    }
  }
  call(models, "onAfterBinding");
  call(models, "onAllBound", models);
  bindSettingsPanels(models, settings, bound);
  for (const identifier of config.plugins || []) {
    store.on(`plugin:${identifier}`, (data) => call(models, "onDataUpdaterPluginMessage", identifier, data),
             { immediate: false });
  }
  call(models, "onStartupComplete");
  document.documentElement.dataset.octoprintViewmodels = "started";
}

// Plugin scripts register from jQuery's ready handlers; the view models start once the page has
// loaded and someone is logged in (their settings come from the API).
let started = false;
window.addEventListener("load", () => {
  store.on("user", (user) => {
    if (!user || started) return;
    started = true;
    start().catch((error) => console.warn("OctoPrint view models failed to start", error));
  });
});
