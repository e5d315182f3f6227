#!/usr/bin/env python3
"""Throws hostile clients at a real `cip serve` whose open-file limit is 1,024 (soft and hard).

For --duration seconds (60 by default) it keeps up 1,100 half-sent requests, 300 stalled uploads of
about 1 MB and 2,000 idle keep-alive connections (re-opening each one the server closes), while one
ordinary keep-alive client keeps asking for the calls of a network. Then it checks what issue 9 asks:
the ordinary client's p99 under 100 ms with no error; the server never at its file limit, under half
a core while it sheds, serving a new client within a second once the abuse stops, its RSS back within
20% of where it started, and no socket of its left in FIN-WAIT-2. Prints a Markdown table; exits 1 if
any check fails.
"""
import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

from cip_harness import free_port, admin, proc_status, scratch_folder

HALF_SENT = b"GET /health HTTP/1.1\r\nHost: x\r\nX: "
FILE_LIMIT = 1024


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_files(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fin_wait_2_held_by(pid, port):
    out = subprocess.run(["ss", "-tanpH", "state", "fin-wait-2", f"( sport = :{port} )"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if f"pid={pid}," in line)


def ordinary_client(port, path, token, stop_at, results):
    """One keep-alive connection asking again and again; latencies in ms, and errors."""
    latencies, errors = [], 0
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\r\n".encode()
    sock = None
    while time.time() < stop_at:
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            started = time.perf_counter()
            sock.sendall(request)
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                buffer += chunk
            head, _, body = buffer.partition(b"\r\n\r\n")
            length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
            while len(body) < length:
                body += sock.recv(65536)
            latencies.append((time.perf_counter() - started) * 1000)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
            time.sleep(0.01)
        except Exception:
            errors += 1
            if sock:
                sock.close()
            sock = None
            time.sleep(0.05)
    results.put((latencies, errors))


class Abuse:
    def __init__(self, port, stop_at):
        self.port, self.stop_at = port, stop_at
        self.opened = {"half-sent": 0, "stalled upload": 0, "idle keep-alive": 0}
        self.writers = []

    async def hold(self, kind, send):
        """Keeps one connection of `kind` open until the end, re-opening it whenever it is closed."""
        while time.time() < self.stop_at:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), timeout=2)
            except Exception:
                await asyncio.sleep(0.5)
                continue
            self.opened[kind] += 1
            self.writers.append(writer)
            try:
                await send(reader, writer)
                # Then nothing more: wait for the server to give up on us, or for the end.
                while time.time() < self.stop_at:
                    if not await asyncio.wait_for(reader.read(65536), timeout=self.stop_at - time.time()):
                        break
            except Exception:
                pass
            finally:
                writer.close()

    async def half_sent(self, reader, writer):
        writer.write(HALF_SENT)
        await writer.drain()

    async def stalled_upload(self, reader, writer):
        writer.write(b"POST /api/2022-08-01/telephony/call_events.json HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1048000\r\n\r\n")
        writer.write(b"[" + b" " * 1040000)
        await writer.drain()

    async def idle_keep_alive(self, reader, writer):
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b'{"status":"ok"}'), timeout=30)

    async def run(self, half, stalled, idle):
        tasks = [self.hold("half-sent", self.half_sent) for _ in range(half)]
        tasks += [self.hold("stalled upload", self.stalled_upload) for _ in range(stalled)]
        tasks += [self.hold("idle keep-alive", self.idle_keep_alive) for _ in range(idle)]
        await asyncio.gather(*tasks, return_exceptions=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/cip")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--half-sent", type=int, default=1100)
    parser.add_argument("--stalled", type=int, default=300)
    parser.add_argument("--idle", type=int, default=2000)
    args = parser.parse_args()

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    folder = scratch_folder("cip-hostile-")
    database = os.path.join(folder, "cip.sqlite")
    network = admin(args.binary, database, "network", "create", "--name", "Hostile")["id"]
    token = admin(args.binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    port = free_port()
    log = open(os.path.join(folder, "serve.log"), "w")
    server = subprocess.Popen(
        ["prlimit", f"--nofile={FILE_LIMIT}:{FILE_LIMIT}", args.binary, "serve", "--port", str(port),
         "--database", database, "--log-level", "warning"], stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        pid = server.pid
        time.sleep(1)
        rss_start = proc_status(pid, "VmRSS")
        path = f"/api/2022-08-01/calls_in_progress/current_calls.json?id={network}&organization_type=network"

        start = time.time()
        stop_at = start + args.duration
        results = multiprocessing.Queue()
        client = multiprocessing.Process(target=ordinary_client, args=(port, path, token, stop_at, results))
        client.start()
        time.sleep(0.5)

        samples = []
        def sample():
            while time.time() < stop_at:
                samples.append((time.time(), open_files(pid), proc_status(pid, "VmRSS"), cpu_seconds(pid)))
                time.sleep(1)
        abuse = Abuse(port, stop_at)
        loop = asyncio.new_event_loop()
        import threading
        sampler = threading.Thread(target=sample)
        sampler.start()
        loop.run_until_complete(abuse.run(args.half_sent, args.stalled, args.idle))
        sampler.join()
        latencies, errors = results.get()
        client.join()
        abuse_ended = time.time()

        # Once the abuse stops: a new client, answered within a second?
        first_answer = None
        while time.time() - abuse_ended < 10:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    sock.settimeout(1)
                    if sock.recv(100).startswith(b"HTTP/1.1 200"):
                        first_answer = time.time() - abuse_ended
                        break
            except OSError:
                pass
            time.sleep(0.05)
        # The server returns freed memory to the system every 10 s.
        time.sleep(12)
        rss_after = proc_status(pid, "VmRSS")
        fin_wait = fin_wait_2_held_by(pid, port)
        files_after = open_files(pid)

        cpu = (samples[-1][3] - samples[0][3]) / (samples[-1][0] - samples[0][0]) if len(samples) > 1 else 0
        peak_files = max(s[1] for s in samples)
        peak_rss = max(s[2] for s in samples)
        p50 = statistics.median(latencies) if latencies else float("inf")
        p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 100 else float("inf")
        checks = [
            ("ordinary client p99 (ms)", f"{p99:.1f} (p50 {p50:.1f}, {len(latencies)} requests)", p99 < 100),
            ("ordinary client errors", str(errors), errors == 0),
            ("server open files, peak (limit 1,024)", str(peak_files), peak_files < FILE_LIMIT),
            ("server CPU while shedding (cores)", f"{cpu:.2f}", cpu < 0.5),
            ("new client answered after the abuse (s)", "never" if first_answer is None else f"{first_answer:.2f}",
             first_answer is not None and first_answer < 1),
            ("RSS start / peak / after (MiB)", f"{rss_start / 1024:.0f} / {peak_rss / 1024:.0f} / {rss_after / 1024:.0f}",
             rss_after <= rss_start * 1.2),
            ("sockets left in FIN-WAIT-2", str(fin_wait), fin_wait == 0),
            ("server open files after", str(files_after), True),
        ]
        print(f"cip hostile clients, {args.duration:.0f} s: {args.half_sent} half-sent requests, {args.stalled} stalled "
              f"~1 MB uploads, {args.idle} idle keep-alive connections, open-file limit {FILE_LIMIT}")
        print("connections opened by the abuse (re-opened when shed): "
              + ", ".join(f"{kind} {count}" for kind, count in abuse.opened.items()))
        print("| check | measured | holds |")
        print("|---|---|---|")
        for name, value, ok in checks:
            print(f"| {name} | {value} | {'yes' if ok else 'NO'} |")
        sys.exit(0 if all(ok for _, _, ok in checks) else 1)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
