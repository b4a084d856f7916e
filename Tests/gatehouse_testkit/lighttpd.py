"""One real lighttpd with mod_gatehouse on a free 127.0.0.1 port, and hand-written requests."""
import os
import socket
import subprocess
import sys
import time

import requests

from gatehouse_testkit.paths import LIGHTTPD, MODULES
from gatehouse_testkit.tokens import AUDIENCE, ISSUER


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CGI_SCRIPT = """import json, os
print("Content-Type: application/json")
print()
print(json.dumps(dict(os.environ)))
"""


class Lighttpd:
    """One real lighttpd, in the foreground, stopped by its PID."""

    def __init__(self, folder, backend_port, jwks_path):
        self.folder = folder
        self.port = free_port()
        self.docroot = os.path.join(folder, "www")
        os.makedirs(os.path.join(self.docroot, "cgi"), exist_ok=True)
        with open(os.path.join(self.docroot, "index.html"), "w") as f:
            f.write("static\n")
        with open(os.path.join(self.docroot, "cgi", "env.py"), "w") as f:
            f.write(CGI_SCRIPT)
        self.values = {"port": self.port, "backend": backend_port, "jwks": jwks_path, "docroot": self.docroot,
                       "issuer": ISSUER, "audience": AUDIENCE, "python": sys.executable, "folder": folder,
                       "modules": '"mod_gatehouse", "mod_proxy", "mod_cgi"'}
        self.process = None
        self.error_log = os.path.join(folder, "error.log")

    def config(self, policy):
        text = """
server.document-root = "{docroot}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{error_log}"
server.max-request-field-size = 32768
server.modules += ({modules})
gatehouse.issuer = "{issuer}"
gatehouse.audience = "{audience}"
gatehouse.jwks = "{jwks}"
$HTTP["url"] =^ "/api/" {{
    proxy.server = ( "" => (( "host" => "127.0.0.1", "port" => {backend} )) )
}}
$HTTP["url"] =^ "/cgi/" {{
    cgi.assign = ( ".py" => "{python}" )
}}
""".format(error_log=self.error_log, **self.values)
        path = os.path.join(self.folder, "lighttpd.conf")
        with open(path, "w") as f:
            f.write(text + policy)
        return path

    def check(self, policy):
        """`lighttpd -tt`: returns (exit code, output)."""
        result = subprocess.run([LIGHTTPD, "-tt", "-m", MODULES, "-f", self.config(policy)],
                                capture_output=True, text=True, timeout=60)
        return result.returncode, result.stdout + result.stderr

    def start(self, policy, wrapper=(), timeout=15):
        """Starts lighttpd, under `wrapper` (valgrind, say) when given."""
        path = self.config(policy)
        self.process = subprocess.Popen([*wrapper, LIGHTTPD, "-D", "-m", MODULES, "-f", path],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("lighttpd exited: " + self.process.stdout.read().decode() + self.log())
            try:
                # lighttpd listens before its modules have read their configuration: wait for an
                # answer, which comes only once the server loop runs (an unknown method: lighttpd's
                # own 501, which no module sees, so no audit line or counter)
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as probe:
                    probe.settimeout(max(0.1, deadline - time.time()))
                    probe.sendall(b"STARTED? / HTTP/1.0\r\n\r\n")
                    if probe.recv(1):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("lighttpd did not start: " + self.log())

    def stop(self, timeout=15):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=timeout)

    def log(self):
        try:
            with open(self.error_log) as f:
                return f.read()
        except OSError:
            return ""

    def get(self, path, token=None, headers=None, method="GET"):
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"http://127.0.0.1:{self.port}{path}", headers=all_headers, timeout=10)


# The policy most stories run: an API for admins, reports for viewers, a public corner.
POLICY = """
gatehouse.require = (
    "/api/public/" => "anonymous",
    "/api/" => "role:admin",
    "GET /api/reports/" => "role:viewer or role:admin",
    "/cgi/" => "authenticated",
    "/index.html" => "authenticated",
)
"""


def seen_headers(response):
    """The headers the echo backend received, name -> list of values."""
    received = {}
    for name, value in response.json()["headers"]:
        received.setdefault(name.lower(), []).append(value)
    return received


def raw_request(port, lines):
    """Sends a hand-written HTTP/1.1 request (for what HTTP clients refuse to send)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status_line = data.split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1]), data.decode(errors="replace")
