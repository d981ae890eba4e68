// Users (admins), the user's own API key, and application key requests (approve in the UI).

import { api, encodePath } from "../api.js";
import { $, attempt, confirmAction, h, setText, show } from "../dom.js";
import { can, isAdmin } from "../session.js";
import { store } from "../store.js";

const pending = new Map(); // user_token -> {app, user}

async function loadUsers() {
  if (!isAdmin(store.get("user"))) return;
  const data = await attempt(() => api.get("/api/users"));
  if (data) renderUsers(data.users || []);
}

function renderUsers(users) {
  const me = (store.get("user") || {}).name;
  $("#user-rows").replaceChildren(...users.map((user) => {
    const path = `/api/users/${encodePath(user.name)}`;
    const self = user.name === me;
    return h("tr", { dataset: { user: user.name } },
      h("th", { scope: "row" }, user.name),
      h("td", {}, (user.groups || []).join(", ")),
      h("td", {}, user.active ? "yes" : "no"),
      h("td", {}, h("div", { class: "buttons" },
        self ? null : h("button", { type: "button", class: "small", onclick: () => update(path, { admin: !user.admin }) }, user.admin ? "Make user" : "Make admin"),
        self ? null : h("button", { type: "button", class: "small", onclick: () => update(path, { active: !user.active }) }, user.active ? "Deactivate" : "Activate"),
        h("button", { type: "button", class: "small", onclick: () => changePassword(user.name) }, "Password"),
        self ? null : h("button", { type: "button", class: "small danger", onclick: () => removeUser(user.name) }, "Delete"))));
  }));
}

async function update(path, body) {
  await attempt(() => api.put(path, body), "User updated");
  loadUsers();
}

// New password twice (and the current one for your own account, unless you are an admin); the
// dialog stays open until both match and are long enough, then the server has the last word.
export const MIN_PASSWORD_LENGTH = 8;

function askNewPassword(name, needCurrent) {
  const dialog = $("#password-dialog");
  const form = $("#password-form");
  const error = $("#password-error");
  form.reset();
  $("#password-user").value = name;
  setText($("#password-title"), `Change the password of ${name}`);
  show($("#password-current-field"), needCurrent);
  $("#password-current").required = needCurrent;
  show(error, false);
  return new Promise((resolve) => {
    const onSubmit = (event) => {
      if (event.submitter && event.submitter.value === "cancel") return;
      let problem = "";
      if (form.password.value.length < MIN_PASSWORD_LENGTH) problem = `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
      else if (form.password.value !== form.repeat.value) problem = "The passwords do not match.";
      if (problem) {
        event.preventDefault();
        setText(error, problem);
        show(error, true);
      }
    };
    const onClose = () => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      const body = { password: form.password.value };
      if (needCurrent) body.current = form.current.value;
      resolve(dialog.returnValue === "ok" ? body : null);
      form.reset();
    };
    dialog.returnValue = "";
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    (needCurrent ? $("#password-current") : $("#password-new")).focus();
  });
}

async function changePassword(name) {
  const me = store.get("user");
  const body = await askNewPassword(name, Boolean(me && me.name === name && !isAdmin(me)));
  if (!body) return;
  await attempt(() => api.put(`/api/users/${encodePath(name)}/password`, body), "Password changed");
}

async function removeUser(name) {
  if (!(await confirmAction(`Delete the user ${name}? Their sessions and keys end at once.`, "Delete"))) return;
  await attempt(() => api.delete(`/api/users/${encodePath(name)}`), "User deleted");
  loadUsers();
}

async function addUser(event) {
  event.preventDefault();
  const form = event.target;
  const result = await attempt(() => api.post("/api/users", {
    name: form.name.value.trim(), password: form.password.value, admin: form.admin.checked, active: true,
  }), `User ${form.name.value.trim()} added`);
  if (result) {
    form.reset();
    renderUsers(result.users || []);
  }
}

async function generateOwnKey() {
  const me = store.get("user");
  const result = await attempt(() => api.post(`/api/users/${encodePath(me.name)}/apikey`), "New API key generated");
  if (result) $("#my-apikey").value = result.apikey;
}

async function loadAppKeys() {
  if (!store.get("user")) return;
  const [keys, requests] = await Promise.all([
    attempt(() => api.get("/api/plugin/appkeys")),
    attempt(() => api.get("/plugin/appkeys/pending")),
  ]);
  if (keys) {
    $("#appkey-rows").replaceChildren(...(keys.keys || []).map((key) => h("tr", {},
      h("td", {}, key.app_id), h("td", {}, key.user_id), h("td", { class: "mono" }, `${key.api_key.slice(0, 6)}…`),
      h("td", {}, h("button", { type: "button", class: "small danger", onclick: () => revoke(key) }, "Revoke")))));
  }
  if (requests) {
    pending.clear();
    for (const r of requests.pending || []) pending.set(r.user_token, { app: r.app_id, user: r.user_id });
    renderPending();
  }
}

async function revoke(key) {
  if (!(await confirmAction(`Revoke the key of ${key.app_id}?`, "Revoke"))) return;
  await attempt(() => api.post("/api/plugin/appkeys", { command: "revoke", key: key.api_key }), "Key revoked");
  loadAppKeys();
}

async function decide(token, decision) {
  await attempt(() => api.post(`/plugin/appkeys/decision/${encodeURIComponent(token)}`, { decision }),
    decision ? "Access granted" : "Access denied");
  pending.delete(token);
  renderPending();
  loadAppKeys();
}

function renderPending() {
  $("#appkey-pending").replaceChildren(...[...pending.entries()].map(([token, request]) => h("li", {},
    `${request.app} asks for access${request.user ? ` as ${request.user}` : ""} `,
    h("button", { type: "button", class: "small primary", onclick: () => decide(token, true) }, "Allow"),
    h("button", { type: "button", class: "small", onclick: () => decide(token, false) }, "Deny"))));
}

// A request arriving on the push socket is asked about right away.
function promptRequest(data) {
  if (!data || data.type !== "request_access") return;
  pending.set(data.user_token, { app: data.app_name, user: data.user });
  renderPending();
  const dialog = $("#appkey-dialog");
  if (dialog.open) return;
  setText($("#appkey-message"), `"${data.app_name}" asks for access to this printer${data.user ? ` as ${data.user}` : ""}. Allow it?`);
  const onClose = () => {
    dialog.removeEventListener("close", onClose);
    if (dialog.returnValue === "allow" || dialog.returnValue === "deny") decide(data.user_token, dialog.returnValue === "allow");
  };
  dialog.returnValue = "";
  dialog.addEventListener("close", onClose);
  dialog.showModal();
}

export function init() {
  $("#user-add-form").addEventListener("submit", addUser);
  $("#my-apikey-generate").addEventListener("click", generateOwnKey);
  $("#my-password").addEventListener("click", () => changePassword(store.get("user").name));
  store.on("user", (user) => {
    $("#my-apikey").value = (user && user.apikey) || "";
    if (user) loadUsers();
  });
  store.on("settingsSection", (name) => {
    if (name === "users") loadUsers();
    if (name === "apikeys") loadAppKeys();
  });
  store.on("plugin:appkeys", promptRequest);
  store.on("user", (user) => { if (user && can(user, "STATUS")) loadAppKeys(); });
}
