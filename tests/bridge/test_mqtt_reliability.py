"""The bridge when things go wrong, against a real mosquitto: the broker restarts mid-print (no
event lost, ``seq`` continuous), the daemon dies (the broker's last will says offline), and the
broker asks for a password or speaks TLS."""

import datetime
import os
import signal
import ssl
import subprocess
import sys

import pytest
from mqtt_helpers import gcode_file, kinds, mqtt_settings, send

from octohost.settings import Settings

from support import wait_until
from support.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.e2e


def event_seqs(subscriber, root):
    return [e["seq"] for e in subscriber.on(f"{root}/event") if isinstance(e, dict)]


def test_broker_restart_mid_print_loses_no_event(broker, subscribers, start_daemon):
    # a farm manager's subscription: a persistent session, so the broker keeps what it missed
    sub = subscribers(broker.port, ["octohost/p1/event", "octohost/p1/status"], session="manager")
    daemon = start_daemon(mqtt_settings(broker.port, **{"serial.virtual.okDelay": 0.003}))
    wait_until(lambda: daemon.context.printer.is_ready(), message="printer ready")
    daemon.upload("long.gcode", gcode_file(1200))
    assert kinds(send(sub, daemon.root, "START_PRINT", {"path": "long.gcode"})) == ["ACCEPTED", "FINISHED"]
    broker.stop()
    wait_until(lambda: daemon.bridge.status()["state"] == "disconnected", message="bridge noticed")
    for i in range(3):  # events while the broker is away
        daemon.upload(f"while-away-{i}.gcode", gcode_file(2))
    wait_until(lambda: daemon.bridge.status()["events"]["queued"] >= 3, message="events queued")
    assert daemon.context.printer.is_printing()
    broker.start()
    wait_until(lambda: daemon.bridge.status()["connects"] == 2, message="bridge reconnected")
    wait_until(lambda: [e for e in sub.on(daemon.topic("event")) if e["event"] == "PRINT_DONE"], timeout=60,
               message="PRINT_DONE")
    last = daemon.bridge.status()["events"]["lastSeq"]
    wait_until(lambda: set(event_seqs(sub, daemon.root)) == set(range(1, last + 1)),
               message=lambda: f"every seq 1..{last}, got {sorted(set(event_seqs(sub, daemon.root)))}")
    added = [e["data"]["path"] for e in sub.on(daemon.topic("event")) if e["event"] == "FILE_ADDED"]
    assert [p for p in added if p.startswith("while-away")] == [f"while-away-{i}.gcode" for i in range(3)]
    assert daemon.bridge.status()["events"]["dropped"] == 0


def test_last_will_says_offline_when_the_daemon_dies(broker, subscribers, tmp_path):
    basedir = tmp_path / "daemon"
    settings = Settings(str(basedir))
    for key, value in mqtt_settings(broker.port, "doomed").items():
        settings.set(key, value)
    sub = subscribers(broker.port, "octohost/doomed/status")
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", str(basedir), "serve",
                                "--host", "127.0.0.1", "--port", str(free_port())],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: [s for s in sub.on("octohost/doomed/status") if s["online"]], timeout=30,
                   message="online")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        wait_until(lambda: sub.on("octohost/doomed/status")[-1] == {"online": False}, message="the last will")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_username_and_password(tmp_path, subscribers, start_daemon):
    broker = Mosquitto(tmp_path / "auth", users={"octo": "s3cret"}).start()
    try:
        sub = subscribers(broker.port, "octohost/#", auth=("octo", "s3cret"))
        good = start_daemon(mqtt_settings(broker.port, "good", **{"mqtt.broker.username": "octo",
                                                                   "mqtt.broker.password": "s3cret"}))
        bad = start_daemon(mqtt_settings(broker.port, "bad", **{"mqtt.broker.username": "octo",
                                                                 "mqtt.broker.password": "wrong"}))
        anonymous = start_daemon(mqtt_settings(broker.port, "anon"))
        wait_until(lambda: [s for s in sub.on("octohost/good/status") if s["online"]], message="good online")
        assert kinds(send(sub, good.root, "SEND_INFO")) == ["ACCEPTED", "FINISHED"]
        for daemon in (bad, anonymous):
            wait_until(lambda d=daemon: d.bridge.status()["state"] == "refused", message="refused")
            assert "refused" in daemon.bridge.status()["lastError"]
        assert not sub.on("octohost/bad/status") and not sub.on("octohost/anon/status")
    finally:
        broker.stop()


def _certificates(folder):
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    files = {}

    def write(name, data):
        path = folder / name
        path.write_bytes(data)
        files[name.split(".")[0]] = str(path)

    def key_pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "octohost test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    write("ca.pem", ca.public_bytes(serialization.Encoding.PEM))
    write("cert.pem", server.public_bytes(serialization.Encoding.PEM))
    write("key.pem", key_pem(server_key))
    os.chmod(files["key"], 0o644)  # mosquitto may drop privileges before reading it
    return files


def test_tls(tmp_path, subscribers, start_daemon):
    pytest.importorskip("cryptography")
    folder = tmp_path / "tls"
    folder.mkdir()
    files = _certificates(folder)
    broker = Mosquitto(tmp_path / "tls-broker", tls=files).start()
    try:
        context = ssl.create_default_context(cafile=files["ca"])
        sub = subscribers(broker.port, "octohost/#", tls=context)
        daemon = start_daemon(mqtt_settings(broker.port, "secure", **{"mqtt.broker.tls.enabled": True,
                                                                       "mqtt.broker.tls.ca": files["ca"]}))
        wait_until(lambda: [s for s in sub.on("octohost/secure/status") if s["online"]], message="online over TLS")
        assert daemon.bridge.status()["tls"] is True
        assert kinds(send(sub, daemon.root, "SEND_INFO")) == ["ACCEPTED", "FINISHED"]
        # without the CA the broker's certificate is not trusted: no connection
        untrusted = start_daemon(mqtt_settings(broker.port, "untrusted", **{"mqtt.broker.tls.enabled": True}))
        plain = start_daemon(mqtt_settings(broker.port, "plain"))
        wait_until(lambda: untrusted.bridge.status()["lastError"] and plain.bridge.status()["lastError"],
                   message="errors")
        assert untrusted.bridge.status()["state"] != "connected" and plain.bridge.status()["state"] != "connected"
        assert not sub.on("octohost/untrusted/status") and not sub.on("octohost/plain/status")
    finally:
        broker.stop()


def test_subscriber_sees_a_gap_when_the_buffer_overflows(broker, subscribers, start_daemon):
    """Events beyond the offline buffer drop the oldest, counted, and show as a gap in ``seq``."""
    sub = subscribers(broker.port, "octohost/p1/event", session="gap-manager")
    daemon = start_daemon(mqtt_settings(broker.port))
    wait_until(lambda: daemon.bridge.status()["state"] == "connected", message="connected")
    daemon.bridge.outbox.capacity = 5  # a small buffer for the test
    broker.stop()
    wait_until(lambda: daemon.bridge.status()["state"] == "disconnected", message="bridge noticed")
    for i in range(8):
        daemon.upload(f"f{i}.gcode", gcode_file(1))
    wait_until(lambda: daemon.bridge.status()["events"]["dropped"] >= 3, message="dropped counted")
    broker.start()
    last = daemon.bridge.status()["events"]["lastSeq"]
    wait_until(lambda: max(event_seqs(sub, daemon.root), default=0) == last, message="the newest event")
    seen = sorted(set(event_seqs(sub, daemon.root)))
    missing = sorted(set(range(1, last + 1)) - set(seen))
    assert len(missing) == daemon.bridge.status()["events"]["dropped"] and missing
