// The REST client: JSON in and out, the session cookie plus the CSRF header for writes.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

// The server names its CSRF cookie after the port the browser talks to.
export function csrfToken() {
  const port = window.location.port || (window.location.protocol === "https:" ? "443" : "80");
  const exact = readCookie(`csrf_token_P${port}`);
  if (exact) return exact;
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key.startsWith("csrf_token_P")) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function writeHeaders(method, extra = {}) {
  const headers = { ...extra };
  if (method !== "GET" && method !== "HEAD") {
    const token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
  }
  return headers;
}

async function errorFrom(response) {
  let body = null;
  let message = `${response.status} ${response.statusText}`;
  try {
    body = await response.json();
    if (body && body.error) message = body.error;
  } catch (ignored) {
    // Not JSON: the status line is the best message there is.
  }
  return new ApiError(response.status, message, body);
}

export async function request(method, path, body) {
  const init = { method, credentials: "same-origin", headers: writeHeaders(method) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, "The server cannot be reached", null);
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

// A multipart form without a file (folder creation, as OctoPrint's files API takes it).
export async function postForm(path, fields) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  let response;
  try {
    response = await fetch(path, { method: "POST", body: form, headers: writeHeaders("POST"), credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, "The server cannot be reached", null);
  }
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json().catch(() => null);
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body = {}) => request("POST", path, body),
  put: (path, body = {}) => request("PUT", path, body),
  patch: (path, body = {}) => request("PATCH", path, body),
  delete: (path) => request("DELETE", path),
};

// Multipart upload through XHR, because fetch cannot report upload progress.
export function upload(path, file, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields || {})) form.append(key, value);
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    const token = csrfToken();
    if (token) xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (ignored) {
        // An empty or non-JSON answer is fine for a success.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, (body && body.error) || `Upload failed (${xhr.status})`, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "Upload failed: the server cannot be reached", null)));
    xhr.send(form);
  });
}

export function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}
