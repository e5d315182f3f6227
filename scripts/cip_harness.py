"""What the scripts that drive a real `cip` (bench, hostile, fuzz, crash, soak) share."""
import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


SCRATCH = []


@atexit.register
def remove_scratch_folders():
    # Registered when a script imports this module, before its own exit handlers: it runs after
    # them, once the servers they stop have let go of the folders.
    for folder in SCRATCH:
        shutil.rmtree(folder, ignore_errors=True)


def scratch_folder(prefix):
    """A temporary folder for a script's databases and logs, removed when the script exits: a
    benchmark's database at a million calls takes gigabytes, and every run makes a new one.
    `CIP_KEEP_SCRATCH=1` keeps it, to look into after a failure."""
    folder = tempfile.mkdtemp(prefix=prefix)
    if os.environ.get("CIP_KEEP_SCRATCH"):
        print(f"keeping {folder} (CIP_KEEP_SCRATCH)")
    else:
        SCRATCH.append(folder)
    return folder


def log_tail(path, lines=20):
    """The last lines of a log, for a failure's message (the scratch folder holding it is removed)."""
    try:
        with open(path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin(binary, database, *arguments):
    """Runs a `cip admin` command that must succeed; returns its last JSON line."""
    out = subprocess.run([binary, "admin", *arguments, "--database", database], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"cip admin {' '.join(arguments)} exited {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout.splitlines()[-1])


def proc_status(pid, field):
    """A kB figure of /proc/PID/status (VmRSS, ...)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_kib(pid):
    return proc_status(pid, "VmRSS")


def wait_until_up(base, attempts=200):
    """Waits until `base`/health answers."""
    for _ in range(attempts):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1).read()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def call_api(base, method, path, token, body=None, timeout=5):
    """(status, json) or (None, None) when there was no answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": token})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except Exception:
        return None, None
