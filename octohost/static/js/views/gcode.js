// The G-code tab: shows the selected file layer by layer. The reader and renderer
// (gcodeviewer.js) load only when the tab is first opened, so the page stays light without it.

import { $ } from "../dom.js";
import { printerBusy } from "../printerstate.js";
import { store } from "../store.js";

let viewer = null;

// The file position counts only while a job runs: after it, the next file starts at nothing printed.
function livePosition() {
  const progress = store.get("progress") || {};
  return printerBusy() && progress.filepos !== undefined ? progress.filepos : null;
}

async function open() {
  if (!viewer) {
    const module = await import("./gcodeviewer.js");
    viewer = module.create({
      canvas: $("#gcode-canvas"), slider: $("#gcode-layer"), layerText: $("#gcode-layer-text"),
      follow: $("#gcode-follow"), status: $("#gcode-status"), fileText: $("#gcode-file"),
    });
  }
  viewer.show(store.get("job"), livePosition());
}

export function init() {
  store.on("tab", (tab) => { if (tab === "gcode") open(); });
  store.on("job", (job) => { if (viewer && store.get("tab") === "gcode") viewer.show(job, livePosition()); });
  store.on("progress", () => { if (viewer) viewer.progress(livePosition()); });
  store.on("state", () => { if (viewer) viewer.progress(livePosition()); });
  store.on("theme", () => { if (viewer) viewer.draw(); });
}
