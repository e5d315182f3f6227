"""What the scripts that drive a real `cip` (bench, hostile, fuzz, crash, soak) share."""
import json
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin(binary, database, *arguments):
    """Runs a `cip admin` command that must succeed; returns its last JSON line."""
    out = subprocess.run([binary, "admin", *arguments, "--database", database], check=True, capture_output=True, text=True)
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
