"""`gatehouse check`, `test` and `lint --offline` where the server's files are not: missing key files
are warnings, `--define` points the configuration at test keys; and the request they decide is the one
lighttpd sees (the request as a client sends it, parsed as lighttpd parses it)."""
import json
import os
import socket
import subprocess

import pytest

from gatehouse_testkit.lighttpd import raw_request
from gatehouse_testkit.paths import GATEHOUSE, ROOT

LUIGI = os.path.join(ROOT, "examples", "luigi.conf")
OPERATOR = json.dumps({"sub": "otto", "roles": ["operator"]})


def gatehouse(*args, stdin=None):
    result = subprocess.run([GATEHOUSE, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def luigi_token(keys, **claims):
    return keys.mint(iss="https://login.example.com/realms/data", aud="luigi", **claims)


def test_the_example_names_a_key_file_that_is_not_here():
    assert not os.path.exists("/etc/lighttpd/gatehouse/jwks.json")


# A POST as clients send one without a body (lighttpd answers one without a length 411 itself).
POST = ("--method", "POST", "--header", "Content-Length: 0")
NO_BODY = {"Content-Length": "0"}

def test_check_with_claims_needs_no_key_file():
    code, out, err = gatehouse("check", "--config", LUIGI, *POST, "--path", "/api/add_task",
                               "--claims", OPERATOR, "--json")
    assert code == 0, err
    assert json.loads(out)["decision"] == "allow"
    assert "warning: gatehouse.jwks: cannot read /etc/lighttpd/gatehouse/jwks.json" in err
    code, out, _ = gatehouse("check", "--config", LUIGI, *POST, "--path", "/api/add_task", "--json")
    assert code == 1 and json.loads(out)["status"] == 401


def test_lint_offline_warns_where_lint_and_lighttpd_refuse(lighttpd, tmp_path):
    code, out, _ = gatehouse("lint", "--offline", "--config", LUIGI)
    assert code == 0, out
    assert "warning: gatehouse.jwks: cannot read /etc/lighttpd/gatehouse/jwks.json" in out
    for name in ("client-secret-file", "session-key-file", "provider-metadata"):
        assert f"warning: gatehouse.{name}: cannot read /etc/lighttpd/gatehouse/" in out
    assert out.strip().endswith("0 errors, 4 warnings")
    code, out, _ = gatehouse("lint", "--config", LUIGI)
    assert code == 1 and "error: gatehouse.jwks: cannot read" in out
    # the module keeps refusing a missing key file: the leniency is the CLI's alone
    lighttpd.values["jwks"] = str(tmp_path / "missing.json")
    status, output = lighttpd.check('gatehouse.require = ( "/" => "authenticated" )')
    assert status != 0 and "missing.json" in output


def sign_in_defines(folder):
    """--define values for the example's browser sign-in files, written here."""
    from gatehouse_testkit.sign_in import write_key_file
    secret, metadata = os.path.join(folder, "secret"), os.path.join(folder, "provider.json")
    with open(secret, "w") as f:
        f.write("s3cret\n")
    with open(metadata, "w") as f:
        json.dump({"issuer": "https://login.example.com/realms/data",
                   "authorization_endpoint": "https://login.example.com/auth",
                   "token_endpoint": "https://login.example.com/token"}, f)
    return ["--define", f"client_secret={secret}", "--define", f"provider_metadata={metadata}",
            "--define", f"session_keys={write_key_file(os.path.join(folder, 'keys'))}"]


def test_a_token_needs_the_keys_and_define_points_at_them(keys, tmp_path):
    token = luigi_token(keys, sub="otto", roles=["operator"])
    code, _, err = gatehouse("check", "--config", LUIGI, *POST, "--path", "/api/add_task",
                             "--token", token)
    assert code == 2
    assert "needs real signature verification" in err and "/etc/lighttpd/gatehouse/jwks.json" in err
    code, out, err = gatehouse("check", "--config", LUIGI, "--define", f"jwks={keys.jwks_path}", *POST,
                               "--path", "/api/add_task", "--token", token, "--json")
    assert code == 0, err
    outcome = json.loads(out)
    assert outcome["decision"] == "allow" and outcome["headers"]["X-Auth-Subject"] == "otto"
    assert "gatehouse.jwks" not in err
    forged = keys.mint(key=keys.other, iss="https://login.example.com/realms/data", aud="luigi", roles=["operator"])
    code, out, _ = gatehouse("check", "--config", LUIGI, "--define", f"var.jwks={keys.jwks_path}", "--path",
                             "/api/pause", "--token", forged, "--json")
    assert code == 1 and json.loads(out)["reason"] == "bad_signature"
    code, out, _ = gatehouse("lint", "--config", LUIGI, "--define", f"jwks={keys.jwks_path}",
                             *sign_in_defines(str(tmp_path)))
    assert code == 0 and out.strip().endswith("0 errors, 0 warnings"), out


def test_test_runs_claims_cases_offline_and_says_which_case_needs_keys(keys, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"cases": [
        {"name": "operator adds a task", "request": {"method": "POST", "path": "/api/add_task", "headers": NO_BODY},
         "claims": {"sub": "otto", "roles": ["operator"]}, "expect": {"decision": "allow"}},
        {"name": "no token", "request": {"method": "POST", "path": "/api/add_task", "headers": NO_BODY},
         "anonymous": True, "expect": {"decision": "deny", "status": 401, "reason": "no_token"}},
        {"name": "a real token", "request": {"path": "/api/graph"}, "token": luigi_token(keys, roles=["viewer"]),
         "expect": {"decision": "allow"}},
    ]}))
    code, out, _ = gatehouse("test", "--config", LUIGI, str(cases))
    assert code == 1
    assert out.splitlines()[-1] == "2 passed, 1 failed"
    assert "FAIL a real token: the request's token needs real signature verification" in out
    code, out, _ = gatehouse("test", "--config", LUIGI, "--define", f"jwks={keys.jwks_path}", "--json", str(cases))
    report = json.loads(out)
    assert code == 0 and report["passed"] == 3 and report["failed"] == 0
    assert [case["outcome"]["status"] for case in report["cases"]] == [0, 401, 0]
    assert report["cases"][2]["outcome"]["headers"]["X-Auth-Subject"] == "alice"


def decide(config, *args):
    code, out, err = gatehouse("check", "--config", config, "--json", *args)
    assert code in (0, 1), err
    return json.loads(out)


POLICY = """
gatehouse.token-sources = ( "header:Authorization", "cookie:gh", "query:access_token" )
gatehouse.require = (
    "/team/"  => "request.header.X-Team == 'blue, green'",
    "/empty/" => "request.header.X-Team exists",
    "/host/"  => "request.host == 'api.test'",
    "/admin/" => "deny",
    "/"       => "authenticated",
)
$HTTP["querystring"] =~ "(^|&)debug=1" {
    gatehouse.require = ( "/" => "deny" )
}
"""


def test_the_cli_reads_the_request_as_lighttpd_does(lighttpd, keys):
    config = lighttpd.config(POLICY)
    token = keys.mint()
    # repeated headers are joined (", "; "; " for Cookie) for rules as for conditions
    assert decide(config, "--path", "/team/x", "--header", "X-Team: blue", "--header", "X-Team: green")["status"] == 0
    # an empty header is no header
    assert decide(config, "--path", "/empty/x", "--header", "X-Team:")["status"] == 403
    assert decide(config, "--path", "/empty/x", "--header", "X-Team: a")["status"] == 0
    # the host lower-cased, without a trailing dot or the default port
    assert decide(config, "--path", "/host/x", "--host", "API.Test.:80")["status"] == 0
    # over-encoded queries and paths are decoded as lighttpd decodes them
    assert decide(config, "--path", "/x", "--query", "%64ebug=1", "--token", token)["status"] == 403
    assert decide(config, "--path", "/x", "--query", "%61ccess_token=" + token)["status"] == 0
    assert decide(config, "--path", "/public/%2e%2e/adm%69n/x", "--token", token)["rule"] == "/admin/"
    # two Authorization headers, or a token in a second Cookie header, are what lighttpd hands the module
    two = decide(config, "--path", "/x", "--header", f"Authorization: Bearer {token}", "--header",
                 f"Authorization: Bearer {token}")
    assert two["status"] == 401 and two["reason"] == "malformed"
    assert decide(config, "--path", "/x", "--header", "Cookie: a=1", "--header", f"Cookie: gh={token}")["status"] == 0
    # lighttpd's own 400s are shown as such
    rejected = decide(config, "--path", "/x", "--host", "bad_host")
    assert rejected["status"] == 400 and rejected["reason"] == "rejected_by_lighttpd"
    # --anonymous means no credentials: a token in a --header is not silently verified
    code, _, err = gatehouse("check", "--config", config, "--path", "/x", "--anonymous", "--header",
                             f"Authorization: Bearer {token}")
    assert code == 2 and "carries a token" in err
    lighttpd.start(POLICY)
    # the same requests sent to lighttpd (a request let through finds no file: 404)
    for path, headers, status in (("/team/x", [("X-Team", "blue"), ("X-Team", "green")], 404),
                                  ("/empty/x", [("X-Team", "")], 403),
                                  ("/x?%64ebug=1", [("Authorization", f"Bearer {token}")], 403),
                                  ("/x?%61ccess_token=" + token, [], 404)):
        with socket.create_connection(("127.0.0.1", lighttpd.port)) as s:
            s.sendall((f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                       + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n").encode())
            answer = s.recv(4096).decode()
        assert answer.split()[1] == str(status), (path, answer)


def test_test_cases_repeat_headers_as_lists_or_pairs(lighttpd, tmp_path):
    config = lighttpd.config(POLICY)
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([
        {"name": "list", "request": {"path": "/team/x", "headers": {"X-Team": ["blue", "green"]}},
         "expect": {"decision": "allow"}},
        {"name": "pairs", "request": {"path": "/team/x", "headers": [["X-Team", "blue"], ["x-team", "green"]]},
         "expect": {"decision": "allow"}},
        {"name": "one", "request": {"path": "/team/x", "headers": {"X-Team": "blue"}},
         "expect": {"decision": "deny", "status": 403}},
    ]))
    code, out, err = gatehouse("test", "--config", config, str(cases))
    assert code == 0 and out.strip() == "3 passed, 0 failed", out + err


def test_check_explains_a_decision(lighttpd, keys):
    config = lighttpd.config('gatehouse.require = ( "/t/{tenant}/" => "claims.tenant == path.tenant" )')
    result = subprocess.run([GATEHOUSE, "check", "--config", config, "--path", "/t/globex/y", "--host", "localhost",
                             "--claims", json.dumps({"sub": "alice", "tenant": "acme"}), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["decision"] == "deny" and outcome["status"] == 403 and outcome["rule"] == "/t/{tenant}/"
    assert any("claims.tenant == path.tenant: 'acme' == 'globex' is false" in line for line in outcome["explanation"])
    allowed = subprocess.run([GATEHOUSE, "check", "--config", config, "--path", "/t/acme/y",
                              "--token", keys.mint(tenant="acme"), "--json"], capture_output=True, text=True)
    assert allowed.returncode == 0 and json.loads(allowed.stdout)["headers"] == {"X-Auth-Subject": "alice"}


@pytest.mark.parametrize("method,fields,body", [
    ("POST", [], None),
    ("POST", ["Content-Length: 0"], None),
    ("POST", ["Content-Length: 2"], "ab"),
    ("POST", ["Transfer-Encoding: chunked"], "0\r\n"),
    ("POST", ["Transfer-Encoding: gzip"], None),
    ("POST", ["Transfer-Encoding: chunked", "Content-Length: 0"], "0\r\n"),
    ("PUT", [], None),
    ("PATCH", [], None),
    ("GET", ["Content-Length: 2"], "ab"),
    ("GET", ["Content-Length: 0"], None),
])
def test_check_answers_a_request_body_as_lighttpd_does(lighttpd, method, fields, body):
    """What a request says of its body, refused by lighttpd itself (a POST without a length: 411)
    or decided by the module (403 here): `check` gives the status the real server answers."""
    policy = 'gatehouse.require = ( "/" => "deny" )\n'
    lighttpd.start(policy)
    lines = [f"{method} /x HTTP/1.1", "Host: t", *fields, "Connection: close", ""]
    served, _ = raw_request(lighttpd.port, lines + ([body] if body is not None else []))
    headers = [arg for field in fields for arg in ("--header", field)]
    code, out, err = gatehouse("check", "--config", lighttpd.config(policy), "--method", method, "--path", "/x",
                               "--host", "t", *headers, "--json")
    decided = json.loads(out)
    assert (code, decided["status"]) == (1, served), out + err
    if served != 403:
        assert decided["reason"] == "rejected_by_lighttpd"
        assert decided["explanation"][0].startswith(f"lighttpd answers {served} before any module runs: ")
