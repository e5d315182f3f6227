"""What the scripts that drive a real `cip` (bench, hostile, fuzz, crash, soak) share."""
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request


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
