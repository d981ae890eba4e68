"""The serial stream's rate during a Z-change timelapse at 115200 baud, against the same print without one.

Run:  python benchmarks/timelapse.py                 (three rounds of each, alternating; about two minutes)
      python benchmarks/timelapse.py --quick         (fewer lines)
      taskset -c 0 python benchmarks/timelapse.py    (everything on one core: the camera, the capture
                                                      thread and the serial loop compete for it)

Each run starts the simulator (benchmarks/sim/firmware.py --baud 115200) in its own process and the
whole octohost server (settings, event bus, printer, push hub, timelapse) in a fresh host process,
which prints a file of short G1 moves with a layer change every ``--layer`` lines. In ``zchange``
runs the host records a timelapse from a local HTTP camera serving 640x480 JPEGs (made by ffmpeg)
with ``minDelay`` 0, so it takes a frame at every layer change: far more frames per second than a
real print (a layer every 10-60 s), each written to disk with fsync, with the capture events and
hooks as in production. ``off`` runs print the same file with ``timelapse.type`` off. Runs alternate
off/zchange; the rate is the simulator's count of moves over the time from the first to the last
(the wire, not the host's clock). Prints every run, the medians and zchange/off.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from streaming import run_host  # noqa: E402  (benchmarks/ is on the path when run as a script)


def write_file(path, lines, layer):
    with open(path, "w") as f:
        f.write("G28\nG90\n")
        for i in range(lines):
            if i % layer == 0:
                f.write(f"G1 Z{0.2 * (i // layer + 1):.2f} F600\n")
            else:
                f.write(f"G1 X{i % 100} Y{(i * 7) % 100} E{i * 0.05:.2f} F3000\n")


def make_jpegs(folder):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=640x480:rate=1", "-frames:v", "4", os.path.join(folder, "f%d.jpg")],
                   check=True, timeout=60)
    return [open(os.path.join(folder, f"f{n}.jpg"), "rb").read() for n in range(1, 5)]


def start_camera(frames):
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            count[0] += 1
            body = frames[count[0] % len(frames)]
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, count


# -- the host side, run in its own process -----------------------------------------------------------

def host(port, mode, path, camera_url):
    import shutil

    from octohost.server.app import Server
    from octohost.settings import Settings

    with tempfile.TemporaryDirectory() as basedir:
        settings = Settings(basedir)
        settings.update([(("webcam", "snapshot"), camera_url), (("webcam", "timelapse", "type"), mode),
                         (("webcam", "timelapse", "options", "minDelay"), 0.0),
                         (("webcam", "timelapse", "renderAfterPrint"), "never")])
        sys.setswitchinterval(settings.get("server.switchInterval"))  # as `octohost serve` does
        shutil.copy(path, os.path.join(settings.folder("uploads"), "bench.gcode"))
        server = Server(settings, host="127.0.0.1", port=0).start_in_thread()
        printer = server.context.printer
        printer.connect(port=port, baudrate=115200)
        deadline = time.monotonic() + 30
        while not printer.is_operational():
            if time.monotonic() > deadline:
                raise SystemExit("the printer did not become operational")
            time.sleep(0.01)
        time.sleep(0.3)  # let the M115 report and the first polls pass
        cpu = time.process_time()
        assert printer.select_file("bench.gcode", False, printAfterSelect=True)
        while not printer.is_printing():
            time.sleep(0.005)
        while printer.is_printing():
            time.sleep(0.01)
        cpu = time.process_time() - cpu
        server.context.event_bus.flush()
        timelapse = server.context.timelapse
        recordings = timelapse.storage.recordings()
        frames = sum(info["count"] for info in recordings.values())
        server.stop()
    print(json.dumps({"frames": frames, "host_cpu_s": cpu}))


# -- the driver ------------------------------------------------------------------------------------


def run_one(mode, path, camera_url):
    result, stats = run_host(__file__, [mode, path, camera_url], ["--baud", "115200"], timeout=900, label=mode)
    result.update(moves=stats["moves"], seconds=stats["last_move"] - stats["first_move"], errors=stats["errors"])
    result["rate"] = result["moves"] / result["seconds"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the lines")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each mode, alternating")
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--layer", type=int, default=100, help="lines per layer (one frame each)")
    parser.add_argument("--host", nargs=4, metavar=("PORT", "MODE", "FILE", "CAMERA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.host:
        host(*args.host)
        return
    lines = args.lines // 4 if args.quick else args.lines
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.gcode")
        write_file(path, lines, args.layer)
        camera, requests = start_camera(make_jpegs(folder))
        camera_url = f"http://127.0.0.1:{camera.server_address[1]}/snapshot.jpg"
        results = {"off": [], "zchange": []}
        print(f"python {sys.version.split()[0]}, {lines} lines, a layer every {args.layer} lines, 115200 baud, "
              f"CPUs {sorted(os.sched_getaffinity(0))}")
        for round_number in range(args.rounds):
            for mode in ("off", "zchange"):
                before = requests[0]
                result = run_one(mode, path, camera_url)
                result["camera_requests"] = requests[0] - before
                results[mode].append(result)
                print(f"  round {round_number + 1} {mode:8}: {result['rate']:7.1f} lines/s over "
                      f"{result['seconds']:.2f} s, {result['frames']} frames "
                      f"({result['frames'] / result['seconds']:.1f}/s), host CPU {result['host_cpu_s']:.2f} s, "
                      f"sim errors {result['errors']}", flush=True)
        camera.shutdown()
    off = statistics.median(r["rate"] for r in results["off"])
    on = statistics.median(r["rate"] for r in results["zchange"])
    print(f"median: off {off:.1f} lines/s, zchange {on:.1f} lines/s: {on / off * 100:.1f} %")
    cpu_off = statistics.median(r["host_cpu_s"] for r in results["off"])
    cpu_on = statistics.median(r["host_cpu_s"] for r in results["zchange"])
    frames = statistics.median(r["frames"] for r in results["zchange"])
    print(f"median host CPU over the print: off {cpu_off:.2f} s, zchange {cpu_on:.2f} s "
          f"({(cpu_on - cpu_off) / max(frames, 1) * 1000:.1f} ms per frame)")


if __name__ == "__main__":
    main()
