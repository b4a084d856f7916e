"""End-to-end plumbing: real or stand-in backends started as their own processes (as the
provider is, provider.py), a header tap that records what reaches each backend, and lighttpd
running one of the complete configurations in examples/ as it is written, with only its
installation-specific `var.` lines changed. Every request a test sends is also decided
offline by `gatehouse check` on the same file, which must agree with lighttpd."""
import contextlib
import http.client
import json
import os
import socket
import subprocess
import threading
import urllib.parse

import requests

from gatehouse_testkit.examples import configure
from gatehouse_testkit.lighttpd import free_port
from gatehouse_testkit.paths import GATEHOUSE, LIGHTTPD, MODULES
from gatehouse_testkit.provider import Service, wait_for_port


class HeaderTap:
    """A TCP relay between lighttpd and a backend that records each request's header block, so a
    test can see exactly which identity headers reached the backend (and which never did)."""

    def __init__(self, backend_port):
        self.backend_port = backend_port
        self.requests = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = client.recv(65536)
            if not chunk:
                break
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target = (lines[0].split(" ") + ["", ""])[:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        self.requests.append({"method": method, "path": target, "headers": headers})
        upstream = socket.create_connection(("127.0.0.1", self.backend_port))
        upstream.sendall(head)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        self._pump(upstream, client)

    @staticmethod
    def _pump(source, target):
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def last(self, method, path_prefix):
        """The last request the backend received with this method and path prefix."""
        for request in reversed(self.requests):
            if request["method"] == method and request["path"].startswith(path_prefix):
                return request
        raise AssertionError(f"the backend never received {method} {path_prefix}: {self.requests[-5:]}")

    def stop(self):
        self.server.close()


class ExampleSite:
    """lighttpd + mod_gatehouse running examples/NAME.conf: the file as committed, with only the
    values of its `var.` lines at the top replaced (ports, issuer, key file, log folder)."""

    def __init__(self, name, folder, **values):
        self.port = free_port()
        self.folder = folder
        self.config = os.path.join(folder, f"{name}.conf")
        configure(name, self.config, listen_port=self.port, **values)
        check = subprocess.run([LIGHTTPD, "-tt", "-m", MODULES, "-f", self.config], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        lint = subprocess.run([GATEHOUSE, "lint", "--config", self.config], capture_output=True, text=True)
        assert lint.returncode == 0 and "0 errors, 0 warnings" in lint.stdout, lint.stdout + lint.stderr
        self.checked = 0
        self.log = open(os.path.join(folder, "lighttpd.out"), "w")
        self.process = subprocess.Popen([LIGHTTPD, "-D", "-m", MODULES, "-f", self.config],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.session = requests.Session()
        try:
            wait_for_port(self.port, self.process, "lighttpd")
        except RuntimeError:
            self.stop()
            raise

    def request(self, method, path, token=None, check_offline=True, **kwargs):
        """Sends the request to lighttpd, and checks that `gatehouse check` on the same file
        decides it the same way (unless the test times its requests: a check takes a few ms)."""
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        answer = self.session.request(method, f"http://127.0.0.1:{self.port}{path}", headers=headers, timeout=30,
                                      **kwargs)
        if check_offline:
            self._check_offline(answer.request, answer.status_code)
        return answer

    def raw(self, method, target, token):
        """The status of a request whose target is sent byte for byte (an HTTP client library
        would resolve `..` itself)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.putrequest(method, target, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {token}")
        connection.endheaders()
        status = connection.getresponse().status
        connection.close()
        return status

    def _check_offline(self, sent, status):
        url = urllib.parse.urlsplit(sent.url)
        if status == 429:
            return  # rate limits live in the running server only
        # The request as sent, its Authorization header included: the CLI parses it as lighttpd does.
        argv = [GATEHOUSE, "check", "--json", "--config", self.config, "--method", sent.method, "--path", url.path,
                "--host", url.netloc]
        if url.query:
            argv += ["--query", url.query]
        for name, value in sent.headers.items():
            argv += ["--header", f"{name}: {value}"]
        offline = json.loads(subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout)
        if offline["decision"] == "allow":
            assert status not in (401, 403), (sent.method, sent.url, status, offline)
        else:
            assert status == offline["status"], (sent.method, sent.url, status, offline)
        self.checked += 1

    def audit(self):
        with open(os.path.join(self.folder, "gatehouse-audit.log")) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.log.close()


@contextlib.contextmanager
def guarded(example, tmp_path_factory, provider, backend, env=None, timeout=60, **values):
    """The backend (its argv made by backend(port, folder)) started on loopback behind a header
    tap and lighttpd running examples/EXAMPLE.conf, trusting the provider's fetched keys.
    Yields (site, tap)."""
    folder = str(tmp_path_factory.mktemp(example))
    port = free_port()
    service = Service(f"{example}-backend", backend(port, folder), port, folder, env=env, timeout=timeout)
    tap = HeaderTap(port)
    try:
        site = ExampleSite(example, folder, backend_port=tap.port, issuer=provider.issuer, jwks=provider.jwks_path,
                           state_dir=folder, **values)
        try:
            yield site, tap
            assert site.checked > 0, "no request was decided offline by gatehouse check"
        finally:
            site.stop()
    finally:
        tap.stop()
        service.stop()
