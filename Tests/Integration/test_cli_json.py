"""`--json` on every command of `gatehouse`: each leaf command's help offers it, and the commands
that make files or tokens (`dev key`, `dev token`, `session new-key`, `jwks fetch`, `bench rules`)
print one JSON document of the documented shape (README.md, "The command-line tool")."""
import http.server
import json
import re
import subprocess
import threading

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gatehouse_testkit.paths import GATEHOUSE


def run(*args):
    result = subprocess.run([GATEHOUSE, *args], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def subcommands(path):
    """The subcommands `gatehouse PATH --help` lists (none for a leaf command)."""
    _, out, _ = run(*path, "--help")
    if "SUBCOMMANDS:" not in out:
        return []
    listing = out.split("SUBCOMMANDS:", 1)[1]
    return [name for name in re.findall(r"^  (\S+)", listing, re.MULTILINE) if name != "See"]


def test_every_leaf_command_takes_json():
    leaves, pending = [], [[name] for name in subcommands([])] + [["bench"]]  # bench is hidden from the list
    while pending:
        path = pending.pop()
        children = subcommands(path)
        if children:
            pending += [path + [child] for child in children]
        else:
            leaves.append(path)
    assert len(leaves) >= 12, leaves
    for path in leaves:
        _, out, _ = run(*path, "--help")
        assert "--json" in out, f"gatehouse {' '.join(path)} has no --json"


def test_dev_key_json_names_the_files_kid_and_algorithm(tmp_path):
    for kind, algorithm in (("rsa", "RS256"), ("ec", "ES256")):
        out_dir = tmp_path / kind
        code, out, _ = run("dev", "key", "--out", str(out_dir), "--type", kind, "--json")
        assert code == 0
        document = json.loads(out)
        assert set(document) == {"private_key", "jwks", "kid", "algorithm"}
        assert document["algorithm"] == algorithm
        assert document["private_key"] == str(out_dir / "signing-key.pem")
        published = json.loads(open(document["jwks"]).read())["keys"][0]
        assert published["kid"] == document["kid"] and published["alg"] == algorithm


def test_dev_token_json_gives_the_token_and_what_it_carries(tmp_path):
    code, out, _ = run("dev", "key", "--out", str(tmp_path), "--type", "ec", "--json")
    made = json.loads(out)
    code, out, _ = run("dev", "token", "--key", made["private_key"], "--sub", "alice", "--audience", "api",
                       "--claims", '{"teams": ["blue"], "admin": true}', "--json")
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"token", "header", "claims"}
    jwk = json.loads(open(made["jwks"]).read())["keys"][0]
    verified = jwt.decode(document["token"], jwt.PyJWK(jwk).key, algorithms=["ES256"], audience="api")
    assert verified == document["claims"]
    assert verified["teams"] == ["blue"] and verified["admin"] is True and verified["sub"] == "alice"
    assert jwt.get_unverified_header(document["token"]) == document["header"]
    assert document["header"] == {"alg": "ES256", "typ": "JWT", "kid": made["kid"]}


def test_session_new_key_json_counts_the_keys(tmp_path):
    path = tmp_path / "session.key"
    code, out, _ = run("session", "new-key", "--out", str(path), "--json")
    assert code == 0 and json.loads(out) == {"path": str(path), "keys": 1, "rotated": False}
    code, out, _ = run("session", "new-key", "--out", str(path), "--rotate", "--json")
    assert code == 0 and json.loads(out) == {"path": str(path), "keys": 2, "rotated": True}
    assert len(path.read_text().split()) == 2


def test_bench_rules_json_lists_a_rate_per_rule_count():
    code, out, _ = run("bench", "rules", "--counts", "10,100", "--seconds", "0.05", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [row["rules"] for row in rows] == [10, 100]
    assert all(row["decisions_per_second"] > 0 for row in rows)


class Provider:
    """A provider on loopback publishing one signature key and one encryption key."""

    def __init__(self):
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = provider.documents.get(self.path)
                data = json.dumps(body).encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        key = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048).public_key()))
        self.documents = {
            "/.well-known/openid-configuration": {
                "issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks",
                "authorization_endpoint": f"{self.issuer}/auth", "token_endpoint": f"{self.issuer}/token"},
            "/jwks": {"keys": [dict(key, kid="sig-1", use="sig"), dict(key, kid="enc-1", use="enc")]},
        }
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_jwks_fetch_json_says_what_was_written_and_left_out(tmp_path):
    provider = Provider()
    try:
        out, metadata = tmp_path / "jwks.json", tmp_path / "provider.json"
        args = ("jwks", "fetch", "--issuer", provider.issuer, "--out", str(out), "--metadata-out", str(metadata),
                "--json")
        code, first, _ = run(*args)
        assert code == 0
        document = json.loads(first)
        assert document["jwks"] == {"path": str(out), "written": True, "keys": ["sig-1"],
                                    "from": f"{provider.issuer}/jwks"}
        assert document["metadata"] == {"path": str(metadata), "written": True}
        assert len(document["left_out"]) == 1 and 'kid "enc-1"' in document["left_out"][0]
        assert [key["kid"] for key in json.loads(out.read_text())["keys"]] == ["sig-1"]
        code, second, _ = run(*args)
        again = json.loads(second)
        assert code == 0 and again["jwks"]["written"] is False and again["metadata"]["written"] is False
        code, third, _ = run("jwks", "fetch", "--issuer", provider.issuer, "--out", str(out), "--json")
        assert code == 0 and json.loads(third)["metadata"] is None
    finally:
        provider.server.shutdown()
