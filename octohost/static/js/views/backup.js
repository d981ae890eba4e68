// Settings → Backup: OctoPrint's backup API (/plugin/backup/...): create, list, download, delete,
// and restore a kept or uploaded backup. A restore restarts the server; the page waits for it to
// answer again and then reloads, so it shows the restored settings.

import { api, upload } from "../api.js";
import { $, attempt, confirmAction, formatBytes, formatDate, h, labelTableCells, setText, show } from "../dom.js";
import { store } from "../store.js";

const RESTART_WAIT_MS = 60000;

async function load() {
  const body = await attempt(() => api.get("/plugin/backup/backup"));
  if (!body) return;
  const rows = body.backups.map((backup) => h("tr", {},
    h("td", { class: "filename" }, backup.name),
    h("td", {}, formatDate(backup.date)),
    h("td", {}, formatBytes(backup.size)),
    h("td", {}, h("div", { class: "buttons" },
      h("a", { class: "button small", href: backup.url, download: backup.name }, "Download"),
      h("button", { type: "button", class: "small danger", onclick: () => restoreKept(backup.name) }, "Restore"),
      h("button", { type: "button", class: "small", onclick: () => remove(backup.name) }, "Delete")))));
  $("#backup-list").replaceChildren(...rows);
  labelTableCells($("#backup-table"));
  show($("#backup-table"), rows.length > 0);
  show($("#backup-empty"), rows.length === 0);
}

async function remove(name) {
  if (!(await confirmAction(`Delete the backup ${name}?`, "Delete"))) return;
  if (await attempt(() => api.delete(`/plugin/backup/backup/${encodeURIComponent(name)}`), "Backup deleted") !== undefined) {
    load();
  }
}

// Poll until the restarted server answers, then reload the page on the restored state.
async function reloadWhenBack() {
  setText($("#backup-status"), "Restored. octohost is restarting…");
  const deadline = Date.now() + RESTART_WAIT_MS;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  while (Date.now() < deadline) {
    try {
      const response = await fetch("/api/server", { credentials: "same-origin", cache: "no-store" });
      if (response.status < 500) {
        location.reload();
        return;
      }
    } catch (ignored) {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  setText($("#backup-status"), "Restored, but the server has not come back yet: reload this page in a moment.");
}

async function restoreKept(name) {
  if (!(await confirmAction(`Restore ${name}? This replaces the settings, users, profiles and files, and restarts octohost.`, "Restore"))) return;
  setText($("#backup-status"), `Restoring ${name}…`);
  const result = await attempt(() => api.post("/plugin/backup/restore", { path: name }));
  if (result) reloadWhenBack();
  else setText($("#backup-status"), "");
}

export function init() {
  const section = $("#settings-backup");
  if (!section) return;
  $("#backup-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const exclude = event.target.elements.uploads.checked ? [] : ["uploads"];
    const made = await attempt(() => api.post("/plugin/backup/backup", { exclude }));
    if (!made) return;
    setText($("#backup-status"), `Writing ${made.name}…`);
    // the backup is written in the background: list again until it is there
    for (let i = 0; i < 60; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const body = await api.get("/plugin/backup/backup").catch(() => null);
      if (body && body.backups.some((b) => b.name === made.name)) break;
    }
    setText($("#backup-status"), `Backup ${made.name} written.`);
    load();
  });
  $("#backup-restore-upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("#backup-file").files[0];
    if (!file) return;
    if (!(await confirmAction(`Restore ${file.name}? This replaces the settings, users, profiles and files, and restarts octohost.`, "Restore"))) return;
    const result = await attempt(() => upload("/plugin/backup/restore", file, {}, (share) =>
      setText($("#backup-status"), `Uploading ${Math.round(share * 100)}%`)));
    if (result) reloadWhenBack();
    else setText($("#backup-status"), "");
  });
  store.on("settingsSection", (name) => {
    if (name === "backup") load();
  }, { immediate: false });
}
