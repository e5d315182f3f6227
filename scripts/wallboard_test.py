#!/usr/bin/env python3
"""Browser tests of the wallboard page (SPEC 10, issue 12), in Debian's chromium driven by selenium.

Against a real `cip serve` on an SQLite file, with real HTTP:
  1. the page, connected by keyboard alone with a pasted token, shows exactly `current_calls`;
  2. a `call_bridged` shows its row within 2 s; custom data PUT shows its value, highlighted; a
     `call_ended` takes the row away;
  3. the server stops; a change is made while the page cannot reach it; the server comes back on its
     address; the page recovers by itself (no reload, no new snapshot) and shows that change;
  4. no URL the browser asked for, nothing in localStorage, and no line of the server's log carries
     the token;
  5. measured in the page: the time to render 1,000 rows (a snapshot), and, under the demo's traffic
     (`cip serve --demo`), the time spent applying each batch of changes. Reported, not asserted:
     timings belong to BENCHMARKS.md. `--screenshots DIR` saves the demo at 1280x720 and 390x844.

Usage: python3 scripts/wallboard_test.py --binary .build/debug/cip [--screenshots docs]
"""
import argparse
import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cip_harness import admin, free_port, wait_until_up  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

API = "/api/2022-08-01"
failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        failures.append(what)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def call(base, method, path, token, body=None):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", token)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for(condition, timeout, interval=0.05):
    """Polls `condition` until it is truthy; returns (value, seconds waited) or (None, timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        value = condition()
        if value:
            return value, time.monotonic() - started
        time.sleep(interval)
    return None, timeout


class Server:
    """`cip serve` on a given SQLite file and port, its log kept to be searched for tokens."""

    def __init__(self, binary, database, port, log_path, extra=()):
        self.log = open(log_path, "ab")
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [binary, "serve", "--port", str(port), "--database", database, "--log-level", "debug", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_until_up(self.base):
            raise SystemExit(f"cip serve did not come up on {self.base}")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    viewport(driver, width, height)
    return driver


def viewport(driver, width, height):
    """The page's viewport exactly (the window's size includes the browser's own frame)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def connect_by_keyboard(driver, base, token, organization_type, organization_id):
    """Loads the page and connects using the keyboard only: type, Tab, arrow, Tab, type, Enter."""
    driver.get(base + "/")
    field = driver.find_element(By.ID, "token")
    field.click()
    active = driver.switch_to.active_element
    active.send_keys(token)
    active.send_keys(Keys.TAB)
    if organization_type == "advertiser":
        driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(str(organization_id))
    driver.switch_to.active_element.send_keys(Keys.ENTER)


def state(driver):
    return driver.find_element(By.ID, "connection").get_attribute("data-state")


def rows(driver):
    """The table as the page shows it: one dict per row, in order."""
    return driver.execute_script("""
        return [...document.querySelectorAll('#rows tr')].map((row) => {
          const cell = (name) => row.querySelector(`td[data-column="${name}"]`);
          const custom = {};
          for (const kv of cell('custom').querySelectorAll('.kv')) custom[kv.dataset.name] = kv.querySelector('.v').textContent;
          return { transaction_id: row.dataset.transactionId, caller: cell('caller').textContent,
                   destination: cell('destination').textContent, advertiser: cell('advertiser').textContent,
                   campaign: cell('campaign').textContent, status: cell('status').textContent,
                   external: cell('external').textContent, custom };
        });""")


def expected_rows(calls):
    return [{
        "transaction_id": c["transaction_id"], "caller": c["calling_phone_number"],
        "destination": c["destination_phone_number"],
        "advertiser": c.get("advertiser_name") or (f"Advertiser {c['advertiser_id']}" if "advertiser_id" in c else "(no advertiser)"),
        "campaign": c.get("advertiser_campaign_name") or c.get("advertiser_campaign_id") or "(no campaign)",
        "status": c["call_status"].replace("_", " "),
        "external": c["external_unique_id"] if c["external_unique_id"] is not None else "—",
        "custom": {name: str(v["value"]).lower() if isinstance(v["value"], bool) else str(v["value"])
                   for name, v in c["custom_data"].items()},
    } for c in calls]


def stats(driver):
    return driver.execute_script("return window.cipWallboard.stats")


def functional(binary, workdir):
    database = os.path.join(workdir, "wallboard.sqlite")
    network = admin(binary, database, "network", "create", "--name", "Wallboard network")["id"]
    advertiser = admin(binary, database, "advertiser", "create", "--network", str(network), "--name", "Acme Plumbing")["id"]
    admin(binary, database, "field", "create", "--network", str(network), "--name", "Call Disposition",
          "--type", "short-text")
    token = admin(binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    telephony = admin(binary, database, "token", "create", "--telephony")["token"]
    port = free_port()
    log_path = os.path.join(workdir, "server.log")
    server = Server(binary, database, port, log_path)
    base = server.base

    def bridge(transaction_id, caller, at=None):
        status, body = call(base, "POST", f"{API}/telephony/call_events.json", telephony, {
            "event": "call_bridged", "transaction_id": transaction_id, "network_id": network,
            "advertiser_id": advertiser, "occurred_at": at or now(), "calling_phone_number": caller,
            "destination_phone_number": "855-559-5599", "advertiser_campaign_id": "spring-sale",
            "custom_data": [{"name": "Call Disposition", "value": "NEW", "source": "Telephony"}]})
        assert status == 200 and body["results"][0]["status"] == "applied", body

    def put_custom(transaction_id, value):
        return call(base, "PUT", f"{API}/calls_in_progress.json?id={network}&organization_type=network"
                    f"&transaction_id={transaction_id}", token,
                    {"call_in_progress": {"custom_data": [{"name": "Call Disposition", "value": value}]}})

    def current_calls():
        status, body = call(base, "GET", f"{API}/calls_in_progress/current_calls.json?id={network}"
                            "&organization_type=network", token)
        assert status == 200, body
        return body["current_calls"]

    # Bridged a minute ago, a second apart: the page must list them most recent first.
    earlier = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    for index, caller in enumerate(["530-999-0001", "530-999-0002", "530-999-0003"]):
        at = (earlier + datetime.timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        bridge(f"WB-START-{index}", caller, at=at)
    put_custom("WB-START-1", "SALE")

    driver = browser(1280, 720)
    try:
        # A token that may not act for the organization is refused, said so, and not retried.
        connect_by_keyboard(driver, base, token, "advertiser", advertiser + 1000)
        refused, _ = wait_for(lambda: state(driver) == "error", 5)
        message = driver.find_element(By.ID, "form-error").text
        check(bool(refused) and "401" in message and driver.find_element(By.ID, "connect").is_displayed(),
              f"a refused token is shown as such, with the form back ({message!r})")
        check(driver.execute_script("return sessionStorage.length") == 0, "and is not kept")

        connect_by_keyboard(driver, base, token, "network", network)
        driver.execute_script("window.loadedOnce = true")
        _, _ = wait_for(lambda: state(driver) == "live" and stats(driver)["snapshots"] == 1, 10)
        check(state(driver) == "live", "the page connects with a token typed and submitted by keyboard alone")
        check(rows(driver) == expected_rows(current_calls()), "the table matches current_calls, row for row and in order")
        check(driver.find_element(By.ID, "total").text == "3", "the count of calls in progress is shown")

        bridge("WB-NEW", "530-999-0100")
        found, waited = wait_for(lambda: any(r["transaction_id"] == "WB-NEW" for r in rows(driver)), 2)
        check(bool(found), f"a call_bridged shows its row within 2 s (after {waited:.2f} s)")
        check(rows(driver)[0]["transaction_id"] == "WB-NEW", "the new call is first (most recent transfer)")

        status, _ = put_custom("WB-NEW", "SALE-42")
        check(status == 200, "PUT custom data is accepted")
        highlighted, waited = wait_for(lambda: driver.execute_script("""
            const kv = document.querySelector('tr[data-transaction-id="WB-NEW"] .kv[data-name="Call Disposition"]');
            return kv && kv.querySelector('.v').textContent === 'SALE-42' && kv.classList.contains('changed');"""), 2)
        check(bool(highlighted), f"the PUT's value shows, highlighted ({waited:.2f} s)")
        faded, waited = wait_for(lambda: driver.execute_script(
            "return document.querySelectorAll('#rows .changed').length === 0"), 5)
        check(bool(faded), f"the highlight lasts a moment ({waited:.1f} s more)")
        duration = driver.execute_script("return document.querySelector('#rows td.duration').textContent")
        ticked, _ = wait_for(lambda: driver.execute_script(
            "return document.querySelector('#rows td.duration').textContent") != duration, 2.5)
        check(bool(ticked) and re.fullmatch(r"\d+:\d\d(:\d\d)?", duration or ""), f"durations tick every second ({duration!r})")
        advertisers = driver.find_element(By.ID, "by-advertiser").text
        check("Acme Plumbing" in advertisers and "4" in advertisers, f"counts by advertiser: {advertisers!r}")
        check("spring-sale" in driver.find_element(By.ID, "by-campaign").text, "counts by campaign")

        status, body = call(base, "POST", f"{API}/telephony/call_events.json", telephony, {
            "event": "call_ended", "transaction_id": "WB-NEW", "network_id": network, "occurred_at": now()})
        gone, waited = wait_for(lambda: all(r["transaction_id"] != "WB-NEW" for r in rows(driver)), 2)
        check(bool(gone), f"a call_ended takes the row away ({waited:.2f} s)")

        # The server goes away; while the page cannot reach it, a change is made (through the same
        # file, by a server on another port); then the server comes back on the page's address.
        server.stop()
        down, _ = wait_for(lambda: state(driver) == "reconnecting", 5)
        check(bool(down), "the page shows that it lost the server")
        away_port = free_port()
        while away_port == port:
            away_port = free_port()
        away = Server(binary, database, away_port, log_path)
        base = away.base
        bridge("WB-AWAY", "530-999-0200")
        put_custom("WB-START-0", "CALLBACK")
        away.stop()
        server = Server(binary, database, port, log_path)
        base = server.base
        back, waited = wait_for(lambda: any(r["transaction_id"] == "WB-AWAY" for r in rows(driver)), 25)
        check(bool(back), f"after the restart the page shows a call bridged while it was away ({waited:.1f} s)")
        check(state(driver) == "live", "and says it is live again")
        check(rows(driver) == expected_rows(current_calls()), "the table matches current_calls again, changes made away included")
        page = stats(driver)
        check(driver.execute_script("return window.loadedOnce === true") and page["snapshots"] == 1,
              f"recovered without a reload and without a new snapshot (Last-Event-ID; {page['connects']} connections)")

        urls = driver.execute_script("""
            return [location.href, ...performance.getEntriesByType('navigation').map((e) => e.name),
                    ...performance.getEntriesByType('resource').map((e) => e.name)];""")
        check(any("/calls_in_progress/stream" in url for url in urls), f"the browser's requests are listed ({len(urls)})")
        check(not any(token in url for url in urls), "no URL the browser requested carries the token")
        check(driver.execute_script("return localStorage.length") == 0, "nothing is kept in localStorage")
        check(token in (driver.execute_script("return sessionStorage.getItem('cip.wallboard')") or ""),
              "the token is kept in the tab's sessionStorage")
        headers = urllib.request.urlopen(base + "/").headers
        check("default-src 'self'" in headers.get("Content-Security-Policy", ""), "the page is served with a same-origin CSP")

        driver.find_element(By.ID, "disconnect").click()
        check(driver.find_element(By.ID, "connect").is_displayed() and
              driver.execute_script("return sessionStorage.length") == 0, "Disconnect forgets the token")
    finally:
        driver.quit()
        server.stop()
    with open(log_path, "rb") as log:
        text = log.read().decode(errors="replace")
    check(len(text) > 0 and token not in text and telephony not in text,
          f"no line of the server's log ({text.count(chr(10))} lines, debug level) carries a token")


def render_thousand(binary, workdir, samples):
    """The time to render a snapshot of 1,000 rows, measured by the page, `samples` times."""
    database = os.path.join(workdir, "thousand.sqlite")
    network = admin(binary, database, "network", "create", "--name", "Thousand")["id"]
    advertisers = [admin(binary, database, "advertiser", "create", "--network", str(network), "--name", f"Advertiser {n}")["id"]
                   for n in range(5)]
    admin(binary, database, "field", "create", "--network", str(network), "--name", "utm_source", "--type", "short-text")
    token = admin(binary, database, "token", "create", "--organization-type", "network", "--id", str(network))["token"]
    telephony = admin(binary, database, "token", "create", "--telephony")["token"]
    server = Server(binary, database, free_port(), os.path.join(workdir, "thousand.log"))
    for start in range(0, 1000, 500):
        events = [{"event": "call_bridged", "transaction_id": f"K{n:05d}", "network_id": network,
                   "advertiser_id": advertisers[n % 5], "occurred_at": now(),
                   "calling_phone_number": f"+1530555{n:04d}", "destination_phone_number": "+18555595599",
                   "advertiser_campaign_id": f"campaign-{n % 7}",
                   "custom_data": [{"name": "utm_source", "value": "google.com", "source": "Telephony"}]}
                  for n in range(start, start + 500)]
        status, body = call(server.base, "POST", f"{API}/telephony/call_events.json", telephony, {"events": events})
        assert status == 200, body
    driver = browser(1280, 720)
    timings = []
    try:
        for _ in range(samples):
            connect_by_keyboard(driver, server.base, token, "network", network)
            wait_for(lambda: stats(driver)["snapshots"] == 1, 20)
            page = stats(driver)
            check(page["snapshotRows"] == 1000, f"a snapshot of {page['snapshotRows']} rows was rendered")
            timings.append(page["snapshotMs"])
            driver.find_element(By.ID, "disconnect").click()
    finally:
        driver.quit()
        server.stop()
    return timings


def demo_traffic(binary, workdir, seconds, screenshots):
    """The page under `cip serve --demo`: batch apply times while the simulated calls flow."""
    database = os.path.join(workdir, "demo.sqlite")
    port = free_port()
    log = open(os.path.join(workdir, "demo.log"), "wb")
    process = subprocess.Popen([binary, "serve", "--demo", "--port", str(port), "--database", database],
                               stdout=subprocess.PIPE, stderr=log, text=True)
    base = f"http://127.0.0.1:{port}"
    welcome = []
    for line in process.stdout:
        welcome.append(line)
        if "/metrics" in line:
            break
    text = "".join(welcome)
    token = re.search(r"read-only network token\s+(\S+)", text).group(1)
    network = re.search(r"id=(\d+)&organization_type=network", text).group(1)
    lines = [line.strip() for line in welcome if line.strip()]
    wallboard = next((n for n, line in enumerate(lines) if f"{base}/" in line and "wallboard" in line), None)
    check(wallboard is not None and wallboard <= 1, "the demo prints the wallboard's URL first")
    check(wallboard is not None and token in lines[wallboard + 2], "with the token to paste just below it")
    driver = browser(1280, 720)
    try:
        connect_by_keyboard(driver, base, token, "network", network)
        wait_for(lambda: stats(driver)["snapshots"] == 1, 20)
        started = stats(driver)
        time.sleep(seconds)
        page = stats(driver)
        live = int(driver.find_element(By.ID, "total").text)
        check(live > 400, f"the demo's {live} live calls are shown")
        check(page["events"] - started["events"] > seconds, f"{page['events'] - started['events']} changes applied in {seconds} s")
        if screenshots:
            os.makedirs(screenshots, exist_ok=True)
            driver.save_screenshot(os.path.join(screenshots, "wallboard-1280x720.png"))
            viewport(driver, 390, 844)
            time.sleep(1.5)
            driver.save_screenshot(os.path.join(screenshots, "wallboard-390x844.png"))
            viewport(driver, 1280, 720)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        check(width <= 1280, f"nothing overflows sideways at 1280 px ({width})")
        viewport(driver, 390, 844)
        time.sleep(0.5)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        check(width <= 390, f"nothing overflows sideways at 390 px ({width})")
        batches = page["batchMs"][-max(1, page["batches"] - started["batches"]):]
        return live, batches, page["snapshotRows"], page["snapshotMs"]
    finally:
        driver.quit()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def summary(values):
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f}, min {ordered[0]:.1f}, max {ordered[-1]:.1f} (n={len(ordered)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=".build/debug/cip")
    parser.add_argument("--screenshots", help="save the demo's screenshots here (docs/ in the repository)")
    parser.add_argument("--demo-seconds", type=int, default=15)
    parser.add_argument("--render-samples", type=int, default=5)
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    with tempfile.TemporaryDirectory(prefix="cip-wallboard-") as workdir:
        print("== the page against a live server", flush=True)
        functional(binary, workdir)
        print("== rendering 1,000 rows", flush=True)
        render = render_thousand(binary, workdir, arguments.render_samples)
        print("== the demo's traffic", flush=True)
        live, batches, snapshot_rows, snapshot_ms = demo_traffic(binary, workdir, arguments.demo_seconds, arguments.screenshots)
    print(f"render 1,000 rows (snapshot, layout included): {summary(render)}  [target < 200 ms]")
    print(f"demo: {live} live calls; snapshot of {snapshot_rows} rows {snapshot_ms:.1f} ms; "
          f"apply a batch of changes: {summary(batches)}  [target < 16 ms]")
    if failures:
        print(f"wallboard: {len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("wallboard: every check passed")


if __name__ == "__main__":
    main()
