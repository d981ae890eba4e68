// First run (create the admin), login, logout, and re-authentication of the push socket.

import { api } from "../api.js";
import { $, setText, show } from "../dom.js";
import { store } from "../store.js";

let socket = null;
const pageConfig = JSON.parse(document.getElementById("octohost-config").textContent);

function showScreen(which) {
  show($("#auth-screen"), which !== "app");
  show($("#firstrun-form"), which === "firstrun");
  show($("#login-form"), which === "login");
  show($("#app"), which === "app");
  show($("#usermenu"), which === "app");
  show($(".topbar .state"), which === "app");
  const focusTarget = { firstrun: "#firstrun-user", login: "#login-user" }[which];
  if (focusTarget) $(focusTarget).focus();
}

// "loggedIn" is emitted on every login, also when the same session is found again after a
// reconnect (the "user" value then does not change), so views can reload what a restart changed.
function loggedIn(user) {
  pageConfig.firstRun = false; // an account exists now
  store.set("user", user);
  socket.authenticate(user.name, user.session);
  showScreen("app");
  store.emit("loggedIn", user);
}

function formError(element, message) {
  setText(element, message || "");
  show(element, Boolean(message));
}

// Ask the server who we are: first run, a live session (passive login), or nobody.
export async function resolveSession() {
  // Once an account exists /api/server answers 403 without a login (as OctoPrint does), so ask it
  // about setup only when the page was served during first run.
  if (pageConfig.firstRun) {
    let server = null;
    try {
      server = await api.get("/api/server");
    } catch (error) {
      if (error.status !== 403) return; // 403: setup was finished meanwhile
    }
    if (server && server.firstRun) {
      store.set("user", null);
      showScreen("firstrun");
      return;
    }
  }
  try {
    const user = await api.post("/api/login", { passive: true });
    if (user && user.name) {
      loggedIn(user);
      return;
    }
  } catch (error) {
    // Not logged in: fall through to the login form.
  }
  store.set("user", null);
  showScreen("login");
}

export async function reauthenticate() {
  await resolveSession();
}

async function submitFirstRun(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#firstrun-error");
  if (form.pass1.value.length < 8) {
    formError(error, "The password needs at least 8 characters.");
    return;
  }
  if (form.pass1.value !== form.pass2.value) {
    formError(error, "The passwords do not match.");
    return;
  }
  try {
    const user = await api.post("/api/setup/admin", { user: form.user.value.trim(), pass: form.pass1.value });
    formError(error, "");
    form.reset();
    loggedIn(user);
  } catch (exc) {
    formError(error, exc.message);
  }
}

// Second factors of OctoPrint MFA plugins: the server names them in its 403; the code goes along
// with the password as "mfa-<plugin>-token", as OctoPrint's login dialog sends it.
let mfaPlugins = [];

async function submitLogin(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#login-error");
  const body = { user: form.user.value.trim(), pass: form.pass.value, remember: form.remember.checked };
  for (const plugin of mfaPlugins) body[`mfa-${plugin}-token`] = form.mfa.value.trim();
  try {
    const user = await api.post("/api/login", body);
    formError(error, "");
    form.pass.value = "";
    form.mfa.value = "";
    mfaPlugins = [];
    show($("#login-mfa"), false);
    loggedIn(user);
  } catch (exc) {
    const answer = exc.body || {};
    if (exc.status === 403 && (answer.mfa || answer.mfa_error)) {
      if (answer.mfa) mfaPlugins = answer.mfa;
      show($("#login-mfa"), true);
      $("#login-mfa-token").focus();
      formError(error, answer.mfa_error || "Enter the code of your two-factor authentication.");
      return;
    }
    formError(error, exc.status === 403 ? "Wrong user name or password." : exc.message);
  }
}

async function logout() {
  try {
    await api.post("/api/logout");
  } catch (error) {
    // The session is gone either way.
  }
  socket.authenticate(null, null);
  store.set("user", null);
  showScreen("login");
}

export function init(pushSocket) {
  socket = pushSocket;
  $("#firstrun-form").addEventListener("submit", submitFirstRun);
  $("#login-form").addEventListener("submit", submitLogin);
  $("#logout-button").addEventListener("click", logout);
  // Each reconnection of the socket may follow a server restart: check the session again. The
  // first connection follows the check made at start-up, so it needs none of its own.
  let firstConnection = true;
  store.on("serverConnected", () => {
    if (firstConnection) {
      firstConnection = false;
      return;
    }
    resolveSession();
  }, { immediate: false });
  resolveSession();
}
