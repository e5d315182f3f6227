#!/usr/bin/env python3
"""Runs schemathesis (every check, positive and negative data, the stateful phase through the
links of openapi.yaml) against a live `cip serve` on a seeded database: an SQLite file, or a new
database on the PostgreSQL server of --postgres. Exits non-zero on any finding.
"""
import argparse
import json
import os
import subprocess
import sys
import urllib.request
import uuid

from cip_harness import admin, free_port, log_tail, scratch_folder, wait_until_up

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def seed(binary, database):
    """Network 1 with an advertiser, the fields openapi.yaml's examples name, tokens and live calls."""
    network = admin(binary, database, "network", "create", "--name", "Fuzz")["id"]
    advertiser = admin(binary, database, "advertiser", "create", "--network", str(network), "--name", "A")["id"]
    for name, kind in [("Disposition", "short-text"), ("Qualified", "signal"), ("Notes", "long-text")]:
        admin(binary, database, "field", "create", "--network", str(network), "--name", name, "--type", kind)
    admin(binary, database, "field", "create", "--network", str(network), "--name", "Stage", "--type", "category",
          "--allowed-value", "New", "--allowed-value", "Won")
    token = admin(binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    telephony = admin(binary, database, "token", "create", "--telephony")["token"]
    administrator = admin(binary, database, "token", "create", "--admin")["token"]
    return network, advertiser, token, telephony, administrator


def bridge_calls(base, telephony, network, advertiser, count=20):
    events = [{"event": "call_bridged", "transaction_id": f"SEED-{i}", "network_id": network, "advertiser_id": advertiser,
               "occurred_at": "2022-12-10T13:00:00.000Z", "calling_phone_number": f"530-999-{1000 + i}",
               "destination_phone_number": "855-559-5599"} for i in range(count)]
    request = urllib.request.Request(f"{base}/api/2022-08-01/telephony/call_events.json", method="POST",
                                     data=json.dumps({"events": events}).encode(),
                                     headers={"Authorization": telephony, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/cip"))
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a new database is made on it")
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--report", help="write schemathesis's JSON report here")
    args = parser.parse_args()

    folder = scratch_folder("cip-fuzz-")
    if args.postgres:
        name = "cip_fuzz_" + uuid.uuid4().hex
        subprocess.run(["psql", "-q", args.postgres, "-c", f"CREATE DATABASE {name}"], check=True)
        database = args.postgres.rsplit("/", 1)[0] + "/" + name
    else:
        database = os.path.join(folder, "cip.sqlite")
    network, advertiser, token, telephony, administrator = seed(args.binary, database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(folder, "serve.log")
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--database", database, "--log-level", "notice"],
                              stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    try:
        wait_until_up(base)
        bridge_calls(base, telephony, network, advertiser)
        environment = dict(os.environ, CIP_FUZZ_TOKEN=token, CIP_FUZZ_TELEPHONY_TOKEN=telephony,
                           CIP_FUZZ_ADMIN_TOKEN=administrator)
        command = ["schemathesis", "--config-file", os.path.join(ROOT, "scripts/schemathesis.toml"), "run",
                   os.path.join(ROOT, "openapi.yaml"), "--url", base, "--checks", "all", "--mode", "all",
                   "--max-examples", str(args.max_examples), "--seed", str(args.seed), "--no-color",
                   "--output-sanitize", "true"]
        if args.report:
            command += ["--report", "json", "--report-json-path", args.report]
        result = subprocess.run(command, env=environment)
        if server.poll() is None:
            # Requests the server answered, by its own count (what matched no route counts too).
            metrics = urllib.request.urlopen(f"{base}/metrics").read().decode()
            served = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                         if line.startswith("cip_http_requests_total"))
            print(f"fuzz: the server answered {served:.0f} requests")
        if server.poll() is not None:
            print(f"fuzz: cip serve exited during the run; its log ends:\n{log_tail(log_path)}", file=sys.stderr)
            sys.exit(1)
        sys.exit(result.returncode)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
