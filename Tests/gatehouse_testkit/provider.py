"""A real OpenID Connect provider (oidc-provider-mock) on loopback, the authorization-code login
that gets its ID tokens, and the processes the end-to-end tests start around it."""
import base64
import hashlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse

import requests

from gatehouse_testkit.lighttpd import free_port
from gatehouse_testkit.paths import GATEHOUSE


def login(issuer, audience, sub, claims=None, session=None):
    """SUB's ID token from the provider at ISSUER for the client AUDIENCE, after setting the
    user's claims (oidc-provider-mock's PUT /users/SUB). Drives the login as a browser would:
    the authorization request with a PKCE challenge (RFC 7636), the login form, the redirect
    with the code, and the token request with the verifier."""
    session = session or requests.Session()
    answer = session.put(f"{issuer}/users/{urllib.parse.quote(sub, safe='')}", json=claims or {})
    answer.raise_for_status()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1/callback"
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({
        "client_id": audience, "redirect_uri": redirect, "response_type": "code", "scope": "openid",
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
    session.get(f"{issuer}/oauth2/authorize?{query}").raise_for_status()  # the login form
    answer = session.post(f"{issuer}/oauth2/authorize?{query}", data={"sub": sub}, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"login refused: {answer.status_code} {answer.text[:200]}")
    params = urllib.parse.parse_qs(urllib.parse.urlparse(answer.headers["Location"]).query)
    if params.get("state") != [state]:
        raise RuntimeError("the provider's redirect does not carry our state")
    answer = session.post(f"{issuer}/oauth2/token", data={
        "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": redirect,
        "code_verifier": verifier, "client_id": audience, "client_secret": "unused"})
    answer.raise_for_status()
    return answer.json()["id_token"]


def wait_for_port(port, process, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


class Service:
    """A backend or provider process, its output in a log file, stopped by its PID."""

    def __init__(self, name, argv, port, folder, env=None, timeout=60):
        self.name, self.port = name, port
        self.log_path = os.path.join(folder, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=folder,
                                        env={**os.environ, **(env or {})}, start_new_session=True)
        try:
            wait_for_port(port, self.process, name, timeout)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}: {self.output()}") from None

    def output(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.log.close()


class Provider:
    """oidc-provider-mock on loopback. Tokens come from its authorization-code flow with PKCE
    (RFC 7636), driven as a browser would (`login` above): the ID token it issues is an
    RS256 JWT signed with the provider's own key, carrying the user's claims, with the client id
    as audience. Its keys are in `jwks_path`, written by `gatehouse jwks fetch` as an
    administrator runs it."""

    def __init__(self, folder):
        port = free_port()
        self.issuer = f"http://127.0.0.1:{port}"
        self.service = Service("oidc-provider", [sys.executable, "-m", "oidc_provider_mock", "-H", "127.0.0.1",
                                                 "-p", str(port)], port, folder)
        self.session = requests.Session()
        self.jwks_path = os.path.join(folder, "jwks.json")
        fetched = subprocess.run([GATEHOUSE, "jwks", "fetch", "--issuer", self.issuer, "--out", self.jwks_path],
                                 capture_output=True, text=True, timeout=60)
        if fetched.returncode != 0:
            self.stop()
            raise RuntimeError(f"gatehouse jwks fetch failed: {fetched.stderr}")

    def token(self, sub, audience, **claims):
        """Logs `sub` in with these claims (roles, groups, tenant, flows…) and returns the ID token."""
        return login(self.issuer, audience, sub, claims, self.session)

    def stop(self):
        self.service.stop()
