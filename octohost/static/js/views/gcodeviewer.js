// A 2D layer viewer for G-code, read by streaming (fetch + ReadableStream, never the whole text
// in memory) into flat typed arrays: per extruding move its start and end point and the byte
// offset of its line, per layer its first move. The print's file position (progress.filepos)
// then picks the layer and the move being printed; what is printed draws solid, the rest faded.

import { setText } from "../dom.js";

const GROW = 1 << 16;
const NON_ASCII = /[^\x00-\x7f]/;
const encoder = new TextEncoder();

// Bytes of a line in UTF-8 (G-code is nearly always ASCII: then its length).
function byteLength(line) {
  return NON_ASCII.test(line) ? encoder.encode(line).length : line.length;
}

class Moves {
  constructor() {
    this.points = new Float32Array(GROW * 4); // x1, y1, x2, y2 per extruding move
    this.offsets = new Uint32Array(GROW); // byte offset of the move's line (files under 4 GiB)
    this.count = 0;
  }

  add(x1, y1, x2, y2, offset) {
    if (this.count === this.offsets.length) {
      const points = new Float32Array(this.points.length * 2);
      points.set(this.points);
      this.points = points;
      const offsets = new Uint32Array(this.offsets.length * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
    }
    const at = this.count * 4;
    this.points[at] = x1;
    this.points[at + 1] = y1;
    this.points[at + 2] = x2;
    this.points[at + 3] = y2;
    this.offsets[this.count] = offset;
    this.count += 1;
  }

  // Give back the room grown for moves that never came (up to half of it).
  trim() {
    this.points = this.points.slice(0, this.count * 4);
    this.offsets = this.offsets.slice(0, this.count);
  }
}

// One parser state for the stream: positions, modes, layers found so far.
function parser() {
  const state = { x: 0, y: 0, z: 0, e: 0, relative: false, relativeE: false, moves: new Moves(),
    layers: [], minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  // A hand-rolled scanner: one pass over the line's characters, no regular expression or
  // string copies per word (half a million lines of a 20 MB file go through here).
  const values = { X: NaN, Y: NaN, Z: NaN, E: NaN };
  const scan = (text, from, to) => {
    values.X = values.Y = values.Z = values.E = NaN;
    let i = from;
    while (i < to) {
      const c = text.charCodeAt(i) & ~32; // upper case
      i += 1;
      if (c !== 88 && c !== 89 && c !== 90 && c !== 69) continue; // X Y Z E
      let sign = 1;
      let number = 0;
      let scale = 0;
      let digits = 0;
      if (text.charCodeAt(i) === 45) { sign = -1; i += 1; }
      for (; i < to; i += 1) {
        const d = text.charCodeAt(i);
        if (d >= 48 && d <= 57) {
          number = number * 10 + (d - 48);
          if (scale) scale *= 10;
          digits += 1;
        } else if (d === 46 && !scale) {
          scale = 1;
        } else break;
      }
      if (digits) values[String.fromCharCode(c)] = (sign * number) / (scale || 1);
    }
  };
  // The line is text[from, to): no copy of it is made.
  state.line = (text, from, to, offset) => {
    let end = text.indexOf(";", from);
    if (end < 0 || end > to) end = to;
    let start = from;
    while (start < end && text.charCodeAt(start) <= 32) start += 1;
    if (start === end) return;
    const first = text.charCodeAt(start) & ~32;
    if (first !== 71 && first !== 77) return; // G or M
    let stop = start + 1;
    while (stop < end && text.charCodeAt(stop) > 32) stop += 1;
    const command = text.slice(start, stop).toUpperCase();
    if (command === "G90") { state.relative = false; state.relativeE = false; return; }
    if (command === "G91") { state.relative = true; state.relativeE = true; return; }
    if (command === "M82") { state.relativeE = false; return; }
    if (command === "M83") { state.relativeE = true; return; }
    const move = command === "G1" || command === "G0" || command === "G2" || command === "G3";
    if (!move && command !== "G92") return;
    scan(text, stop, end);
    if (command === "G92") {
      if (!Number.isNaN(values.E)) state.e = values.E;
      if (!Number.isNaN(values.X)) state.x = values.X;
      if (!Number.isNaN(values.Y)) state.y = values.Y;
      if (!Number.isNaN(values.Z)) state.z = values.Z;
      return;
    }
    const at = (axis, current) => (Number.isNaN(values[axis]) ? current : state.relative ? current + values[axis] : values[axis]);
    const x = at("X", state.x);
    const y = at("Y", state.y);
    const z = at("Z", state.z);
    let extruded = 0;
    if (!Number.isNaN(values.E)) {
      extruded = state.relativeE ? values.E : values.E - state.e;
      state.e = state.relativeE ? state.e + values.E : values.E;
    }
    if (extruded > 0 && (x !== state.x || y !== state.y)) {
      const last = state.layers[state.layers.length - 1];
      if (!last || Math.abs(last.z - z) > 1e-6) state.layers.push({ z, start: state.moves.count, offset });
      state.moves.add(state.x, state.y, x, y, offset);
      state.minX = Math.min(state.minX, x, state.x);
      state.maxX = Math.max(state.maxX, x, state.x);
      state.minY = Math.min(state.minY, y, state.y);
      state.maxY = Math.max(state.maxY, y, state.y);
    }
    state.x = x;
    state.y = y;
    state.z = z;
  };
  return state;
}

// Stream the file through the parser, telling progress every chunk; resolves to the parser state.
async function read(url, size, onProgress, signal) {
  const response = await fetch(url, { credentials: "same-origin", signal });
  if (!response.ok || !response.body) throw new Error(`${response.status} ${response.statusText}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const state = parser();
  let rest = "";
  let restOffset = 0; // byte offset where "rest" starts
  let received = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    received += value.length;
    const text = rest + decoder.decode(value, { stream: true });
    const ascii = !NON_ASCII.test(text); // then a line's bytes are its characters
    let start = 0;
    let offset = restOffset;
    for (let end = text.indexOf("\n", start); end >= 0; end = text.indexOf("\n", start)) {
      state.line(text, start, end, offset);
      offset += (ascii ? end - start : byteLength(text.slice(start, end))) + 1;
      start = end + 1;
    }
    rest = text.slice(start);
    restOffset = offset;
    onProgress(received, size);
  }
  if (rest) state.line(rest, 0, rest.length, restOffset);
  state.moves.trim();
  return state;
}

export function create(elements) {
  const { canvas, slider, layerText, follow, status, fileText } = elements;
  let model = null;
  let path = null;
  let filepos = null;
  let controller = null;

  function layerAt(position) {
    if (!model || !model.layers.length || position === null || position === undefined) return -1;
    let low = 0;
    let high = model.layers.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (model.layers[middle].offset <= position) low = middle; else high = middle - 1;
    }
    return low;
  }

  function draw() {
    const context = canvas.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    if (canvas.width !== Math.round(width * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(width * ratio);
    }
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (!model || !model.layers.length) return;
    const styles = getComputedStyle(document.documentElement);
    const index = Number(slider.value);
    const layer = model.layers[index];
    const end = index + 1 < model.layers.length ? model.layers[index + 1].start : model.moves.count;
    const spanX = model.maxX - model.minX || 1;
    const spanY = model.maxY - model.minY || 1;
    const scale = (canvas.width * 0.92) / Math.max(spanX, spanY);
    const left = (canvas.width - spanX * scale) / 2;
    const top = (canvas.height - spanY * scale) / 2;
    const px = (x) => left + (x - model.minX) * scale;
    const py = (y) => canvas.height - top - (y - model.minY) * scale; // Y up, as on the bed
    const points = model.moves.points;
    const offsets = model.moves.offsets;
    const stroke = (from, to, color, alpha) => {
      if (to <= from) return;
      context.globalAlpha = alpha;
      context.strokeStyle = color;
      context.beginPath();
      for (let i = from; i < to; i += 1) {
        context.moveTo(px(points[i * 4]), py(points[i * 4 + 1]));
        context.lineTo(px(points[i * 4 + 2]), py(points[i * 4 + 3]));
      }
      context.stroke();
    };
    context.lineWidth = Math.max(1, ratio);
    context.lineCap = "round";
    if (index > 0) stroke(model.layers[index - 1].start, layer.start, styles.getPropertyValue("--muted").trim(), 0.25);
    // The move being printed: the last one whose line starts at or before the file position.
    let printed = end;
    if (filepos !== null && layerAt(filepos) === index) {
      printed = layer.start;
      while (printed < end && offsets[printed] <= filepos) printed += 1;
    } else if (filepos !== null && layerAt(filepos) < index) {
      printed = layer.start;
    }
    const accent = styles.getPropertyValue("--accent").trim() || "#1f6feb";
    stroke(layer.start, printed, accent, 1);
    stroke(printed, end, accent, 0.3);
    if (printed > layer.start && printed < end) {
      context.globalAlpha = 1;
      context.fillStyle = styles.getPropertyValue("--danger").trim() || "#c62828";
      context.beginPath();
      context.arc(px(points[(printed - 1) * 4 + 2]), py(points[(printed - 1) * 4 + 3]), 4 * ratio, 0, Math.PI * 2);
      context.fill();
    }
    context.globalAlpha = 1;
    setText(layerText, `${index + 1} of ${model.layers.length} (Z ${layer.z.toFixed(2)} mm)`);
    canvas.dataset.layer = String(index);
    canvas.dataset.printed = String(printed - layer.start);
  }

  async function load(file) {
    if (controller) controller.abort();
    controller = new AbortController();
    model = null;
    slider.disabled = true;
    draw();
    const origin = file.origin || "local";
    if (origin !== "local") {
      setText(status, "Files on the printer's SD card cannot be read from here.");
      return;
    }
    const began = performance.now();
    const url = `/downloads/files/local/${String(file.path).split("/").map(encodeURIComponent).join("/")}`;
    try {
      const state = await read(url, file.size, (received, size) => {
        setText(status, `Reading ${(received / 1048576).toFixed(1)}${size ? ` of ${(size / 1048576).toFixed(1)}` : ""} MB…`);
      }, controller.signal);
      model = state;
    } catch (error) {
      if (error.name !== "AbortError") setText(status, `Cannot read the file: ${error.message}`);
      return;
    }
    const seconds = ((performance.now() - began) / 1000).toFixed(1);
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    setText(status, model.layers.length
      ? `${plural(model.layers.length, "layer")}, ${plural(model.moves.count, "move")}, read in ${seconds} s`
      : "No extruding moves in this file.");
    canvas.dataset.layers = String(model.layers.length);
    slider.max = String(Math.max(0, model.layers.length - 1));
    slider.disabled = !model.layers.length;
    const live = layerAt(filepos);
    slider.value = String(follow.checked && live >= 0 ? live : 0);
    draw();
  }

  slider.addEventListener("input", () => {
    follow.checked = false;
    draw();
  });
  follow.addEventListener("change", () => progress(filepos));
  window.addEventListener("resize", () => draw());

  // position: the byte offset the print has reached, or null when nothing prints
  function progress(position) {
    filepos = position === undefined ? null : position;
    if (!model || canvas.closest("[hidden]")) return;
    if (follow.checked) {
      const live = layerAt(filepos);
      if (live >= 0 && String(live) !== slider.value) slider.value = String(live);
    }
    draw();
  }

  function show(job, position) {
    const file = (job && job.file) || {};
    filepos = position === undefined ? null : position;
    setText(fileText, file.name ? file.display || file.name : "No file selected: select one in Files.");
    const key = file.path ? `${file.origin || "local"}:${file.path}:${file.date || ""}:${file.size || ""}` : null;
    if (key !== path) {
      path = key;
      if (file.path) load(file);
      else {
        model = null;
        setText(status, "");
        draw();
      }
    } else {
      progress(position);
    }
  }

  return { show, progress, draw };
}
