// The push socket: a plain WebSocket on SockJS's raw endpoint, reconnecting with backoff.

const MAX_DELAY = 10000;

export class PushSocket {
  constructor({ url, onMessage, onStatus }) {
    this.url = url || PushSocket.defaultUrl();
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.credentials = null;
    this.authedSocket = null;
    this.socket = null;
    this.delay = 1000;
    this.timer = null;
    this.stopped = false;
  }

  static defaultUrl() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}/sockjs/websocket`;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
  }

  open() {
    clearTimeout(this.timer);
    this.onStatus({ online: false, connecting: true });
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = 1000;
      this.onStatus({ online: true, connecting: false });
      this.sendAuth();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      for (const [type, payload] of Object.entries(message)) this.onMessage(type, payload);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.onStatus({ online: false, connecting: false, retryAt: Date.now() + wait });
    this.timer = setTimeout(() => this.open(), wait);
  }

  // Reconnect now instead of waiting out the backoff (the banner's "Retry now").
  retryNow() {
    if (this.socket) return;
    this.delay = 1000;
    this.open();
  }

  authenticate(name, session) {
    const credentials = name && session ? `${name}:${session}` : null;
    if (credentials === this.credentials) return;
    this.credentials = credentials;
    this.authedSocket = null;
    this.sendAuth();
  }

  // Once per socket and login: the server answers each auth with a fresh history.
  sendAuth() {
    if (!this.credentials || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    if (this.authedSocket === this.socket) return;
    this.authedSocket = this.socket;
    this.send({ auth: this.credentials });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
