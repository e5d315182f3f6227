#!/usr/bin/env python3
"""The change stream's benchmark (SPEC 8): many stream clients on one node while changes flow.

Starts `cip serve` (or two nodes on one PostgreSQL with --nodes 2), bridges calls for 100
advertisers, opens --clients streams (ten per advertiser's token on the advertiser, ten on the network
with the network's token), then sends --rate changes a second through the telephony feed for
--seconds. Each change writes the time it was sent into the call's `line_label`; a client that
receives the change measures from then: send, commit, numbering (PostgreSQL), fan-out and the write
to its socket. Prints the latency percentiles, the server's RSS per open stream, and the API's
ratios to /health measured again with every stream open (changes paused). See BENCHMARKS.md.
"""
import argparse
import asyncio
import http.client
import json
import os
import re
import resource
import statistics
import subprocess
import time
from datetime import datetime, timezone

from bench import lua_script, run_wrk
from cip_harness import admin, free_port, rss_kib, scratch_folder, wait_until_up

ADVERTISERS = 100
CALLS_PER_ADVERTISER = 10
MARK = re.compile(rb"t=(\d+\.\d+)")


def post(port, token, events):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/2022-08-01/telephony/call_events.json", body=json.dumps({"events": events}),
                 headers={"Authorization": token, "Content-Type": "application/json"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"bench_stream: the feed answered {response.status}: {body[:200]!r}")


async def stream_client(port, path, token, latencies, ready, stop):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {token}\r\n\r\n".encode())
    seen_snapshot = False
    while not stop.is_set():
        try:
            chunk = await asyncio.wait_for(reader.read(1 << 16), timeout=0.5)
        except asyncio.TimeoutError:
            continue
        if not chunk:
            break
        now = time.time()
        if not seen_snapshot and b"event: snapshot" in chunk:
            seen_snapshot = True
            ready.release()
            continue
        for match in MARK.finditer(chunk):
            latencies.append(now - float(match.group(1)))
    writer.close()


def send_changes(port, token, network, advertisers, rate, seconds, sent):
    """`rate` changes a second, in ten batches a second, to calls spread over every advertiser."""
    interval = 0.1
    per_batch = max(1, round(rate * interval))
    step = 0
    deadline = time.time() + seconds
    next_at = time.time()
    while time.time() < deadline:
        events = []
        for _ in range(per_batch):
            step += 1
            call = step % (len(advertisers) * CALLS_PER_ADVERTISER)
            events.append({
                "event": "call_updated", "transaction_id": f"S{call:05d}", "network_id": network,
                "occurred_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "custom_data": [{"name": "line_label", "value": f"t={time.time():.6f}"}],
            })
        post(port, token, events)
        sent[0] += len(events)
        next_at += interval
        time.sleep(max(0, next_at - time.time()))


def histogram_quantile(metrics_text, name, quantile):
    buckets = []
    for line in metrics_text.splitlines():
        match = re.match(rf'{name}_bucket{{le="([^"]+)"}} (\S+)', line)
        if match:
            bound = float("inf") if match.group(1) == "+Inf" else float(match.group(1))
            buckets.append((bound, float(match.group(2))))
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    for bound, count in buckets:
        if count >= quantile * total:
            return bound
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--database", help="a postgres:// URL of an empty database; SQLite in a temporary folder otherwise")
    parser.add_argument("--nodes", type=int, default=1, help="PostgreSQL only: clients on the last node, changes through the first")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=640, help="changes a second")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    folder = scratch_folder("cip-bench-stream-")
    database = options.database or os.path.join(folder, "bench.sqlite")
    network = admin(options.binary, database, "network", "create", "--name", f"Streams {os.getpid()}")["id"]
    advertisers = [admin(options.binary, database, "advertiser", "create", "--network", str(network), "--name", f"A{i}")["id"]
                   for i in range(ADVERTISERS)]
    admin(options.binary, database, "field", "create", "--network", str(network), "--name", "line_label", "--type", "short-text")
    network_token = admin(options.binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    advertiser_tokens = [admin(options.binary, database, "token", "create", "--organization-type", "advertiser", "--id", str(a),
                               "--scope", "read")["token"] for a in advertisers]
    telephony = admin(options.binary, database, "token", "create", "--telephony")["token"]

    ports = [free_port() for _ in range(options.nodes)]
    servers = [subprocess.Popen([options.binary, "serve", "--port", str(port), "--database", database, "--log-level", "warning"])
               for port in ports]
    try:
        for port in ports:
            wait_until_up(f"http://127.0.0.1:{port}")
        feed_port, stream_port = ports[0], ports[-1]
        server = servers[-1]
        post(feed_port, telephony, [{
            "event": "call_bridged", "transaction_id": f"S{i:05d}", "network_id": network,
            "advertiser_id": advertisers[i % ADVERTISERS], "occurred_at": "2026-01-01T00:00:00.000Z",
            "calling_phone_number": f"+1530{2000000 + i:07d}", "destination_phone_number": "+18555595599",
        } for i in range(ADVERTISERS * CALLS_PER_ADVERTISER)])
        time.sleep(1)
        rss_before = rss_kib(server.pid)

        latencies = []
        sent = [0]
        results = {}

        async def run():
            stop = asyncio.Event()
            ready = asyncio.Semaphore(0)
            clients = []
            network_clients = 10
            for i in range(options.clients):
                if i < network_clients:
                    path, token = f"/api/2022-08-01/calls_in_progress/stream?id={network}&organization_type=network", network_token
                else:
                    index = i % ADVERTISERS
                    path = f"/api/2022-08-01/calls_in_progress/stream?id={advertisers[index]}&organization_type=advertiser"
                    token = advertiser_tokens[index]
                clients.append(asyncio.create_task(stream_client(stream_port, path, token, latencies, ready, stop)))
            for _ in range(options.clients):
                await asyncio.wait_for(ready.acquire(), timeout=120)
            await asyncio.sleep(1)
            results["rss_open"] = rss_kib(server.pid)
            loop = asyncio.get_running_loop()
            started = time.time()
            await loop.run_in_executor(None, send_changes, feed_port, telephony, network, advertisers,
                                       options.rate, options.seconds, sent)
            results["rate"] = sent[0] / (time.time() - started)
            await asyncio.sleep(2)
            results["received"] = len(latencies)
            conn = http.client.HTTPConnection("127.0.0.1", stream_port, timeout=10)
            conn.request("GET", "/metrics")
            metrics = conn.getresponse().read().decode()
            results["server_p50"] = histogram_quantile(metrics, "cip_stream_delivery_seconds", 0.5)
            results["server_p99"] = histogram_quantile(metrics, "cip_stream_delivery_seconds", 0.99)
            results["open"] = re.search(r"^cip_streams_open (\S+)", metrics, re.M).group(1)
            # The API with every stream open (changes paused): ratios to /health, alternating.
            base = f"/api/2022-08-01/calls_in_progress/current_calls.json?id={network}&organization_type=network"
            update = f"/api/2022-08-01/calls_in_progress.json?id={network}&organization_type=network"
            routes = [
                ("GET by transaction_id", lua_script(folder, "txid", "GET", f'string.format("{base}&transaction_id=S%05d", i)',
                                                     0, ADVERTISERS * CALLS_PER_ADVERTISER - 1, network_token)),
                ("PUT custom data (durable)", lua_script(folder, "put", "PUT", f'string.format("{update}&transaction_id=S%05d", i)',
                                                         0, ADVERTISERS * CALLS_PER_ADVERTISER - 1, network_token,
                                                         body={"call_in_progress": {"custom_data": [{"name": "line_label", "value": "wrk"}]}})),
            ]
            rows = []
            for name, script in routes:
                rounds = []
                for _ in range(options.rounds):
                    floor = await loop.run_in_executor(None, run_wrk, stream_port, options.duration)
                    measured = await loop.run_in_executor(None, run_wrk, stream_port, options.duration, script)
                    rounds.append((measured, floor))
                rows.append((name, rounds))
            results["rows"] = rows
            stop.set()
            await asyncio.gather(*clients, return_exceptions=True)

        asyncio.run(run())
    finally:
        for server in servers:
            server.terminate()
            server.wait()

    backend = "PostgreSQL" if options.database else "SQLite"
    nodes = f", {options.nodes} nodes (changes through one, streams on the other)" if options.nodes > 1 else ""
    ordered = sorted(latencies)

    def percentile(p):
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    print(f"\ncip change stream, {backend}{nodes}: {options.clients:,} streams ({options.clients - 10} on "
          f"{ADVERTISERS} advertisers, 10 on the network), {results['rate']:,.0f} changes/s for {options.seconds} s, "
          f"{os.cpu_count()} cores\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| events received by the clients | {results['received']:,} |")
    print(f"| send → client latency p50 | {percentile(0.5):.1f} ms |")
    print(f"| send → client latency p99 | {percentile(0.99):.1f} ms |")
    print(f"| send → client latency max | {ordered[-1] * 1000:.1f} ms |")
    server_p99 = results["server_p99"]
    print(f"| server's commit → write p99 (histogram bucket) | ≤ {server_p99 * 1000:.0f} ms |" if server_p99 else "| server's commit → write p99 | n/a |")
    print(f"| server RSS per open stream | {max(0, results['rss_open'] - rss_before) * 1024 / options.clients:,.0f} bytes "
          f"({rss_before:,} → {results['rss_open']:,} KiB) |")
    print(f"| streams open at the end | {results['open']} |")
    print("\nWith every stream open (changes paused), wrk -t1 -c32, medians of alternating rounds:\n")
    print("| route | req/s | p99 ms | /health req/s | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, rounds in results["rows"]:
        rps = statistics.median(m["rps"] for m, _ in rounds)
        floor = statistics.median(f["rps"] for _, f in rounds)
        ratio = statistics.median(m["rps"] / f["rps"] for m, f in rounds)
        ratios = sorted(m["rps"] / f["rps"] for m, f in rounds)
        p99 = max(m["p99"] for m, _ in rounds)
        print(f"| {name} | {rps:,.0f} | {p99:.2f} | {floor:,.0f} | {ratio:.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f}) |")


if __name__ == "__main__":
    main()
