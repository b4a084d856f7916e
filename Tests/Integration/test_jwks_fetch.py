"""`gatehouse jwks fetch` against a real provider (oidc-provider-mock) and against a scripted one
that publishes exactly what a test needs: encryption keys, symmetric keys, private keys, a wrong
issuer, redirects, a key rotation."""
import http.server
import json
import os
import subprocess
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gatehouse_testkit.paths import GATEHOUSE


def public_jwk(key, **members):
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(members)
    return jwk


class ScriptedProvider:
    """Serves /.well-known/openid-configuration and /jwks from `self.documents`."""

    def __init__(self):
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                answer = provider.documents.get(self.path)
                if answer is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                data = json.dumps(body).encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.documents = {}
        self.publish(keys=[])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, keys, issuer=None, jwks_uri=None):
        self.documents["/.well-known/openid-configuration"] = (200, {}, {
            "issuer": issuer or self.issuer, "jwks_uri": jwks_uri or f"{self.issuer}/jwks"})
        self.documents["/jwks"] = (200, {}, {"keys": keys})

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def scripted():
    provider = ScriptedProvider()
    yield provider
    provider.stop()


def fetch(issuer, out, *extra):
    return subprocess.run([GATEHOUSE, "jwks", "fetch", "--issuer", issuer, "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.e2e  # starts the real provider
def test_the_real_providers_keys_are_written_once_and_left_alone_when_unchanged(provider, tmp_path):
    out = tmp_path / "jwks.json"
    first = fetch(provider.issuer, out)
    assert first.returncode == 0 and "wrote 1 key(s)" in first.stdout
    published = provider.session.get(f"{provider.issuer}/jwks").json()["keys"]
    assert json.loads(out.read_text())["keys"] == published
    stamp = os.stat(out)
    again = fetch(provider.issuer, out)
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert os.stat(out).st_mtime_ns == stamp.st_mtime_ns and os.stat(out).st_ino == stamp.st_ino


def test_only_signature_keys_are_kept(scripted, tmp_path):
    signing, encrypting = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    scripted.publish(keys=[
        public_jwk(signing, kid="sig-1", use="sig", alg="RS256"),
        public_jwk(encrypting, kid="enc-1", use="enc"),                    # Keycloak publishes one of these
        public_jwk(encrypting, kid="oaep-1", alg="RSA-OAEP"),
        {"kty": "oct", "kid": "hs", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"},
        public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024), kid="weak-1"),
    ])
    out = tmp_path / "jwks.json"
    result = fetch(scripted.issuer, out)
    assert result.returncode == 0, result.stderr
    assert [k["kid"] for k in json.loads(out.read_text())["keys"]] == ["sig-1"]
    warnings = result.stderr.splitlines()
    for number, kid, why in ((2, "enc-1", '"use" is "enc"'), (3, "oaep-1", "RSA-OAEP"), (4, "hs", "symmetric"),
                             (5, "weak-1", "at least 2048 bits")):
        line = next(w for w in warnings if f'(kid "{kid}")' in w)
        assert line.startswith(f'gatehouse: warning: left out {scripted.issuer}/jwks: key #{number} (kid "{kid}"): ')
        assert why in line and line.count("key #") == 1, line


@pytest.mark.parametrize("case, status, message", [
    ("wrong issuer", 1, 'names the issuer "http://idp.other.test"'),
    ("private key", 1, "private key material"),
    ("no usable key", 1, "no signature key"),
    ("plain http elsewhere", 1, "jwks_uri \"http://keys.example.com/jwks\": http:// is accepted only for a provider"),
])
def test_a_refused_answer_leaves_the_file_as_it_was(scripted, tmp_path, case, status, message):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if case == "wrong issuer":
        scripted.publish(keys=[public_jwk(key)], issuer="http://idp.other.test")
    elif case == "private key":
        private = json.loads(RSAAlgorithm.to_jwk(key))
        scripted.publish(keys=[public_jwk(key, kid="a"), dict(private, kid="b")])
    elif case == "no usable key":
        scripted.publish(keys=[public_jwk(key, use="enc")])
    else:
        scripted.publish(keys=[public_jwk(key)], jwks_uri="http://keys.example.com/jwks")
    out = tmp_path / "jwks.json"
    out.write_text("previous keys\n")
    result = fetch(scripted.issuer, out)
    assert result.returncode == status and message in result.stderr, result.stderr
    assert out.read_text() == "previous keys\n" and os.listdir(tmp_path) == ["jwks.json"]


def test_the_file_keeps_its_owner_group_and_mode_and_a_symbolic_link_stays_one(scripted, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    scripted.publish(keys=[public_jwk(key, kid="k1")])
    target = tmp_path / "keys" / "jwks.json"
    target.parent.mkdir()
    target.write_text("old\n")
    os.chown(target, 33, 33)  # www-data, lighttpd's user on Debian, which reloads keys unprivileged
    os.chmod(target, 0o640)
    link = tmp_path / "jwks-link.json"
    link.symlink_to(target)
    result = fetch(scripted.issuer, link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and json.loads(target.read_text())["keys"][0]["kid"] == "k1"
    info = os.stat(target)
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (33, 33, 0o640)
    assert sorted(os.listdir(target.parent)) == ["jwks.json"]


def test_a_jwks_uri_may_carry_a_query_but_an_oversized_answer_is_refused(scripted, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    scripted.publish(keys=[public_jwk(key, kid="b2c")], jwks_uri=f"{scripted.issuer}/keys?p=b2c_1_signin")
    scripted.documents["/keys?p=b2c_1_signin"] = scripted.documents["/jwks"]
    out = tmp_path / "jwks.json"
    assert fetch(scripted.issuer, out).returncode == 0
    scripted.documents["/keys?p=b2c_1_signin"] = (200, {}, {"keys": [public_jwk(key)], "pad": "x" * (2 << 20)})
    result = fetch(scripted.issuer, out)
    assert result.returncode == 1 and "larger than 1 MiB" in result.stderr, result.stderr
    assert json.loads(out.read_text())["keys"][0]["kid"] == "b2c"


def test_a_redirect_to_plain_http_elsewhere_is_not_followed(scripted, tmp_path):
    scripted.documents["/jwks"] = (302, {"Location": "http://keys.example.com/jwks"}, {})
    result = fetch(scripted.issuer, tmp_path / "jwks.json")
    assert result.returncode == 1 and "HTTP status 302" in result.stderr
    assert not (tmp_path / "jwks.json").exists()


def test_a_rotation_reaches_the_running_module_through_an_atomic_replace(scripted, lighttpd, keys, tmp_path):
    old, new = keys.rsa, rsa.generate_private_key(public_exponent=65537, key_size=2048)
    scripted.publish(keys=[public_jwk(old, kid="2026-a", alg="RS256")])
    out = tmp_path / "idp-jwks.json"
    assert fetch(scripted.issuer, out).returncode == 0
    os.chmod(out, 0o640)
    lighttpd.values.update(issuer=scripted.issuer, jwks=str(out))
    lighttpd.start('gatehouse.require = ( "/api/" => "authenticated" )\n')
    token_old = keys.mint(iss=scripted.issuer, key=old, kid="2026-a")
    token_new = keys.mint(iss=scripted.issuer, key=new, kid="2026-b")
    assert lighttpd.get("/api/x", token=token_old).status_code == 200
    assert lighttpd.get("/api/x", token=token_new).status_code == 401

    inode = os.stat(out).st_ino
    scripted.publish(keys=[public_jwk(new, kid="2026-b", alg="RS256")])
    assert fetch(scripted.issuer, out).returncode == 0
    assert os.stat(out).st_ino != inode and os.stat(out).st_mode & 0o777 == 0o640  # replaced, mode kept
    deadline = time.time() + 5
    while lighttpd.get("/api/x", token=token_new).status_code != 200:
        assert time.time() < deadline, lighttpd.log()
        time.sleep(0.2)
    assert lighttpd.get("/api/x", token=token_old).status_code == 401
    assert sorted(os.listdir(tmp_path)) == sorted(["idp-jwks.json", "www", "lighttpd.conf", "error.log"])
