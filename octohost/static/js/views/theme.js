// Light or dark: the system's choice by default; the header's switch overrides it for this browser
// (localStorage), cycling system -> light -> dark. The <head> applies a stored choice before the
// first paint so the page does not flash.

import { $, setText } from "../dom.js";
import { icon } from "../icons.js";
import { store } from "../store.js";

const KEY = "octohost.theme";
const NEXT = { system: "light", light: "dark", dark: "system" };
const LABEL = { system: "Theme: as the system", light: "Theme: light", dark: "Theme: dark" };

function current() {
  try {
    return localStorage.getItem(KEY) || "system";
  } catch (error) {
    return "system";
  }
}

function apply(theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const button = $("#theme-toggle");
  const dark = theme === "dark" || (theme === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  button.replaceChildren(icon(dark ? "moon" : "sun"), Object.assign(document.createElement("span"), { className: "visually-hidden" }));
  setText($("span", button), LABEL[theme]);
  button.title = LABEL[theme];
  store.set("theme", dark ? "dark" : "light");
}

export function init() {
  const button = $("#theme-toggle");
  button.addEventListener("click", () => {
    const theme = NEXT[current()];
    try {
      if (theme === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, theme);
    } catch (error) {
      // Private mode: the choice lasts for this page only.
    }
    apply(theme);
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => apply(current()));
  apply(current());
}
