// A tiny state store: views subscribe to the keys they show and hear only about real changes.

export class Store {
  constructor() {
    this.state = {};
    this.listeners = new Map();
  }

  get(key) {
    return this.state[key];
  }

  // Store a value and notify subscribers, unless it equals (as JSON) what is already there.
  set(key, value) {
    const before = this.state[key];
    if (before === value) return;
    if (typeof value === "object" && value !== null && typeof before === "object" && before !== null
        && JSON.stringify(before) === JSON.stringify(value)) return;
    this.state[key] = value;
    this.emit(key, value);
  }

  // Streams (temperature points, log lines) are emitted without being stored.
  emit(key, value) {
    const callbacks = this.listeners.get(key);
    if (!callbacks) return;
    for (const callback of [...callbacks]) {
      try {
        callback(value);
      } catch (error) {
        console.warn(`listener for ${key} failed`, error);
      }
    }
  }

  on(key, callback, { immediate = true } = {}) {
    if (!this.listeners.has(key)) this.listeners.set(key, new Set());
    this.listeners.get(key).add(callback);
    if (immediate && this.state[key] !== undefined) callback(this.state[key]);
    return () => this.listeners.get(key).delete(callback);
  }
}

export const store = new Store();
