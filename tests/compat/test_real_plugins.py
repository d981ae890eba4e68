"""Real OctoPrint plugins from PyPI, unmodified, against a live octohost with the virtual printer.

Each test proves a plugin's effect from the outside: lines on the printer's wire, its SimpleApi
endpoint, its messages on the push socket, its settings through ``/api/settings``.
"""

import json
import logging
import threading
import time

import pytest
import websocket

from octohost.printer.interface import PrinterCallback

from support import wait_until

pytestmark = pytest.mark.e2e


class WireLog(PrinterCallback):
    """The communication log: ``Send: ...`` is exactly what went out on the serial line."""

    def __init__(self):
        self.lines = []

    def on_printer_add_log(self, data):
        self.lines.append(data)

    def sent(self):
        return [line[len("Send: "):] for line in list(self.lines) if line.startswith("Send: ")]


class PushClient:
    """A logged-in client on the raw push socket that collects plugin messages in the background."""

    def __init__(self, live):
        login = live.post("/api/login", json={"passive": True}).json()
        self.ws = websocket.create_connection(live.url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
        self.ws.send(json.dumps({"auth": f"{login['name']}:{login['session']}"}))
        self.messages = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        wait_until(lambda: any("history" in m for m in self.messages), message="push history after auth")

    def _read(self):
        while True:
            try:
                self.messages.append(json.loads(self.ws.recv()))
            except Exception:
                return

    def plugin_messages(self, plugin):
        return [m["plugin"]["data"] for m in list(self.messages) if "plugin" in m and m["plugin"]["plugin"] == plugin]

    def close(self):
        self.ws.close()


def _connect(live):
    wire = WireLog()
    live.context.printer.register_callback(wire)
    assert live.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"}).status_code == 204
    wait_until(live.context.printer.is_operational, message="printer operational")
    return wire


def test_all_pinned_plugins_are_found_with_octoprints_identifiers(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    listed = {p["key"]: p for p in live.get("/plugin/pluginmanager/plugins").json()["plugins"]}
    for identifier in ("fixcbdfirmware", "firmware_check", "file_check", "wrapped", "mfa_totp", "smsnotifier"):
        assert listed[identifier]["origin"] == "octoprint"
        assert listed[identifier]["version"]  # from the distribution when the module names none
        assert listed[identifier]["loaded"], listed[identifier]["error"]
    # pi_support's __plugin_check__ refuses anything but a Raspberry Pi, as on OctoPrint
    assert listed["fixcbdfirmware"]["version"] == "0.4.0"
    assert not listed["pi_support"]["loaded"]
    assert listed["pi_support"]["error"] == "__plugin_check__ returned False"
    # grbl-plugin (2018) declares no __plugin_pythoncompat__: Python 2 only by OctoPrint's rule
    grbl = listed["octoprint-grbl-plugin"]
    assert not grbl["loaded"] and "__plugin_pythoncompat__ is '>=2.7,<3'" in grbl["error"]
    # wrapped aborts with 403 without OctoPrint's bundled achievements plugin, as on OctoPrint, in its
    # SimpleApi endpoint and its BlueprintPlugin route alike (a route octohost did not serve would be 404)
    assert live.get("/api/plugin/wrapped").status_code == 403
    assert live.get("/plugin/wrapped/2025.svg").status_code == 403
    assert live.get("/plugin/wrapped/2025.png").status_code == 404


def test_asset_plugins_files_are_served_under_plugin_static(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    response = live.get("/plugin/file_check/static/js/file_check.js")
    assert response.status_code == 200
    assert "OCTOPRINT_VIEWMODELS" in response.text
    assert live.get("/plugin/file_check/static/js/nope.js").status_code == 404


def test_fixcbdfirmware_rewrites_the_connect_hello_and_homing_on_the_wire(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    wire = _connect(live)
    # the hello went through the sending hook: a bare M110, no N parameter the CBD firmware chokes on
    hello = wait_until(lambda: wire.sent(), message="the hello on the wire")[0]  # callbacks run on their own thread
    assert hello == "N0 M110*35"
    assert live.post("/api/printer/command", json={"commands": ["G28 X Y", "M84 E"]}).status_code == 204
    sent = wait_until(lambda: len([s for s in wire.sent() if " G28 " in s or " M84 " in s]) == 2
                      and [s for s in wire.sent() if " G28 " in s or " M84 " in s], message="both commands sent")
    assert " G28 X0  Y0*" in sent[0]
    assert " M84 E0*" in sent[1]


def test_firmware_check_warns_through_its_api_the_push_socket_and_an_event(live_octoprint):
    live = live_octoprint(connect_virtual=False, settings_values={"serial.virtual.firmwareName": "ANET_A8_ 1.0"})
    push = PushClient(live)
    events = []
    live.context.event_bus.subscribe("plugin_firmware_check_warning", lambda e, p: events.append(p))
    try:
        _connect(live)
        warnings = wait_until(lambda: live.get("/api/plugin/firmware_check").json() or None,
                              message="a firmware warning")
        assert warnings["firmware-unsafe"]["severity"] == "critical"
        wait_until(lambda: {"type": "update"} in push.plugin_messages("firmware_check"), message="plugin message")
        wait_until(lambda: events, message="the plugin's custom event")
        assert events[0]["warning_type"] == "firmware-unsafe"
        # its EventHandlerPlugin forgets the warnings on Disconnected
        assert live.post("/api/connection", json={"command": "disconnect"}).status_code == 204
        wait_until(lambda: live.get("/api/plugin/firmware_check").json() == {}, message="warnings cleared")
    finally:
        push.close()


def test_firmware_check_api_needs_a_login(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    anonymous = live.session.__class__()
    assert anonymous.get(live.url + "/api/plugin/firmware_check", timeout=30).status_code in (401, 403)
    assert live.get("/api/plugin/no_such_plugin").status_code == 404
    assert live.post("/api/plugin/firmware_check", json={"command": "x"}).status_code == 405


def test_file_check_flags_an_upload_and_obeys_settings_saved_through_the_api(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    push = PushClient(live)
    try:
        assert live.get("/api/settings").json()["plugins"]["file_check"] == {"ignored_checks": []}
        gcode = b"; generated by a slicer\nG1 X10 F{travel_speed}\nG1 X20\n"
        assert live.post("/api/files/local", files={"file": ("bad.gcode", gcode)}).status_code == 201
        notice = wait_until(lambda: [m for m in push.plugin_messages("file_check") if m.get("action") == "notify"],
                            message="file_check's notification")[0]
        assert notice == {"action": "notify", "storage": "local", "path": "bad.gcode", "types": ["travel_speed"]}
        result = live.get("/api/plugin/file_check").json()
        assert result["check_result"] == {"local:bad.gcode": ["travel_speed"]}

        saved = live.post("/api/settings", json={"plugins": {"file_check": {"ignored_checks": ["travel_speed"]}}})
        assert saved.status_code == 200, saved.text
        assert saved.json()["plugins"]["file_check"] == {"ignored_checks": ["travel_speed"]}
        assert live.get("/api/plugin/file_check").json()["check_result"] == {}
        impl = live.context.plugin_manager.plugins["file_check"].implementation
        assert impl._settings.get(["ignored_checks"]) == ["travel_speed"]
    finally:
        push.close()


def test_file_check_full_check_through_its_simpleapi_command(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    push = PushClient(live)
    try:
        # a file copied into the uploads folder by hand: no FileAdded event, only a full check finds it
        uploads = live.context.settings.folder("uploads")
        with open(f"{uploads}/copied.gcode", "w", encoding="utf-8") as f:
            f.write("; printhost_apikey = 0123456789ABCDEF\nG28\n")
        response = live.post("/api/plugin/file_check", json={"command": "check_all"})
        assert response.status_code == 202
        assert response.headers["Location"].endswith("/api/plugin/file_check")
        wait_until(lambda: {"action": "check_update"} in push.plugin_messages("file_check"), message="check_update")
        assert live.get("/api/plugin/file_check").json()["check_result"] == {"local:copied.gcode": ["leaked_api_key"]}
        assert live.post("/api/plugin/file_check", json={"command": "nope"}).status_code == 400
    finally:
        push.close()


def test_the_web_ui_renders_with_the_plugins_templates(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    page = live.get("/")
    assert page.status_code == 200, page.text[:500]
    # firmware_check's sidebar template, which calls _() (gettext), is in the page
    assert "Learn more..." in page.text


def test_file_checks_wizard_through_api_setup_wizard(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    uploads = live.context.settings.folder("uploads")
    with open(f"{uploads}/old.gcode", "w", encoding="utf-8") as f:  # there before the plugin
        f.write("G28\n")
    state = live.get("/api/setup/wizard")
    assert state.status_code == 200, state.text
    # its wizard (a full check of existing files) is wanted: grep is there, files were never checked
    assert state.json()["file_check"] == {"required": True, "details": {}, "version": 1, "ignored": False}
    assert live.post("/api/setup/wizard", json={"handled": "file_check"}).status_code == 400
    assert live.post("/api/setup/wizard", json={"handled": ["file_check"]}).status_code == 204
    assert live.context.settings.get("server.seenWizards") == {"file_check": 1}
    assert live.get("/api/setup/wizard").json()["file_check"]["ignored"] is True
    anonymous = live.session.__class__()
    assert anonymous.get(live.url + "/api/setup/wizard", timeout=30).status_code == 403


def test_mfa_totp_enrols_through_its_api_and_guards_the_password_login(live_octoprint):
    pyotp = pytest.importorskip("pyotp")
    live = live_octoprint(connect_virtual=False)
    # its API knows the caller through flask_login.current_user
    assert live.get("/api/plugin/mfa_totp").json() == {"active": False}
    secret = live.post("/api/plugin/mfa_totp", json={"command": "enroll"}).json()["key"]
    totp = pyotp.TOTP(secret)
    activated = live.post("/api/plugin/mfa_totp", json={"command": "activate", "token": totp.now()})
    assert activated.status_code == 200, activated.text
    assert live.get("/api/plugin/mfa_totp").json() == {"active": True}

    def login(**extra):
        body = {"user": "admin", "pass": live.password, **extra}
        return live.session.__class__().post(live.url + "/api/login", json=body, timeout=30)

    asked = login()
    assert asked.status_code == 403
    assert asked.json() == {"error": "Two-factor authentication required", "mfa": ["mfa_totp"]}
    wrong = login(**{"mfa-mfa_totp-token": "000000" if totp.now() != "000000" else "111111"})
    assert wrong.status_code == 403 and wrong.json()["mfa_error"] == "Invalid token"
    # the next code (the one used to activate is refused as a replay)
    good = login(**{"mfa-mfa_totp-token": totp.at(time.time() + 30)})
    assert good.status_code == 200, good.text
    assert good.json()["name"] == "admin"


def test_grbl_plugin_forced_compatible_translates_commands_on_the_wire(live_octoprint):
    # (2018, no __plugin_pythoncompat__: Python 3 clean, so it runs once named in _forcedCompatible)
    live = live_octoprint(connect_virtual=False,
                          settings_values={"plugins._forcedCompatible": ["octoprint-grbl-plugin"]})
    listed = {p["key"]: p for p in live.get("/plugin/pluginmanager/plugins").json()["plugins"]}
    assert listed["octoprint-grbl-plugin"]["loaded"], listed["octoprint-grbl-plugin"]["error"]
    wire = _connect(live)
    assert live.post("/api/printer/command", json={"commands": ["M105", "M400", "M114"]}).status_code == 204
    # a temperature query goes out as Grbl's status query, M400 as a dwell, M114 as "?"
    wait_until(lambda: any(" ?$G*" in line for line in wire.sent()) and any(" G4 P0*" in line for line in wire.sent())
               and any(line.split(" ", 1)[1].startswith("?*") for line in wire.sent() if " " in line),
               message="M105 as ?$G, M400 as G4 P0 and M114 as ? on the wire")
    assert not any(" M105*" in line or " M400*" in line or " M114*" in line for line in wire.sent())


class FakeTwilio:
    """Twilio's REST API at the twilio library's HTTP boundary: the transport adapter of the requests
    session its HTTP client opens. Records each request as it would go out (method, URL, auth header,
    form-encoded body) and answers like Twilio does, so the library parses a real response."""

    def __init__(self, monkeypatch, refuse=()):
        import requests
        import twilio.http.http_client

        self.requests = []
        self.refuse = refuse  # To numbers answered as unverified (a trial account's 400)
        fake = self

        class Adapter(requests.adapters.BaseAdapter):
            def send(self, request, **kwargs):
                return fake.answer(request)

            def close(self):
                pass

        class Session(requests.Session):
            # (the client mounts its own HTTPAdapter after creating the session: every URL gets ours)
            def get_adapter(self, url):
                return Adapter()

        monkeypatch.setattr(twilio.http.http_client, "Session", Session)

    def answer(self, request):
        import urllib.parse

        import requests

        form = dict(urllib.parse.parse_qsl(request.body or ""))
        self.requests.append({"method": request.method, "url": request.url, "form": form,
                              "authorization": request.headers.get("Authorization", "")})
        sid = f"SM{len(self.requests):032d}"
        response = requests.Response()
        response.status_code = 201
        response.url = request.url
        response.request = request
        response.headers["Content-Type"] = "application/json"
        if form.get("To") in self.refuse:
            response.status_code = 400
            response._content = json.dumps({
                "code": 21608, "status": 400, "more_info": "https://www.twilio.com/docs/errors/21608",
                "message": f"The number {form['To']} is unverified."}).encode()
            return response
        response._content = json.dumps({
            "sid": sid, "account_sid": "AC" + "1" * 32, "to": form.get("To"), "from": form.get("From"),
            "body": form.get("Body"), "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "date_created": "Sat, 05 Dec 2026 19:00:00 +0000", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{'AC' + '1' * 32}/Messages/{sid}.json"}).encode()
        return response


SMS_ACCOUNT = "AC" + "1" * 32


def _print_with_smsnotifier(live, **settings):
    """Configure smsnotifier as its settings dialog does (plugins.smsnotifier.* through /api/settings),
    then print a small file on the virtual printer to PrintDone."""
    saved = live.post("/api/settings", json={"plugins": {"smsnotifier": {
        "enabled": True, "printer_name": "Bench Prusa", "account_sid": SMS_ACCOUNT, "auth_token": "tok3n",
        "from_number": "(415) 555-0100", "recipient_number": "415 555 0142", **settings}}})
    assert saved.status_code == 200, saved.text
    _connect(live)
    gcode = b"G28\n" + b"G1 X10 Y10 F6000\nG1 X20 Y20\n" * 20
    upload = live.post("/api/files/local", files={"file": ("benchy.gcode", gcode)}, data={"print": "true"})
    assert upload.status_code == 201, upload.text


def test_smsnotifier_texts_every_recipient_when_a_print_is_done(live_octoprint, monkeypatch, caplog):
    import base64

    caplog.set_level(logging.INFO, logger="octohost.plugins.smsnotifier")
    twilio = FakeTwilio(monkeypatch, refuse={"+14155550142"})
    live = live_octoprint(connect_virtual=False)
    # off until configured, with its defaults in /api/settings and its settings panel in the page
    defaults = live.get("/api/settings").json()["plugins"]["smsnotifier"]
    assert defaults["enabled"] is False and defaults["recipient_number"] == ""
    assert defaults["message_format"] == {
        "body": "{printer_name} job complete: {filename} done printing after {elapsed_time}"}
    page = live.get("/").text
    assert 'data-bind="checked: settings.plugins.smsnotifier.enabled"' in page
    assert 'data-bind="value: settings.plugins.smsnotifier.recipient_number"' in page
    update = live.get("/plugin/softwareupdate/check").json()["information"]["smsnotifier"]
    assert update["displayName"] == "SMSNotifier Plugin" and update["displayVersion"] == "0.4.1"
    _print_with_smsnotifier(live, recipient_number="415 555 0142,+44 20 7946 0958")
    assert live.get("/api/settings").json()["plugins"]["smsnotifier"]["recipient_number"] == \
        "415 555 0142,+44 20 7946 0958"
    wait_until(lambda: len(twilio.requests) == 2, timeout=60, message="an SMS to each recipient after PrintDone")
    assert live.context.printer.get_current_data()["state"]["flags"]["operational"]

    for sent, to in zip(twilio.requests, ["+14155550142", "+442079460958"], strict=True):  # E.164, as Twilio wants
        assert sent["method"] == "POST"
        assert sent["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{SMS_ACCOUNT}/Messages.json"
        assert sent["authorization"] == "Basic " + base64.b64encode(f"{SMS_ACCOUNT}:tok3n".encode()).decode()
        assert sent["form"]["To"] == to
        assert sent["form"]["From"] == "+14155550100"
        assert sent["form"]["Body"].startswith("Bench Prusa job complete: benchy.gcode done printing after ")
        assert "MediaUrl" not in sent["form"]
    # Twilio refused the first (the library raised its error): the plugin logged it and went on
    wait_until(lambda: "Print notification sent to +442079460958" in caplog.text, message="the plugin's log")
    assert "HTTP 400 error" in caplog.text and "The number +14155550142 is unverified." in caplog.text
    assert "Print notification sent to +14155550142" not in caplog.text


def test_smsnotifier_sends_the_webcam_snapshot_it_uploaded_to_cloudinary(live_octoprint, monkeypatch):
    import http.server

    import cloudinary.uploader

    jpeg = b"\xff\xd8\xff\xe0 a snapshot \xff\xd9"

    class Camera(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.end_headers()
            self.wfile.write(jpeg)

        def log_message(self, *args):
            pass

    camera = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    threading.Thread(target=camera.serve_forever, daemon=True).start()
    uploads = []

    class Cloudinary:  # cloudinary's HTTP boundary: the urllib3 pool manager its uploader posts with
        def request(self, method, url, fields, headers, **kwargs):
            form = dict(fields)
            name, content = form["file"]  # (file name, bytes): urllib3 sends it as a multipart file
            uploads.append({"method": method, "url": url, "preset": form.get("upload_preset"),
                            "name": name.rsplit(".", 1)[-1], "file": content})
            body = json.dumps({"public_id": "snap1", "url": "http://res.cloudinary.com/octoprint-twilio/snap1.jpg"})
            return type("Answer", (), {"status": 200, "headers": {}, "data": body.encode()})()

    monkeypatch.setattr(cloudinary.uploader, "_http", Cloudinary())
    twilio = FakeTwilio(monkeypatch)
    live = live_octoprint(connect_virtual=False)
    try:
        snapshot = f"http://127.0.0.1:{camera.server_address[1]}/snapshot.jpg"
        saved = live.post("/api/settings", json={"webcam": {"snapshotUrl": snapshot}})
        assert saved.status_code == 200, saved.text
        done = []
        live.context.event_bus.subscribe("PrintDone", lambda event, payload: done.append(payload))
        _print_with_smsnotifier(live, send_image=True, message_format={"body": "{filename} took {elapsed_time}"})
        wait_until(lambda: twilio.requests and done, timeout=60, message="PrintDone and the SMS")
    finally:
        camera.shutdown()
        camera.server_close()
    assert uploads == [{"method": "POST", "url": "https://api.cloudinary.com/v1_1/octoprint-twilio/image/upload",
                        "preset": "snapshot", "name": "jpg", "file": jpeg}]
    sent = twilio.requests[0]["form"]
    assert sent["MediaUrl"] == "http://res.cloudinary.com/octoprint-twilio/snap1.jpg"
    assert sent["To"] == "+14155550142"
    # its own message template, saved as a nested setting, filled from the PrintDone payload
    seconds = int(done[0]["time"])
    assert sent["Body"] == f"benchy.gcode took {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
