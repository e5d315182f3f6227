#!/usr/bin/env python3
"""The crash campaign: mixed load with a client-side ledger, `kill -9` at random moments, and proof
that every acknowledged write survived (issue 9, item 12).

Modes:
  sqlite     one `cip serve` on an SQLite file; the server is killed and restarted.
  pg-node    two `cip serve` nodes on one PostgreSQL; one of them, chosen at random, is killed and
             restarted while the client keeps using both.
  pg-server  one node on PostgreSQL; PostgreSQL's postmaster is killed and restarted, the node
             rides it out in the same process.

The load: calls bridged, updated (custom data through the feed), written on (external id and custom
data through PUT) and ended, each write with a value of its own. A write the service acknowledged
(a 200, or an event result "applied"/"duplicate") must be there afterwards; a write that got no
answer may be there or not. After the last kill the ledger is checked against the API (live calls)
and against `cip admin calls export` (ended calls). Prints one line of figures; exits 1 on any loss.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from cip_harness import admin, call_api, free_port, log_tail, scratch_folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = "/api/2022-08-01"
FIELDS = ["F1", "F2", "F3"]


class Node:
    def __init__(self, binary, database, log, arguments=()):
        self.binary, self.database, self.log, self.arguments = binary, database, log, list(arguments)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--database", self.database, "--log-level", "warning"]
            + self.arguments,
            stdout=self.log, stderr=self.log)

    def wait_ready(self, limit=60):
        deadline = time.time() + limit
        while time.time() < deadline:
            status, _ = call_api(self.base, "GET", "/ready", "", timeout=1)
            if status == 200:
                return True
            if self.process.poll() is not None:
                # A node may start while PostgreSQL is still coming up; start it again.
                self.start()
            time.sleep(0.05)
        return False

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


class Postgres:
    """A cluster of scripts/postgres whose postmaster this campaign kills."""

    def __init__(self, name, port):
        self.name, self.port = name, port
        self.url = f"postgres://cip@127.0.0.1:{port}/postgres"
        if not self.ready():
            result = subprocess.run(["bash", os.path.join(ROOT, "scripts/postgres"), "start", name, str(port)],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"crash: PostgreSQL cluster {name} did not start:\n{result.stderr}")

    def kill(self):
        root = os.environ.get("CIP_PG_ROOT", "/tmp") + f"/cip-pg-{self.name}/data/postmaster.pid"
        with open(root) as pid_file:
            os.kill(int(pid_file.readline()), signal.SIGKILL)
        time.sleep(0.2)

    def restart(self):
        # The killed postmaster's children may linger a moment; start waits until it can.
        for _ in range(50):
            result = subprocess.run(["bash", os.path.join(ROOT, "scripts/postgres"), "start", self.name, str(self.port)],
                                    capture_output=True, text=True)
            if result.returncode == 0 and self.ready():
                return
            time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not come back")

    def ready(self):
        return subprocess.run(["psql", self.url, "-Atc", "SELECT 1"], capture_output=True).returncode == 0


class Ledger:
    """What the client knows of each call: what was acknowledged, and what may have been applied."""

    def __init__(self):
        self.calls = {}

    def new_call(self, transaction_id):
        self.calls[transaction_id] = {"bridged": False, "ended": None, "fields": {}, "external": None}

    @staticmethod
    def record(slot, value, acknowledged):
        # slot: {"acked": value or None, "maybe": [values sent since, without an answer]}
        if acknowledged:
            slot["acked"], slot["maybe"] = value, []
        else:
            slot["maybe"].append(value)

    def field(self, transaction_id, name):
        return self.calls[transaction_id]["fields"].setdefault(name, {"acked": None, "maybe": []})

    def external(self, transaction_id):
        call = self.calls[transaction_id]
        if call["external"] is None:
            call["external"] = {"acked": None, "maybe": []}
        return call["external"]


class Load:
    def __init__(self, nodes, telephony, token, network, run):
        self.nodes, self.telephony, self.token, self.network, self.run = nodes, telephony, token, network, run
        self.ledger = Ledger()
        self.live = []
        self.counter = 0
        self.clock = 1_700_000_000_000
        self.acknowledged = 0
        self.unanswered = 0
        # How long each 503 took: during an outage the node must answer at once, not wait.
        self.unavailable_ms = []

    def send(self, method, path, token, body):
        started = time.perf_counter()
        status, answer = call_api(self.node(), method, path, token, body)
        if status == 503:
            self.unavailable_ms.append((time.perf_counter() - started) * 1000)
        return status, answer

    def node(self):
        return random.choice(self.nodes).base

    def tick(self):
        self.clock += 1
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.clock // 1000)) + f".{self.clock % 1000:03d}Z"

    def value(self):
        self.counter += 1
        return f"v{self.run}-{self.counter}"

    def feed(self, events):
        status, body = self.send("POST", f"{API}/telephony/call_events.json", self.telephony, {"events": events})
        if status != 200:
            self.unanswered += 1
            return [None] * len(events)
        self.acknowledged += 1
        return [result["status"] for result in body["results"]]

    def bridge(self):
        transaction_id = f"K{self.run}-{self.counter}"
        self.counter += 1
        self.ledger.new_call(transaction_id)
        event = {"event": "call_bridged", "transaction_id": transaction_id, "network_id": self.network,
                 "occurred_at": self.tick(), "calling_phone_number": f"+1530{2000000 + self.counter % 7000000:07d}",
                 "destination_phone_number": "+18555595599"}
        # A call is used only once its bridge is acknowledged; resending the same event is safe.
        for _ in range(100):
            if self.feed([event])[0] in ("applied", "duplicate"):
                self.ledger.calls[transaction_id]["bridged"] = True
                self.live.append(transaction_id)
                return
            time.sleep(0.05)

    def update_event(self, transaction_id):
        name, value = random.choice(FIELDS[:2]), self.value()
        event = {"event": "call_updated", "transaction_id": transaction_id, "network_id": self.network,
                 "occurred_at": self.tick(), "custom_data": [{"name": name, "value": value, "source": "Crash"}]}
        result = self.feed([event])[0]
        Ledger.record(self.ledger.field(transaction_id, name), value, result in ("applied", "duplicate"))

    def put(self, transaction_id):
        value, external = self.value(), f"X-{self.value()}"
        body = {"call_in_progress": {"external_unique_id": external, "custom_data": [{"name": "F3", "value": value}]}}
        status, _ = self.send("PUT", f"{API}/calls_in_progress.json?id={self.network}&organization_type=network"
                              f"&transaction_id={transaction_id}", self.token, body)
        acknowledged = status == 200
        if acknowledged:
            self.acknowledged += 1
        elif status is None or status >= 500:
            self.unanswered += 1
        else:
            raise RuntimeError(f"PUT answered {status}")
        Ledger.record(self.ledger.field(transaction_id, "F3"), value, acknowledged)
        Ledger.record(self.ledger.external(transaction_id), external, acknowledged)

    def end(self, transaction_id):
        event = {"event": "call_ended", "transaction_id": transaction_id, "network_id": self.network, "occurred_at": self.tick()}
        result = self.feed([event])[0]
        self.ledger.calls[transaction_id]["ended"] = "acked" if result in ("applied", "duplicate") else "maybe"
        self.live.remove(transaction_id)

    def step(self):
        if len(self.live) < 30 or random.random() < 0.1:
            self.bridge()
            return
        transaction_id = random.choice(self.live)
        roll = random.random()
        if roll < 0.4:
            self.update_event(transaction_id)
        elif roll < 0.8:
            self.put(transaction_id)
        else:
            self.end(transaction_id)


def observe(load, binary, database, base):
    """The live calls as the API lists them, then the ended calls as the export writes them."""
    status, listed = call_api(base, "GET", f"{API}/calls_in_progress/current_calls.json?id={load.network}&organization_type=network",
                              load.token, timeout=30)
    if status != 200:
        return None, f"listing answered {status}"
    live = {call["transaction_id"]: call for call in listed["current_calls"]}
    export = subprocess.run([binary, "admin", "calls", "export", "--network", str(load.network), "--database", database],
                            check=True, capture_output=True, text=True).stdout
    ended = {}
    for line in export.splitlines():
        call = json.loads(line)
        ended[call["transaction_id"]] = call
    return (live, ended), None


def check(load, live, ended):
    """The problems, and the calls listed live and exported ended whose end got no answer."""
    problems, unsettled = [], []

    def allowed(slot):
        values = set(slot["maybe"])
        values.add(slot["acked"])
        return values

    for transaction_id, state in load.ledger.calls.items():
        if not state["bridged"]:
            continue
        if transaction_id in live and transaction_id in ended:
            if state["ended"] == "acked":
                problems.append(f"{transaction_id}: acknowledged end not shown (listed live, exported ended)")
            else:
                unsettled.append(transaction_id)
            continue
        found = live.get(transaction_id) or ended.get(transaction_id)
        if found is None:
            problems.append(f"{transaction_id}: acknowledged bridge lost")
            continue
        if state["ended"] == "acked" and transaction_id in live:
            problems.append(f"{transaction_id}: acknowledged end lost")
        if state["ended"] is None and transaction_id in ended:
            problems.append(f"{transaction_id}: ended without an end")
        for name, slot in state["fields"].items():
            stored = found["custom_data"].get(name, {}).get("value")
            if stored not in allowed(slot):
                problems.append(f"{transaction_id}: {name} is {stored!r}, acknowledged {slot['acked']!r}")
        if state["external"] is not None and found["external_unique_id"] not in allowed(state["external"]):
            problems.append(f"{transaction_id}: external id is {found['external_unique_id']!r}, acknowledged {state['external']['acked']!r}")
    return problems, unsettled


def verify(load, binary, database, base):
    """Every acknowledged write is there, on the API and in the export; returns the problems.

    An end sent without an answer may still be on its way when the load stops: the client gave up on
    it, and the server finishes it later, or it is committed and not yet numbered into the change log,
    which a node reading from memory applies only once numbered. Until then the export (the database)
    may have the call ended while the listing (memory) has it live. Such a call is looked at again
    until both agree, for up to 30 s; an acknowledged end is a problem at once.
    """
    deadline = time.time() + 30
    while True:
        state, failure = observe(load, binary, database, base)
        if failure:
            return [failure]
        problems, unsettled = check(load, *state)
        if not unsettled:
            return problems
        if time.time() >= deadline:
            return problems + [f"{transaction_id} is both live and ended 30 s after the load stopped "
                               f"(its end got no answer)" for transaction_id in unsettled]
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["sqlite", "pg-node", "pg-server"])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/cip"))
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--postgres-port", type=int, default=25440, help="pg-node and pg-server: the campaign's own cluster")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--database-reads", action="store_true",
                        help="pg-node and pg-server: serve with --no-postgres-memory-reads")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)

    folder = scratch_folder("cip-crash-")
    log = open(os.path.join(folder, "serve.log"), "w")
    cluster = None
    if args.mode == "sqlite":
        database = os.path.join(folder, "cip.sqlite")
    else:
        cluster = Postgres(f"crash-{args.postgres_port}", args.postgres_port)
        name = f"cip_crash_{int(time.time() * 1000)}"
        subprocess.run(["psql", "-q", cluster.url, "-c", f"CREATE DATABASE {name}"], check=True)
        database = cluster.url.rsplit("/", 1)[0] + "/" + name
    network = admin(args.binary, database, "network", "create", "--name", "Crash")["id"]
    for field in FIELDS:
        admin(args.binary, database, "field", "create", "--network", str(network), "--name", field, "--type", "short-text")
    token = admin(args.binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    telephony = admin(args.binary, database, "token", "create", "--telephony")["token"]

    arguments = ["--no-postgres-memory-reads"] if args.database_reads else []
    nodes = [Node(args.binary, database, log, arguments) for _ in range(2 if args.mode == "pg-node" else 1)]
    for node in nodes:
        node.start()
    for node in nodes:
        if not node.wait_ready():
            sys.exit(f"crash: cip serve did not start; its log ends:\n{log_tail(log.name)}")
    load = Load(nodes, telephony, token, network, seed % 100000)
    started = time.time()
    recoveries = []
    # The load runs in a thread of its own, so kills land while requests are in flight.
    stop = threading.Event()
    failure = []

    def drive():
        try:
            while not stop.is_set():
                load.step()
        except Exception as error:
            failure.append(error)

    driver = threading.Thread(target=drive)
    driver.start()
    try:
        for _ in range(args.kills):
            time.sleep(random.uniform(0.2, 1.5))
            if args.mode == "pg-server":
                cluster.kill()
                time.sleep(random.uniform(0, 0.5))
                cluster.restart()
                back = time.time()
                if not nodes[0].wait_ready():
                    sys.exit("crash: the node did not recover after PostgreSQL came back")
                recoveries.append(time.time() - back)
            else:
                victim = random.choice(nodes)
                victim.kill()
                # With two nodes, the load goes on through the other one while this one is down.
                time.sleep(random.uniform(0, 0.3))
                victim.start()
                back = time.time()
                if not victim.wait_ready():
                    sys.exit(f"crash: cip serve did not restart; its log ends:\n{log_tail(log.name)}")
                recoveries.append(time.time() - back)
        time.sleep(0.5)
        stop.set()
        driver.join()
        if failure:
            raise failure[0]
        problems = verify(load, args.binary, database, nodes[0].base)
    finally:
        stop.set()
        for node in nodes:
            if node.process and node.process.poll() is None:
                node.process.terminate()
                node.process.wait(timeout=30)
    calls = sum(1 for state in load.ledger.calls.values() if state["bridged"])
    recoveries.sort()
    median = recoveries[len(recoveries) // 2] if recoveries else 0
    print(f"crash {args.mode}: {args.kills} kills in {time.time() - started:.0f} s (seed {seed}); "
          f"{load.acknowledged} acknowledged writes, {load.unanswered} unanswered, {calls} calls; "
          f"back to ready after a kill: median {median:.2f} s, worst {max(recoveries, default=0):.2f} s; "
          f"lost acknowledged writes: {len(problems)}")
    if load.unavailable_ms:
        waits = sorted(load.unavailable_ms)
        print(f"  503 answers: {len(waits)}, p50 {waits[len(waits) // 2]:.1f} ms, p99 {waits[int(len(waits) * 0.99)]:.1f} ms, "
              f"slowest {waits[-1]:.1f} ms, {sum(1 for w in waits if w >= 100)} at 100 ms or more")
    for problem in problems[:20]:
        print("  " + problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
