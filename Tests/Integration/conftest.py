"""Integration fixtures: a real /usr/sbin/lighttpd with build/mod_gatehouse.so,
an echo backend behind mod_proxy, a CGI script, and tokens minted by PyJWT."""
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from echo_backend import EchoHandler

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIGHTTPD = "/usr/sbin/lighttpd"
MODULES = os.path.join(ROOT, "build", "modules")
ISSUER = "https://idp.example.test/"
AUDIENCE = "gatehouse-api"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Keys:
    """The identity provider's signing keys, and the JWKS lighttpd trusts."""

    def __init__(self, folder):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys = []
        for key, kid, alg, algorithm in ((self.rsa, "rsa-1", "RS256", RSAAlgorithm),
                                         (self.ec, "ec-1", "ES256", ECAlgorithm)):
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            jwk.update(kid=kid, alg=alg, use="sig")
            keys.append(jwk)
        self.jwks_path = os.path.join(folder, "jwks.json")
        with open(self.jwks_path, "w") as f:
            json.dump({"keys": keys}, f)

    def mint(self, alg="RS256", key=None, kid=None, lifetime=600, **claims):
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + lifetime}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        if key is None:
            key = self.rsa if alg == "RS256" else self.ec
        if kid is None:
            kid = "rsa-1" if alg == "RS256" else "ec-1"
        return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture(scope="session")
def backend():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return Keys(str(tmp_path_factory.mktemp("keys")))


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
                # answer (any status), which comes only once the server loop runs.
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as probe:
                    probe.settimeout(max(0.1, deadline - time.time()))
                    probe.sendall(b"OPTIONS * HTTP/1.0\r\n\r\n")
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


@pytest.fixture
def lighttpd(tmp_path, backend, keys):
    server = Lighttpd(str(tmp_path), backend, keys.jwks_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    """A real OpenID Connect provider on loopback, and its keys fetched by `gatehouse jwks fetch`."""
    from e2e import Provider
    folder = str(tmp_path_factory.mktemp("provider"))
    server = Provider(folder)
    yield server
    server.stop()
