#!/usr/bin/env python3
"""SPEC 9's webhooks against a real `cip serve` and a real receiver on loopback.

Every request the receiver gets is verified with the `standardwebhooks` package from PyPI (the
specification's own library, not the project's code) and written to a ledger: webhook, message id,
sequence, call, type, and what the receiver answered.

Modes:
  checks      signatures; every change of the organization's log delivered, per call in sequence
              order; a receiver failing 3 times then succeeding gets each change acknowledged once;
              410 disables at once; failing past the retry limit disables, with the reason in
              `webhook list`; SSRF refusals at creation and at delivery; disable/enable.
  crash       webhooks receiving while the server (or one of two PostgreSQL nodes) is `kill -9`ed
              and restarted several times: the ledger must hold every change of the log.
  isolation   a fast endpoint's delivery latency and the API's route ratios, with and without an
              endpoint that never answers and one that answers in 5 s beside it.
  throughput  deliveries per second to a local receiver, one node.
Exits 1 on any failed check.
"""
import argparse
import atexit
import base64
import functools
import gc
import http.server
import itertools
import json
import os
import random
import signal
import socketserver
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from standardwebhooks.webhooks import Webhook as StandardWebhook

from cip_harness import admin, call_api, free_port, log_tail, scratch_folder, wait_until_up

API = "/api/2022-08-01"
FAILURES = []
RUNNING = []  # every server started, stopped at exit whatever happens


@atexit.register
def stop_servers():
    for process in RUNNING:
        if process.poll() is None:
            process.kill()


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        FAILURES.append(what)
    return condition


class Receiver:
    """An HTTP server on loopback; each path `/<name>` is one webhook's endpoint with its own behaviour."""

    def __init__(self, keep_bodies=True):
        self.keep_bodies = keep_bodies
        self.acknowledged_counts = {}
        self.lock = threading.Lock()
        self.secrets = {}
        self.behaviours = {}
        self.ledger = []
        self.by_webhook = {}
        self.bad_signatures = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                name = self.path.strip("/")
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.answer(name, body, self.headers)
                if status is None:  # never answers: hold the connection until the client gives up
                    time.sleep(3600)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            request_queue_size = 256

            def handle_error(self, request, client_address):
                pass  # a sender killed mid-request resets its connection: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def answer(self, name, body, headers):
        with self.lock:
            secret = self.secrets.get(name)
            behaviour = self.behaviours.get(name, lambda entries, sequence: 200)
            earlier = list(self.by_webhook.get(name, [])) if name in self.behaviours else []
        verified = False
        try:
            StandardWebhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
            verified = True
        except Exception:
            pass
        data = json.loads(body)
        status = behaviour(earlier, data["sequence"])
        if isinstance(status, tuple):  # (delay, status)
            time.sleep(status[0])
            status = status[1]
        with self.lock:
            if not verified:
                self.bad_signatures += 1
            entry = {
                "webhook": name, "id": headers.get("webhook-id"), "sequence": data["sequence"],
                "call": data["call"]["transaction_id"], "type": data["type"], "status": status,
                "verified": verified, "at": time.time(), "body": data if self.keep_bodies else None,
            }
            if status is not None and 200 <= status < 300:
                self.acknowledged_counts[name] = self.acknowledged_counts.get(name, 0) + 1
            self.ledger.append(entry)
            self.by_webhook.setdefault(name, []).append(entry)
        return status

    def entries(self, name):
        with self.lock:
            return list(self.by_webhook.get(name, []))

    def acknowledged(self, name):
        """The entries answered 2xx."""
        return [entry for entry in self.entries(name) if entry["status"] is not None and 200 <= entry["status"] < 300]


SERVER_NUMBERS = itertools.count()


@functools.cache
def log_folder():
    """One scratch folder for this run's server logs."""
    return scratch_folder("cip-webhook-logs-")


class Server:
    def __init__(self, binary, database, extra=(), env=None, log_level="info"):
        self.log_level = log_level
        self.binary, self.database, self.extra = binary, database, list(extra)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.process = None
        self.log = open(os.path.join(log_folder(), f"serve-{next(SERVER_NUMBERS)}.log"), "wb")

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--database", self.database, "--log-level", self.log_level,
             "--allow-insecure-webhooks", *self.extra],
            stdout=self.log, stderr=self.log, env=self.env)
        RUNNING.append(self.process)
        if not wait_until_up(self.base):
            sys.exit(f"webhook_test: the server did not start; its log ends:\n{log_tail(self.log.name)}")

    def kill(self, sig=signal.SIGKILL):
        self.process.send_signal(sig)
        self.process.wait()


class World:
    """A database with a network, two advertisers, a field and tokens."""

    def __init__(self, binary, database):
        self.binary, self.database = binary, database
        self.network = admin(binary, database, "network", "create", "--name", f"Hooks {os.getpid()}")["id"]
        self.advertisers = [
            admin(binary, database, "advertiser", "create", "--network", str(self.network), "--name", f"A{i}")["id"]
            for i in range(2)
        ]
        for field in ["Stage", "Source"]:
            admin(binary, database, "field", "create", "--network", str(self.network), "--name", field, "--type",
                  "short-text")
        self.telephony = admin(binary, database, "token", "create", "--telephony")["token"]
        self.org = admin(binary, database, "token", "create", "--organization-type", "network", "--id",
                         str(self.network))["token"]
        self.calls = 0

    def webhook(self, url, *flags, organization=None):
        organization = organization or ("network", self.network)
        return admin(self.binary, self.database, "webhook", "create", "--organization-type", organization[0],
                     "--id", str(organization[1]), "--url", url, "--allow-insecure-webhooks",
                     "--allow-private-webhook-targets", *flags)

    def webhooks(self):
        out = subprocess.run([self.binary, "admin", "webhook", "list", "--database", self.database],
                             check=True, capture_output=True, text=True).stdout
        return {hook["id"]: hook for hook in map(json.loads, out.splitlines())}

    def traffic(self, base, calls, updates=2, advertiser=0):
        """Bridges `calls` calls, updates each `updates` times (feed and PUT), ends them; returns the ids."""
        ids = []
        for _ in range(calls):
            self.calls += 1
            tid = f"W{os.getpid()}-{self.calls}"
            ids.append(tid)
            now = time.time()
            stamp = lambda offset: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now + offset)) + ".000Z"
            events = [{
                "event": "call_bridged", "transaction_id": tid, "network_id": self.network,
                "advertiser_id": self.advertisers[advertiser], "occurred_at": stamp(0), "call_start_time_utc": stamp(-5),
                "calling_phone_number": "530-999-9999", "destination_phone_number": "855-559-5599",
            }]
            for step in range(updates):
                events.append({"event": "call_updated", "transaction_id": tid, "network_id": self.network,
                               "occurred_at": stamp(step + 1), "custom_data": [
                                   {"name": "Stage", "value": f"step {step}", "source": "Feed"}]})
            events.append({"event": "call_ended", "transaction_id": tid, "network_id": self.network,
                           "occurred_at": stamp(updates + 1)})
            status, _ = call_api(base, "POST", f"{API}/telephony/call_events.json", self.telephony, {"events": events})
            if status != 200:
                raise RuntimeError(f"feed answered {status}")
        return ids


def log_changes(database, network, after=0):
    """(sequence, transaction id) of every change of the network after `after`, from the database."""
    if database.startswith("postgres"):
        out = subprocess.run(["psql", database, "-At", "-F", " ", "-c",
                              f"SELECT sequence, transaction_id FROM call_changes WHERE network_id = {network} "
                              f"AND sequence > {after} ORDER BY sequence"], check=True, capture_output=True, text=True)
        return [(int(line.split()[0]), line.split()[1]) for line in out.stdout.splitlines() if line.strip()]
    with sqlite3.connect(database) as db:
        return list(db.execute(
            "SELECT sequence, transaction_id FROM call_changes WHERE network_id = ? AND sequence > ? ORDER BY sequence",
            (network, after)))


def wait_for(predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def in_call_order(entries):
    """Whether each call's first deliveries of its changes come in sequence order."""
    seen = {}
    for entry in entries:
        if entry["sequence"] in seen.get(entry["call"], []):
            continue
        previous = seen.setdefault(entry["call"], [])
        if previous and entry["sequence"] < previous[-1]:
            return False
        previous.append(entry["sequence"])
    return True


def setup(options, mode):
    """A folder, the database (SQLite in the folder unless --postgres), the key flags and a world in it."""
    folder = scratch_folder(f"cip-webhook-{mode}-")
    database = options.database or os.path.join(folder, f"{mode}.sqlite")
    key_flags = key_flags_for(database, folder)
    return folder, database, key_flags, World(options.binary, database)


def run_checks(options):
    folder, database, key_flags, world = setup(options, "checks")
    receiver = Receiver()

    print("== refused at creation (the URL as written)")
    for url, flags, reason in [
        ("http://example.com/hook", [], "http:// without --allow-insecure-webhooks"),
        ("https://127.0.0.1/hook", ["--allow-insecure-webhooks"], "loopback"),
        ("https://localhost:8443/hook", [], "localhost"),
        ("https://10.1.2.3/hook", [], "private"),
        ("https://192.168.0.9/hook", [], "private"),
        ("https://169.254.169.254/latest/meta-data", [], "link-local (cloud metadata)"),
        ("https://[::1]/hook", [], "IPv6 loopback"),
        ("https://[fd00::1]/hook", [], "IPv6 private"),
        ("https://224.0.0.1/hook", [], "multicast"),
        ("ftp://example.com/hook", [], "another scheme"),
    ]:
        result = subprocess.run(
            [options.binary, "admin", "webhook", "create", "--organization-type", "network", "--id",
             str(world.network), "--url", url, "--database", database, *key_flags, *flags],
            capture_output=True, text=True)
        check(result.returncode != 0 and result.stderr.startswith("cip: --url"),
              f"{reason}: refused ({result.stderr.strip()})")
    check(len(world.webhooks()) == 0, "nothing was stored for a refused webhook")

    hooks = {}
    for name, flags in [("ok", []), ("flaky", []), ("gone", []), ("dead", []), ("ssrf", []),
                        ("ended-only", ["--event", "call_ended"]), ("advertiser", [])]:
        organization = ("advertiser", world.advertisers[1]) if name == "advertiser" else None
        created = world.webhook(receiver.url(name), *key_flags, *flags, organization=organization)
        hooks[name] = created
        receiver.secrets[name] = created["secret"]
    hooks["dead"] = None
    dead_port = free_port()
    created = world.webhook(f"http://127.0.0.1:{dead_port}/dead", *key_flags)
    hooks["dead"] = created
    check(all(hook["secret"].startswith("whsec_") for hook in hooks.values()), "each secret is shown as whsec_...")
    listed = world.webhooks()
    check(all("secret" not in hook for hook in listed.values()), "webhook list never shows a secret")
    check(all(hook["state"] == "active" and hook["pending"] == 0 for hook in listed.values()),
          "new webhooks are active with nothing pending")
    if database.startswith("postgres"):
        stored = subprocess.run(["pg_dump", "--data-only", database], capture_output=True, check=True).stdout
    else:
        with open(database, "rb") as raw:
            stored = raw.read()
    check(not any(hook["secret"].encode() in stored or hook["secret"][6:].encode() in stored
                  for hook in hooks.values()), "no secret is in the database file as written")

    # The first change it is sent fails three times (the first attempt and two retries), then succeeds.
    receiver.behaviours["flaky"] = lambda entries, sequence: (
        500 if (not entries or entries[0]["sequence"] == sequence) and sum(e["status"] == 500 for e in entries) < 3
        else 200)
    receiver.behaviours["gone"] = lambda entries, sequence: 410

    # The SSRF webhook was made with --allow-private-webhook-targets; this server does not allow them
    # for it: it is served by a second server without the flag, later. Here every server allows them.
    server = Server(options.binary, database, ["--allow-private-webhook-targets", "--webhook-first-retry", "1s",
                                               "--webhook-retry-limit", "6s", *key_flags])
    del hooks["ssrf"]
    world_ssrf = listed[[h for h in listed.values() if h["url"].endswith("/ssrf")][0]["id"]]
    subprocess.run([options.binary, "admin", "webhook", "disable", "--id", str(world_ssrf["id"]), "--database",
                    database], check=True, capture_output=True)
    server.start()
    before = time.time()
    ids = world.traffic(server.base, 20, updates=2, advertiser=0) + world.traffic(server.base, 10, updates=1, advertiser=1)
    changes = log_changes(database, world.network)
    expected = {sequence for sequence, _ in changes}
    print(f"== deliveries ({len(changes)} changes in the log for the network, {len(ids)} calls)")
    check(wait_for(lambda: {e["sequence"] for e in receiver.acknowledged("ok")} >= expected, 20),
          f"every change of the log reached the webhook ({len({e['sequence'] for e in receiver.acknowledged('ok')})}"
          f" of {len(expected)})")
    ok = receiver.entries("ok")
    check(receiver.bad_signatures == 0, f"every signature verifies with standardwebhooks ({len(receiver.ledger)} requests)")
    check(all(e["id"] == f"msg_{hooks['ok']['id']}_{e['sequence']}" for e in ok), "webhook-id names the webhook and change")
    check(in_call_order(ok), "each call's changes arrived in sequence order")
    first = ok[0]["body"] if ok else {}
    check(set(first) == {"sequence", "type", "call", "changed"} and "transaction_id" in first.get("call", {}),
          "the body is the stream's data object")
    latencies = sorted(e["at"] for e in ok)
    print(f"      (first delivery {latencies[0] - before:.2f} s after the traffic began)" if latencies else "")

    check(wait_for(lambda: {e["sequence"] for e in receiver.acknowledged("flaky")} >= expected, 30),
          "the receiver that failed 3 times got every change in the end")
    flaky = receiver.entries("flaky")
    acknowledged = [e["sequence"] for e in receiver.acknowledged("flaky")]
    check(len(acknowledged) == len(set(acknowledged)),
          f"each change was acknowledged once ({len(acknowledged)} acknowledgements, {len(set(acknowledged))} changes)")
    check(sum(1 for e in flaky if e["status"] == 500) == 3, "it was answered 500 three times")
    check(in_call_order([e for e in flaky if e["status"] == 200]), "acknowledged in each call's sequence order")
    retried = [e for e in flaky if e["sequence"] == flaky[0]["sequence"]]
    gaps = [b["at"] - a["at"] for a, b in zip(retried, retried[1:])]
    # Nominal delays 1, 2 and 4 s here (--webhook-first-retry 1s), each within ±20 % jitter.
    check(len(gaps) == 3 and gaps[0] >= 0.7 and gaps[1] >= 1.5 and gaps[2] >= 3.0 and gaps[2] > 2 * gaps[0],
          f"retries back off ({', '.join(f'{g:.1f}' for g in gaps)} s apart; nominally 1, 2, 4 s here)")
    check(len({e["id"] for e in retried}) == 1, "a retry carries the same webhook-id")

    ended = receiver.entries("ended-only")
    check(wait_for(lambda: len({e["sequence"] for e in receiver.acknowledged("ended-only")}) == len(ids), 15)
          and all(e["type"] == "call_ended" for e in ended), f"--event call_ended gets only the {len(ids)} ends")
    advertiser_changes = {s for s, tid in changes if tid in ids[20:]}
    check(wait_for(lambda: {e["sequence"] for e in receiver.acknowledged("advertiser")} == advertiser_changes, 15),
          "an advertiser's webhook gets its own calls' changes and no other's")

    check(wait_for(lambda: world.webhooks()[hooks["gone"]["id"]]["state"] == "disabled", 10),
          "410 disables the webhook")
    gone = world.webhooks()[hooks["gone"]["id"]]
    # At once: only requests already in flight together with the first (at most 8) reached it.
    sent = [entry["at"] for entry in receiver.entries("gone")]
    check("410" in (gone["last_error"] or "") and len(sent) <= 8 and max(sent) - min(sent) < 1,
          f"at once, saying why ({gone['last_error']!r}; {len(sent)} request(s), all in the first round)")
    check(wait_for(lambda: world.webhooks()[hooks["dead"]["id"]]["state"] == "disabled", 20),
          "a webhook failing past the retry limit (6 s here) is disabled")
    dead = world.webhooks()[hooks["dead"]["id"]]
    check("failing since" in (dead["last_error"] or "") and dead["pending"] > 0,
          f"with the reason and what it missed in webhook list ({dead['last_error']!r}, pending {dead['pending']})")
    listed = world.webhooks()
    okay = listed[hooks["ok"]["id"]]
    check(okay["state"] == "active" and okay["pending"] == 0 and okay["last_delivery_at"],
          f"webhook list: the healthy one active, nothing pending, last delivery {okay['last_delivery_at']}")

    print("== disable and enable")
    subprocess.run([options.binary, "admin", "webhook", "disable", "--id", str(hooks["ok"]["id"]), "--database",
                    database], check=True, capture_output=True)
    time.sleep(1.5)
    count = len(receiver.entries("ok"))
    more = world.traffic(server.base, 3, updates=0)
    time.sleep(2)
    check(len(receiver.entries("ok")) == count, "a disabled webhook is given nothing (within a second of disable)")
    check(world.webhooks()[hooks["ok"]["id"]]["pending"] == 6, "and says what it has pending (6)")
    enabled = json.loads(subprocess.run(
        [options.binary, "admin", "webhook", "enable", "--id", str(hooks["ok"]["id"]), "--database", database],
        check=True, capture_output=True, text=True).stdout)
    check(enabled["state"] == "active" and enabled["skipped"] == 0, "enable: active again, nothing skipped")
    latest = {s for s, tid in log_changes(database, world.network) if tid in more}
    check(wait_for(lambda: {e["sequence"] for e in receiver.acknowledged("ok")} >= latest, 10),
          "it resumes after the last change it was given")

    print("== graceful restart")
    flags = server.extra
    server.kill(signal.SIGTERM)
    server = Server(options.binary, database, flags)
    server.start()
    after_restart = world.traffic(server.base, 1, updates=0)
    # The stopped server gave its leases up: the new one delivers at once, not once they expire (15 s).
    restart_changes = {s for s, tid in log_changes(database, world.network) if tid in after_restart}
    check(wait_for(lambda: {e["sequence"] for e in receiver.acknowledged("ok")} >= restart_changes, 3),
          "after a graceful restart the webhooks are delivered at once (the old leases were released)")

    print("== a node whose key file does not open the secrets")
    server.kill(signal.SIGTERM)
    other_key = os.path.join(scratch_folder("cip-webhook-key-"), "key")
    with open(other_key, "w") as key:
        key.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    wrong = Server(options.binary, database, ["--allow-private-webhook-targets", "--webhook-key-file", other_key])
    wrong.start()
    count = len(receiver.entries("ok"))
    world.traffic(wrong.base, 1, updates=0)
    check(wait_for(lambda: "key file" in (world.webhooks()[hooks["ok"]["id"]]["last_error"] or ""), 5),
          f"webhook list says why: {world.webhooks()[hooks['ok']['id']]['last_error']!r}")
    check(len(receiver.entries("ok")) == count, "and nothing unsigned or wrongly signed was sent")
    wrong.kill(signal.SIGTERM)
    server = Server(options.binary, database, flags)
    server.start()

    print("== refused at delivery (after resolving the name)")
    server.kill(signal.SIGTERM)
    strict = Server(options.binary, database, ["--webhook-first-retry", "1s", *key_flags])
    subprocess.run([options.binary, "admin", "webhook", "enable", "--id", str(world_ssrf["id"]), "--database",
                    database], check=True, capture_output=True)
    strict.start()
    check(wait_for(lambda: "refused" in (world.webhooks()[world_ssrf["id"]]["last_error"] or ""), 10),
          f"a server without --allow-private-webhook-targets refuses a loopback target: "
          f"{world.webhooks()[world_ssrf['id']]['last_error']!r}")
    check(not receiver.entries("ssrf"), "and sends it nothing")
    metrics = urllib.request.urlopen(strict.base + "/metrics").read().decode()
    check("cip_webhook_deliveries_total" in metrics and "cip_webhook_lag_seconds" in metrics
          and "cip_webhook_retries_total" in metrics, "/metrics has deliveries, retries and lag")
    strict.kill(signal.SIGTERM)
    with open(server.log.name) as log:
        text = log.read()
    check(not any(hook["secret"] in text for hook in hooks.values()), "no secret is in the server's log")


def key_flags_for(database, folder):
    """PostgreSQL needs an explicit key file (the same for every node); SQLite uses the default one."""
    if not database.startswith("postgres"):
        return []
    path = os.path.join(folder, "key")
    with open(path, "w") as key:
        key.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    return ["--webhook-key-file", path]


def run_crash(options):
    """kill -9 while webhooks receive: the ledger must hold every change of the log, none missing."""
    folder, database, key_flags, world = setup(options, "crash")
    receiver = Receiver()
    hook = world.webhook(receiver.url("ledger"), *key_flags)
    receiver.secrets["ledger"] = hook["secret"]
    first_sequence = hook["delivered_through"]
    flags = ["--allow-private-webhook-targets", "--webhook-first-retry", "1s", *key_flags]
    nodes = [Server(options.binary, database, flags) for _ in range(2 if database.startswith("postgres") else 1)]
    for node in nodes:
        node.start()
    stop = threading.Event()
    sent = [0]

    def traffic():
        while not stop.is_set():
            node = random.choice(nodes)
            try:
                world.traffic(node.base, 1, updates=random.randint(0, 2), advertiser=random.randint(0, 1))
                sent[0] += 1
            except Exception:
                time.sleep(0.05)

    threads = [threading.Thread(target=traffic, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    kills = 0
    for _ in range(options.kills):
        time.sleep(random.uniform(1.0, 3.0))
        victim = random.choice(nodes)
        victim.kill(signal.SIGKILL)
        kills += 1
        time.sleep(random.uniform(0.1, 1.0))
        victim.start()
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join()
    expected = {sequence for sequence, _ in log_changes(database, world.network, after=first_sequence)}
    # A node killed while holding the lease keeps it until it expires (15 s): the other node, or the
    # restarted one, takes over then.
    complete = wait_for(lambda: {e["sequence"] for e in receiver.acknowledged("ledger")} >= expected, 90)
    acknowledged = [e["sequence"] for e in receiver.acknowledged("ledger")]
    missing = expected - set(acknowledged)
    duplicates = len(acknowledged) - len(set(acknowledged))
    print(f"crash {'sqlite' if len(nodes) == 1 else 'pg-node'}: {kills} kill -9, {sent[0]} calls, {len(expected)} changes "
          f"in the log, {len(set(acknowledged))} delivered, missing {len(missing)}, duplicates {duplicates}, "
          f"bad signatures {receiver.bad_signatures}")
    check(complete and not missing, f"every change of the log reached the receiver (missing: {sorted(missing)[:10]})")
    check(receiver.bad_signatures == 0, "every delivery's signature verifies")
    check(in_call_order(receiver.acknowledged("ledger")), "each call's changes were first delivered in sequence order")
    if len(nodes) == 2:
        # One node dies for good, then the other: whichever held the webhook's lease, one of the two
        # deaths is the holder's, and the survivor must take the webhook over once the lease expires.
        for victim, survivor in [(nodes[0], nodes[1]), (nodes[1], nodes[0])]:
            victim.kill(signal.SIGKILL)
            began = time.time()
            ids = world.traffic(survivor.base, 5, updates=1)
            wanted = {s for s, tid in log_changes(database, world.network, after=first_sequence) if tid in ids}
            delivered = wait_for(lambda: {e["sequence"] for e in receiver.acknowledged("ledger")} >= wanted, 60)
            check(delivered, f"with one node dead, the other delivers ({time.time() - began:.1f} s; the lease lasts 15 s)")
            victim.start()
    for node in nodes:
        node.kill(signal.SIGTERM)


def run_throughput(options):
    """Deliveries per second to a local receiver: a backlog of bridged calls, drained by one node."""
    import bench
    folder, database, key_flags, world = setup(options, "throughput")
    receiver = Receiver(keep_bodies=False)
    # The ledger grows by a dict per delivery; the cyclic collector walking it would slow the receiver.
    gc.disable()
    server = Server(options.binary, database, ["--allow-private-webhook-targets", *key_flags], log_level="warning")
    server.start()
    rates = []
    for round_ in range(options.rounds):
        name = f"fast{round_}"
        hook = world.webhook(receiver.url(name), *key_flags)
        receiver.secrets[name] = hook["secret"]
        # The backlog builds while the webhook is disabled; enabling it starts the drain.
        subprocess.run([options.binary, "admin", "webhook", "disable", "--id", str(hook["id"]), "--database",
                        database], check=True, capture_output=True)
        bench.load_calls(server.port, world.telephony, world.network, world.advertisers, options.changes,
                         first_call=round_ * options.changes)
        subprocess.run([options.binary, "admin", "webhook", "enable", "--id", str(hook["id"]), "--database",
                        database], check=True, capture_output=True)
        check(wait_for(lambda: receiver.acknowledged_counts.get(name, 0) >= options.changes, 300),
              f"round {round_ + 1}: the backlog of {options.changes:,} changes was delivered")
        arrivals = sorted(entry["at"] for entry in receiver.acknowledged(name))
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        rates.append(rate)
        print(f"      round {round_ + 1}: {rate:,.0f} deliveries/s", flush=True)
        # Deleted, so that the next round's backlog is this round's webhook's alone.
        subprocess.run([options.binary, "admin", "webhook", "delete", "--id", str(hook["id"]), "--database",
                        database], check=True, capture_output=True)
    check(receiver.bad_signatures == 0, "every delivery's signature verifies")
    backend = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    print(f"throughput {backend}: median {statistics.median(rates):,.0f} deliveries/s "
          f"(min {min(rates):,.0f}, max {max(rates):,.0f}; {options.rounds} rounds of {options.changes:,} changes, "
          f"one node, receiver on loopback verifying each signature)")
    server.kill(signal.SIGTERM)


def run_isolation(options):
    """The fast endpoint's delivery latency and the API's route ratio, alternating phases without and
    with two bad endpoints beside it: one that never answers, one that answers in 5 s."""
    import bench
    folder, database, key_flags, world = setup(options, "isolation")
    receiver = Receiver(keep_bodies=False)
    receiver.behaviours["never"] = lambda entries, sequence: None
    receiver.behaviours["slow"] = lambda entries, sequence: (5, 200)
    hooks = {}
    for name in ["fast", "never", "slow"]:
        hooks[name] = world.webhook(receiver.url(name), *key_flags)
        receiver.secrets[name] = hooks[name]["secret"]
    server = Server(options.binary, database, ["--allow-private-webhook-targets", *key_flags], log_level="warning")
    server.start()
    bench.load_calls(server.port, world.telephony, world.network, world.advertisers, 1000)
    script = bench.lua_script(folder, "by_id", "GET", f'"{API}/calls_in_progress/current_calls.json?id={world.network}'
                              f'&organization_type=network&transaction_id=B" .. string.format("%07d", i)', 0, 999,
                              world.org)
    put = bench.lua_script(folder, "put", "PUT", f'"{API}/calls_in_progress.json?id={world.network}'
                           f'&organization_type=network&transaction_id=B" .. string.format("%07d", i)', 0, 999,
                           world.org, body={"call_in_progress": {"custom_data": [{"name": "Stage", "value": "x"}]}})
    sent = {}
    stop = threading.Event()

    def traffic():
        # About 20 calls a second, each bridged, updated and ended in one request (3 changes).
        while not stop.is_set():
            began = time.time()
            tid = f"W{os.getpid()}-{world.calls + 1}"
            sent[tid] = began
            try:
                world.traffic(server.base, 1, updates=1)
            except Exception:
                pass
            time.sleep(max(0, 0.05 - (time.time() - began)))

    def set_bad(enabled):
        for name in ["never", "slow"]:
            subprocess.run([options.binary, "admin", "webhook", "enable" if enabled else "disable", "--id",
                            str(hooks[name]["id"]), "--database", database], check=True, capture_output=True)
        time.sleep(1.5)  # picked up within a second

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    results = {bad: {"latency": [], "ratio": [], "put": []} for bad in [False, True]}
    for round_ in range(options.rounds):
        for bad in [False, True]:
            set_bad(bad)
            began = time.time()
            for _ in range(3):
                floor = bench.run_wrk(server.port, 3)
                measured = bench.run_wrk(server.port, 3, script)
                results[bad]["ratio"].append(measured["rps"] / floor["rps"])
                floor = bench.run_wrk(server.port, 3)
                measured = bench.run_wrk(server.port, 3, put)
                results[bad]["put"].append(measured["rps"] / floor["rps"])
            time.sleep(2)
            latencies = [entry["at"] - sent[entry["call"]] for entry in receiver.entries("fast")
                         if entry["type"] == "call_bridged" and entry["call"] in sent and sent[entry["call"]] >= began]
            results[bad]["latency"] += latencies
            print(f"      round {round_ + 1}, {'with' if bad else 'without'} the bad endpoints: "
                  f"fast p50 {statistics.median(latencies) * 1000:.1f} ms over {len(latencies)} calls, "
                  f"GET by id ratio {statistics.median(results[bad]['ratio'][-3:]):.2f}, "
                  f"PUT ratio {statistics.median(results[bad]['put'][-3:]):.2f}", flush=True)
    stop.set()
    thread.join()
    set_bad(False)

    def summary(bad):
        latency = sorted(results[bad]["latency"])
        p95 = latency[int(len(latency) * 0.95)]
        return (statistics.median(latency) * 1000, p95 * 1000, statistics.median(results[bad]["ratio"]),
                statistics.median(results[bad]["put"]))

    base, worse = summary(False), summary(True)
    never, slow = receiver.entries("never"), receiver.entries("slow")
    print(f"isolation: without the bad endpoints fast p50 {base[0]:.1f} ms, p95 {base[1]:.1f} ms, GET ratio {base[2]:.2f}, "
          f"PUT ratio {base[3]:.2f}; with them p50 {worse[0]:.1f} ms, p95 {worse[1]:.1f} ms, GET ratio {worse[2]:.2f}, "
          f"PUT ratio {worse[3]:.2f} "
          f"(the bad endpoints got {len(never)} and {len(slow)} requests)")
    check(len(never) > 0 and len(slow) > 0, "the bad endpoints were being called")
    check(worse[0] <= base[0] * 1.10 + 1.0, "the fast endpoint's median latency is within 10 % (or 1 ms)")
    check(worse[2] >= base[2] * 0.90, "the API's GET ratio is within 10 %")
    check(worse[3] >= base[3] * 0.90, "the API's PUT ratio is within 10 %")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="checks", choices=["checks", "crash", "isolation", "throughput"])
    parser.add_argument("--binary", default=".build/debug/cip")
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a new database is made on it (SQLite otherwise)")
    parser.add_argument("--kills", type=int, default=6, help="crash: how many kill -9")
    parser.add_argument("--changes", type=int, default=20_000, help="throughput: the backlog per round")
    parser.add_argument("--rounds", type=int, default=5, help="throughput, isolation: rounds")
    options = parser.parse_args()
    options.database = None
    if options.postgres:
        name = f"cip_webhooks_{os.getpid()}_{random.randint(0, 10**6)}"
        subprocess.run(["psql", "-q", options.postgres, "-c", f"CREATE DATABASE {name}"], check=True)
        options.database = options.postgres.rsplit("/", 1)[0] + "/" + name
    modes = {"checks": run_checks, "crash": run_crash, "throughput": run_throughput, "isolation": run_isolation}
    modes[options.mode](options)
    print(f"webhooks: {'every check passed' if not FAILURES else f'{len(FAILURES)} FAILED'}")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
