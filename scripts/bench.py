#!/usr/bin/env python3
"""Measures a release build of cip against its own HTTP floor (/health), on this machine.

Starts `cip serve` on a throwaway database, loads N live calls through the telephony feed in batches
of 1,000, then runs wrk on each route right after wrk on /health, so that every figure is also a
ratio to the floor taken in the same minute. Prints one Markdown table (see BENCHMARKS.md).
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time

from cip_harness import free_port, admin, rss_kib, scratch_folder

CALLS_PER_ADVERTISER = 100


def request(conn, method, path, token, body=None):
    headers = {"Authorization": token}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def create_advertisers(binary, database, network, count):
    """Through `cip admin` for small counts; in one SQL statement for the ten thousand of a million calls."""
    if count <= 1000:
        return [admin(binary, database, "advertiser", "create", "--network", str(network), "--name", f"A{i}")["id"]
                for i in range(count)]
    sql = (f"INSERT INTO advertisers (network_id, name) "
           f"SELECT {network}, 'A' || n FROM generate_series(1, {count}) AS n")
    if database.startswith("postgres"):
        subprocess.run(["psql", "-q", database, "-c", sql], check=True)
        listing = subprocess.run(["psql", "-At", database, "-c", f"SELECT id FROM advertisers WHERE network_id = {network} ORDER BY id"],
                                 check=True, capture_output=True, text=True).stdout
    else:
        sql = (f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) "
               f"INSERT INTO advertisers (network_id, name) SELECT {network}, 'A' || i FROM n")
        subprocess.run(["sqlite3", database, sql], check=True)
        listing = subprocess.run(["sqlite3", database, f"SELECT id FROM advertisers WHERE network_id = {network} ORDER BY id"],
                                 check=True, capture_output=True, text=True).stdout
    return [int(line) for line in listing.split()]


def calling(i):
    return f"530{2000000 + i:07d}"


def destination(advertiser_index):
    return f"855{2000000 + advertiser_index:07d}"


def load_calls(port, token, network, advertisers, count, first_call=0):
    """Bridges `count` calls (numbered from `first_call`) in batches of 1,000; returns durable events per second.
    Only the requests are timed (sent, answered, read): not this script making their bodies or reading
    the answers, which a client does while the server waits for the next batch."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    timed = 0.0
    for first in range(first_call, first_call + count, 1000):
        events = []
        for i in range(first, min(first + 1000, first_call + count)):
            index = i % len(advertisers)
            events.append({
                "event": "call_bridged", "transaction_id": f"B{i:07d}", "network_id": network,
                "advertiser_id": advertisers[index], "occurred_at": "2026-01-01T00:00:00.000Z",
                "calling_phone_number": "+1" + calling(i), "destination_phone_number": "+1" + destination(index),
                "custom_data": [{"name": "Source", "value": "bench", "source": "Ivr"}],
            })
        payload = json.dumps({"events": events})
        sent = time.perf_counter()
        status, body = request(conn, "POST", "/api/2022-08-01/telephony/call_events.json", token, payload)
        timed += time.perf_counter() - sent
        results = json.loads(body)["results"] if status == 200 else []
        if status != 200 or any(r["status"] != "applied" for r in results):
            sys.exit(f"bench: loading failed at call {first}: {status} {body[:300]!r}")
    return count / timed


# What the no-op route sets again and again: the value the first calls were given with their external id.
UNCHANGED_NOTE = {"name": "Note", "value": "unchanged"}


def set_external_ids(port, token, network, count):
    """Gives the first `count` calls an external id, and the value the no-op route sets again (the
    network needs the short-text field `Note`, as `main` makes it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(count):
        update = {"external_unique_id": f"E{i:07d}", "custom_data": [UNCHANGED_NOTE]}
        status, body = request(
            conn, "PUT", f"/api/2022-08-01/calls_in_progress.json?id={network}&organization_type=network&transaction_id=B{i:07d}",
            token, json.dumps({"call_in_progress": update}))
        if status != 200:
            sys.exit(f"bench: setting external ids failed: {status} {body[:200]!r}")


def lua_script(folder, name, method, path_expression, low, high, token, body=None, headers=None, body_expression=None):
    """A wrk script whose requests go to `path_expression` (Lua, using a random `i` in [low, high]); the
    body is `body`, or `body_expression` (Lua, using `n`, the request's number: 1, 2, ...)."""
    path = os.path.join(folder, name + ".lua")
    body_line = f"local body = {json.dumps(json.dumps(body))}" if body else "local body = nil"
    if body_expression:
        body_line = "local n = 0"
    extra = "".join(f", [{json.dumps(key)}] = {json.dumps(value)}" for key, value in (headers or {}).items())
    with open(path, "w") as script:
        script.write(f"""
math.randomseed(os.time())
local headers = {{ ["Authorization"] = "{token}", ["Content-Type"] = "application/json"{extra} }}
{body_line}
request = function()
  local i = math.random({low}, {high})
  {"n = n + 1; local body = " + body_expression if body_expression else ""}
  return wrk.format("{method}", {path_expression}, headers, body)
end
""")
    return path


def same_shape_script(script):
    """The requests of `script`, answered by `/health`: the same request line, headers and wrk script
    work, but no handler. A route's ratio to this floor is what its handler costs; this floor's to
    `/health` is what the request's shape costs the client and the HTTP parser."""
    shape = script[:-len(".lua")] + "-shape.lua"
    with open(script) as original, open(shape, "w") as out:
        out.write(original.read().replace('("/api/', '("/health?/api/'))
    return shape


def list_etag(port, token, path):
    """The ETag of a list as it is now (it stays so while nothing writes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Authorization": token})
    response = conn.getresponse()
    response.read()
    etag = response.getheader("ETag")
    conn.close()
    if response.status != 200 or not etag:
        sys.exit(f"bench: no ETag on {path}: {response.status}")
    return etag


# `--pin`: the command prefix that puts wrk on a core of its own.
WRK_CORE = []


def run_wrk(port, seconds, script=None, path="/health"):
    command = WRK_CORE + ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(percent):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": latency(50), "p99": latency(99), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


# The routes `--request-shape` measures against the same requests sent to `/health`.
SHAPED_ROUTES = {"GET by transaction_id", "GET by phone pair", "GET by external_unique_id"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--database", help="a postgres:// URL of an empty database; SQLite in a temporary folder otherwise")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternations of /health and the route, per route (0: load and measure memory only)")
    parser.add_argument("--external-ids", type=int, default=10_000)
    parser.add_argument("--database-reads", action="store_true",
                        help="PostgreSQL: serve with --no-postgres-memory-reads (every read asks the database)")
    parser.add_argument("--pin", action="store_true",
                        help="wrk on the last core, the server on the others (taskset): the server's own cost, "
                             "without wrk's on its cores")
    parser.add_argument("--request-shape", action="store_true",
                        help="also run the GET-by-key routes' requests against /health, each round (a second table)")
    options = parser.parse_args()

    folder = scratch_folder("cip-bench-")
    database = options.database or os.path.join(folder, "bench.sqlite")
    count = options.calls
    network = admin(options.binary, database, "network", "create", "--name", f"Bench {os.getpid()}")["id"]
    advertisers = create_advertisers(options.binary, database, network, max(1, count // CALLS_PER_ADVERTISER))
    admin(options.binary, database, "field", "create", "--network", str(network), "--name", "Source", "--type", "short-text")
    admin(options.binary, database, "field", "create", "--network", str(network), "--name", "Stage", "--type", "short-text")
    admin(options.binary, database, "field", "create", "--network", str(network), "--name", "Note", "--type", "short-text")
    org = admin(options.binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    telephony = admin(options.binary, database, "token", "create", "--telephony")["token"]

    port = free_port()
    server_core = []
    if options.pin:
        last = (os.cpu_count() or 1) - 1
        if last < 1:
            sys.exit("bench: --pin needs at least two cores")
        WRK_CORE[:] = ["taskset", "-c", str(last)]
        server_core = ["taskset", "-c", f"0-{last - 1}" if last > 1 else "0"]
    server = subprocess.Popen(server_core + [options.binary, "serve", "--port", str(port), "--database", database, "--log-level", "warning"]
                              + (["--no-postgres-memory-reads"] if options.database_reads else []))
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        rss_before = rss_kib(server.pid)
        events_per_second = load_calls(port, telephony, network, advertisers, count)
        rss_after = rss_kib(server.pid)
        external_ids = min(options.external_ids, count)
        set_external_ids(port, org, network, external_ids)

        list_ms = None
        if count <= 100_000 and options.rounds > 0:
            # A million calls make a half-gigabyte response: listing is measured where it is a real use.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            timings = []
            for _ in range(5):
                start = time.perf_counter()
                status, body = request(conn, "GET", f"/api/2022-08-01/calls_in_progress/current_calls.json?id={network}&organization_type=network", org)
                timings.append((time.perf_counter() - start) * 1000)
                assert status == 200 and body.count(b'"transaction_id"') == count, "listing did not return every call"
            list_ms = statistics.median(timings)

        base = f"/api/2022-08-01/calls_in_progress/current_calls.json?id={network}&organization_type=network"
        update = f"/api/2022-08-01/calls_in_progress.json?id={network}&organization_type=network"
        advertiser_list = "/api/2022-08-01/calls_in_progress/current_calls.json?organization_type=advertiser&id="
        # Ten-digit numbers without +1, so that normalization is on the request path.
        pair = (f'string.format("{base}&calling_phone_number=530%07d&destination_phone_number=855%07d", '
                f"2000000 + i, 2000000 + i % {len(advertisers)})")
        routes = [
            ("GET by transaction_id", lua_script(
                folder, "txid", "GET", f'string.format("{base}&transaction_id=B%07d", i)', 0, count - 1, org)),
            ("GET by phone pair", lua_script(folder, "pair", "GET", pair, 0, count - 1, org)),
            ("GET by external_unique_id", lua_script(
                folder, "eid", "GET", f'string.format("{base}&external_unique_id=E%07d", i)', 0, external_ids - 1, org)),
            (f"GET one advertiser's calls (~{CALLS_PER_ADVERTISER})", lua_script(
                folder, "adv", "GET", f'"{advertiser_list}" .. i', advertisers[0], advertisers[-1], org)),
            # SPEC 2.7: a poller of the whole unchanged network list, answered 304 (wrk counts 3xx
            # as non-2xx: all of them are expected here).
            ("GET network list, If-None-Match unchanged (304)", lua_script(
                folder, "poll", "GET", f'"{base}"', 0, 0, org, headers={"If-None-Match": list_etag(port, org, base)})),
            ("GET a page of 100 (limit=100)", lua_script(folder, "page", "GET", f'"{base}&limit=100"', 0, 0, org)),
            # Every request sets a value the call has never had, so each one is a write: a change
            # record, a new version, a commit.
            ("PUT custom data (durable)", lua_script(
                folder, "put", "PUT", f'string.format("{update}&transaction_id=B%07d", i)', 0, count - 1, org,
                body_expression="string.format('{\"call_in_progress\": {\"custom_data\": "
                                "[{\"name\": \"Stage\", \"value\": \"v%d\"}]}}', n)")),
            # The value the calls with an external id were given with it (`set_external_ids`), on a
            # field no other route writes: every request is a no-op (SPEC 2.4: the same request leaves
            # the same state), answered without writing.
            ("PUT custom data, value unchanged (no-op)", lua_script(
                folder, "noop", "PUT", f'string.format("{update}&transaction_id=B%07d", i)', 0, external_ids - 1, org,
                body={"call_in_progress": {"custom_data": [UNCHANGED_NOTE]}})),
        ]
        rows = []
        # --rounds 0 measures loading and memory only.
        for name, script in routes if options.rounds > 0 else []:
            # Alternating short runs: a drift of the machine's speed hits both sides of each ratio alike.
            rounds = []
            shape = same_shape_script(script) if options.request_shape and name in SHAPED_ROUTES else None
            for _ in range(options.rounds):
                floor = run_wrk(port, options.duration)
                measured = run_wrk(port, options.duration, script)
                rounds.append((measured, floor, run_wrk(port, options.duration, shape) if shape else None))
            rows.append((name, rounds))
    finally:
        server.terminate()
        server.wait()

    backend = "PostgreSQL" if options.database else "SQLite"
    pinned = f" (wrk on core {WRK_CORE[-1]}, the server on {server_core[-1]})" if options.pin else ""
    print(f"\ncip {backend}, {count:,} live calls, wrk -t1 -c32, {options.rounds} x ({options.duration}s /health, "
          f"{options.duration}s route), {os.cpu_count()} cores{pinned}\n")
    print("| route | req/s | p50 ms | p99 ms | non-2xx | /health req/s | ratio | ratio min–max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, rounds in rows:
        # Medians over the rounds; p99 is the worst round's, and every non-2xx answer is counted.
        rps = statistics.median(measured["rps"] for measured, _, _ in rounds)
        floor = statistics.median(floor["rps"] for _, floor, _ in rounds)
        ratios = [measured["rps"] / floor["rps"] for measured, floor, _ in rounds]
        ratio = statistics.median(ratios)
        p50 = statistics.median(measured["p50"] for measured, _, _ in rounds)
        p99 = max(measured["p99"] for measured, _, _ in rounds)
        non2xx = sum(measured["non2xx"] for measured, _, _ in rounds)
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {non2xx} | {floor:,.0f} | {ratio:.2f} | {min(ratios):.2f}–{max(ratios):.2f} |")
    print(f"| telephony feed (batches of 1,000, durable) | {events_per_second:,.0f} events/s | | | 0 | | | |")
    shaped = [(name, rounds) for name, rounds in rows if rounds and rounds[0][2]]
    if shaped:
        print("\n| route | same requests to /health, req/s | route / same-shape | same-shape / /health |")
        print("|---|---:|---:|---:|")
        for name, rounds in shaped:
            handler = [measured["rps"] / shape["rps"] for measured, _, shape in rounds]
            shape_cost = [shape["rps"] / floor["rps"] for _, floor, shape in rounds]
            print(f"| {name} | {statistics.median(shape['rps'] for _, _, shape in rounds):,.0f} "
                  f"| {statistics.median(handler):.2f} ({min(handler):.2f}–{max(handler):.2f}) "
                  f"| {statistics.median(shape_cost):.2f} ({min(shape_cost):.2f}–{max(shape_cost):.2f}) |")
    if list_ms is not None:
        print(f"\nlist a whole network of {count:,} calls: {list_ms:.0f} ms (median of 5)")
    print(f"server memory per live call: {max(0, rss_after - rss_before) * 1024 / count:,.0f} bytes "
          f"(RSS {rss_before:,} KiB before loading, {rss_after:,} KiB after)")


if __name__ == "__main__":
    main()
