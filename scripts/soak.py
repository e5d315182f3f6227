#!/usr/bin/env python3
"""The soak: `cip simulate` at --rate calls a second against a release `cip serve` on SQLite for
--duration seconds, sampling the server's RSS and open file handles every 10 s, plus a reader asking
for a network's calls and writing onto calls twice a second. Writes the samples as CSV and a plot
(PNG); prints the figures RELIABILITY.md shows. Not part of CI: it takes an hour by default.
"""
import argparse
import csv
import json
import os
import subprocess
import time
import urllib.request

from cip_harness import admin, free_port, wait_until_up, rss_kib, scratch_folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/cip"))
    parser.add_argument("--duration", type=int, default=3600)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--csv", default=os.path.join(ROOT, "docs/soak.csv"))
    parser.add_argument("--plot", default=os.path.join(ROOT, "docs/soak.png"))
    args = parser.parse_args()

    folder = scratch_folder("cip-soak-")
    database = os.path.join(folder, "cip.sqlite")
    network = admin(args.binary, database, "network", "create", "--name", "Soak")["id"]
    advertisers = [admin(args.binary, database, "advertiser", "create", "--network", str(network), "--name", f"A{i}")["id"]
                   for i in range(3)]
    for name in ["utm_source", "utm_campaign", "line_label"]:
        admin(args.binary, database, "field", "create", "--network", str(network), "--name", name, "--type", "short-text")
    admin(args.binary, database, "field", "create", "--network", str(network), "--name", "ivr_selection", "--type",
          "category", "--allowed-value", "sales", "--allowed-value", "support", "--allowed-value", "billing")
    admin(args.binary, database, "field", "create", "--network", str(network), "--name", "Qualified", "--type", "signal")
    telephony = admin(args.binary, database, "token", "create", "--telephony")["token"]
    token = admin(args.binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(folder, "serve.log"), "w")
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--database", database, "--log-level", "warning"],
                              stdout=log, stderr=log)
    simulator = None
    try:
        wait_until_up(base)
        command = [args.binary, "simulate", "--url", base, "--token", telephony, "--network", str(network),
                   "--rate", str(args.rate), "--duration", f"{args.duration}s"]
        for advertiser in advertisers:
            command += ["--advertiser", str(advertiser)]
        simulator = subprocess.Popen(command, stdout=open(os.path.join(folder, "simulate.log"), "w"), stderr=subprocess.STDOUT)
        started = time.time()
        samples = []
        reads = errors = 0
        next_sample = started
        listing = f"{base}/api/2022-08-01/calls_in_progress/current_calls.json?id={network}&organization_type=network"
        while time.time() - started < args.duration and simulator.poll() is None:
            if time.time() >= next_sample:
                with urllib.request.urlopen(urllib.request.Request(listing, headers={"Authorization": token})) as response:
                    live = len(json.loads(response.read())["current_calls"])
                samples.append((round(time.time() - started), rss_kib(server.pid), len(os.listdir(f"/proc/{server.pid}/fd")), live))
                next_sample += 10
            # A client reading one call and writing onto it, as an agent desktop would.
            try:
                with urllib.request.urlopen(urllib.request.Request(listing + "&calling_phone_number=530-555-0100&destination_phone_number=855-555-0100",
                                                                   headers={"Authorization": token}), timeout=5) as response:
                    response.read()
                reads += 1
            except Exception:
                errors += 1
            time.sleep(0.5)
        simulator.wait(timeout=60)
    finally:
        if simulator and simulator.poll() is None:
            simulator.terminate()
        server.terminate()
        server.wait(timeout=30)

    with open(args.csv, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["seconds", "rss_kib", "open_files", "live_calls"])
        writer.writerows(samples)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    minutes = [s[0] / 60 for s in samples]
    figure, (memory, files) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    memory.plot(minutes, [s[1] / 1024 for s in samples], color="tab:blue", label="RSS (MiB)")
    memory.set_ylabel("RSS (MiB)")
    memory.set_ylim(bottom=0)
    live_axis = memory.twinx()
    live_axis.plot(minutes, [s[3] for s in samples], color="tab:gray", linestyle=":", label="calls in progress")
    live_axis.set_ylabel("calls in progress")
    live_axis.set_ylim(bottom=0)
    files.plot(minutes, [s[2] for s in samples], color="tab:orange")
    files.set_ylabel("open file handles")
    files.set_ylim(bottom=0)
    files.set_xlabel("minutes")
    figure.suptitle(f"cip serve (SQLite) under cip simulate at {args.rate:g} calls/s for {args.duration // 60} min")
    figure.tight_layout()
    figure.savefig(args.plot, dpi=100)

    warm = [s for s in samples if s[0] >= 600] or samples
    rss = [s[1] / 1024 for s in warm]
    fds = [s[2] for s in warm]
    print(f"soak {args.duration} s at {args.rate:g} calls/s: {len(samples)} samples; after 10 min warm-up RSS "
          f"{min(rss):.0f}–{max(rss):.0f} MiB (first {rss[0]:.0f}, last {rss[-1]:.0f}), open files {min(fds)}–{max(fds)}; "
          f"calls in progress at the end {samples[-1][3]}; reader {reads} requests, {errors} errors")


if __name__ == "__main__":
    main()
