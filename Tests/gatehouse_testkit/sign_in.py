"""Browser sign-in plumbing for the tests: a lighttpd whose context signs people in with
oidc-provider-mock, and a browser stand-in that drives the provider's login form with
`requests`, keeping cookies itself (a `__Host-` cookie is Secure, which `requests` would not
send over http, so the tests hold and send them explicitly)."""
import base64
import http.cookies
import os
import secrets
import urllib.parse

import requests

from gatehouse_testkit.lighttpd import Lighttpd

CLIENT_ID = "gatehouse-web"

POLICY = """
mimetype.assign = ( ".html" => "text/html; charset=utf-8", ".png" => "image/png" )
gatehouse.login = "enable"
gatehouse.client-id = "{client_id}"
gatehouse.client-secret-file = "{secret}"
gatehouse.session-key-file = "{session_keys}"
gatehouse.provider-metadata = "{metadata}"
gatehouse.require = ( {rules} )
"""

RULES = '"/private/" => "authenticated", "/admin/" => "role:admin", "/api/" => "authenticated", "/" => "anonymous"'



def write_key_file(path, count=1):
    with open(path, "w") as f:
        for _ in range(count):
            f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    os.chmod(path, 0o600)
    return path


def save_metadata(provider, path):
    """The provider's discovery document, saved as `gatehouse jwks fetch --metadata-out` saves it."""
    import subprocess
    from gatehouse_testkit.paths import GATEHOUSE
    result = subprocess.run([GATEHOUSE, "jwks", "fetch", "--issuer", provider.issuer, "--out",
                             path + ".jwks", "--metadata-out", path], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return path


class SignInSite(Lighttpd):
    """lighttpd with browser sign-in turned on; `extra` goes after the policy."""

    def __init__(self, folder, backend_port, provider, key_file=None, metadata=None):
        super().__init__(folder, backend_port, provider.jwks_path)
        self.values["issuer"] = provider.issuer
        self.values["audience"] = CLIENT_ID
        self.key_file = key_file or write_key_file(os.path.join(folder, "session.keys"))
        self.metadata = metadata or save_metadata(provider, os.path.join(folder, "provider.json"))
        self.provider = provider
        self.secret = os.path.join(folder, "client.secret")
        with open(self.secret, "w") as f:
            f.write("mock-accepts-any-secret\n")
        os.makedirs(os.path.join(self.docroot, "private"), exist_ok=True)
        with open(os.path.join(self.docroot, "private", "page.html"), "w") as f:
            f.write("private page\n")

    def policy(self, extra="", rules=RULES):
        return POLICY.format(client_id=CLIENT_ID, session_keys=self.key_file, metadata=self.metadata,
                             secret=self.secret, rules=rules) + extra

    def url(self, target):
        return f"http://127.0.0.1:{self.port}{target}"


def with_token_endpoint(metadata, url, path=None):
    """The provider metadata file `metadata` written again (to `path`, else in place) with its
    token endpoint at `url`; returns the path written."""
    import json
    with open(metadata) as f:
        document = json.load(f)
    document["token_endpoint"] = url
    with open(path or metadata, "w") as f:
        json.dump(document, f)
    return path or metadata


NAVIGATE = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}


class Browser:
    """Holds the cookies lighttpd sets, as a browser holds them, and signs in through the
    provider's real login form."""

    def __init__(self, site):
        self.site = site
        self.cookies = {}
        self.provider = requests.Session()

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def remember(self, response):
        for line in response.raw.headers.getlist("Set-Cookie"):
            jar = http.cookies.SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, target, headers=None, method="GET", **kwargs):
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = self.cookie_header()
        response = requests.request(method, self.site.url(target), headers=sent, allow_redirects=False,
                                    timeout=30, **kwargs)
        self.remember(response)
        return response

    def authorize(self, location, sub, claims=None):
        """At the provider: sets the user's claims, posts the login form; returns the callback URL."""
        self.provider.put(f"{self.site.provider.issuer}/users/{urllib.parse.quote(sub, safe='')}",
                          json=claims or {}).raise_for_status()
        self.provider.get(location).raise_for_status()
        answer = self.provider.post(location, data={"sub": sub}, allow_redirects=False)
        assert answer.status_code == 302, answer.text[:300]
        return answer.headers["Location"]

    def sign_in(self, target, sub, claims=None):
        """Navigates to `target`, signs in, follows the callback; returns the callback's answer."""
        first = self.get(target, NAVIGATE)
        assert first.status_code == 302, (first.status_code, first.text)
        callback = self.authorize(first.headers["Location"], sub, claims)
        parts = urllib.parse.urlsplit(callback)
        return self.get(parts.path + "?" + parts.query, NAVIGATE)


class TokenEndpoint:
    """A loopback token endpoint: `respond(headers, body)` gives each POST's status and the
    payload sent back as JSON, `delay` seconds later. `metadata` puts it in a copy of the
    provider's saved endpoints."""

    def __init__(self, respond, delay):
        import http.server
        import threading
        import time
        self.delay = delay
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = respond(self.headers, body)
                time.sleep(endpoint.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/token"

    def metadata(self, original, path):
        """A copy of the provider's saved endpoints with the token endpoint here."""
        return with_token_endpoint(original, self.url, path)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SlowTokenEndpoint(TokenEndpoint):
    """A loopback relay in front of the provider's token endpoint that waits `delay` seconds
    before passing each request on: a slow identity provider."""

    def __init__(self, provider, delay):
        self.calls = 0
        self.requests = []  # (headers, body) of each token request

        def relay(headers, body):
            self.calls += 1
            self.requests.append((dict(headers.items()), body.decode()))
            forwarded = {k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type")}
            try:
                answer = requests.post(provider.issuer + "/oauth2/token", data=body, headers=forwarded, timeout=30)
                return answer.status_code, answer.content
            except requests.RequestException:
                return 502, b""

        super().__init__(relay, delay)


def sign_in_files(provider, folder):
    """The var. values an example's browser sign-in needs: a client secret, a session key file
    and the provider's endpoints (saved by `gatehouse jwks fetch --metadata-out`)."""
    secret = os.path.join(folder, "client.secret")
    with open(secret, "w") as f:
        f.write("mock-accepts-any-secret\n")
    return {"client_id": CLIENT_ID, "client_secret": secret,
            "session_keys": write_key_file(os.path.join(folder, "session.keys")),
            "provider_metadata": save_metadata(provider, os.path.join(folder, "provider.json"))}


class Origin:
    """What Browser needs of a site: its URLs and its provider."""

    def __init__(self, port, provider):
        self.port = port
        self.provider = provider

    def url(self, target):
        return f"http://127.0.0.1:{self.port}{target}"


def seal(key, name, contents):
    """A cookie value sealed as Gatehouse seals it (docs/browser-sign-in.md, "What the cookie
    holds"), with Python's `cryptography`: an independent implementation of the format."""
    import hashlib
    import json
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(contents, separators=(",", ":")).encode(), name.encode())
    raw = bytes([hashlib.sha256(key).digest()[0]]) + nonce + sealed
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unseal(key, name, value):
    """The contents of a cookie value Gatehouse sealed, opened with Python's `cryptography`."""
    import json
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return json.loads(AESGCM(key).decrypt(raw[1:13], raw[13:], name.encode()))


def first_key(path):
    with open(path) as f:
        return base64.b64decode(f.readline().strip())


class ScriptedTokenEndpoint(TokenEndpoint):
    """A loopback token endpoint that answers what the test scripts: `answer(form)` gives the
    status and the JSON body for each request's form, sent after `delay` seconds."""

    def __init__(self, answer, delay=0):
        import json
        self.forms = []  # the form of each token request, as parse_qs gives it

        def scripted(headers, body):
            form = urllib.parse.parse_qs(body.decode())
            self.forms.append(form)
            status, document = answer(form)
            return status, json.dumps(document).encode()

        super().__init__(scripted, delay)

    @property
    def calls(self):
        return len(self.forms)


def session_cookie(key, issuer, sub="alice", lifetime=3600, refresh_in=None, refresh_token="rt-1", **claims):
    """A session sealed as lighttpd seals one, due for a refresh in `refresh_in` seconds (negative:
    due now) when that is given."""
    import time
    now = int(time.time())
    contents = {"v": 1, "exp": now + lifetime, "idle": now + 3600,
                "claims": {"sub": sub, "iss": issuer, **claims}}
    if refresh_in is not None:
        contents.update(rt=refresh_token, ra=now + refresh_in)
    return seal(key, "__Host-gatehouse", contents)


def set_cookies(response, name="__Host-gatehouse"):
    """The values `response` sets for cookie `name` (an empty one deletes it)."""
    found = []
    for line in response.raw.headers.getlist("Set-Cookie"):
        if line.startswith(name + "="):
            found.append(line.split(";")[0].split("=", 1)[1])
    return found


def static_answer_times(site, count=20):
    """Seconds each of `count` requests for the site's static index.html took, one after the other
    on one connection (each answered 200 with the file): how lighttpd serves others meanwhile."""
    import time
    times = []
    with requests.Session() as other:
        for _ in range(count):
            started = time.monotonic()
            answer = other.get(site.url("/index.html"), timeout=5)
            times.append(time.monotonic() - started)
            assert answer.status_code == 200 and answer.text == "static\n"
    return times
