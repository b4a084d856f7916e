"""`gatehouse test --url --signing-key`: the cases of examples/reports.cases.json sent as real
requests to the real lighttpd running examples/reports.conf, keyed with a `gatehouse dev key`
JWKS; the same file that passes offline passes live, and a changed expectation fails."""
import json
import os
import re
import socket
import subprocess
import threading

import pytest

from gatehouse_testkit.examples import configure
from gatehouse_testkit.lighttpd import Lighttpd
from gatehouse_testkit.paths import GATEHOUSE, ROOT

CASES = os.path.join(ROOT, "examples", "reports.cases.json")
ADDRESS_CASES = ["an admin on the admin network administers", "an admin elsewhere does not",
                 "a non-admin on the admin network does not"]


class Reports(Lighttpd):
    """lighttpd running examples/reports.conf (made local) on a free port."""

    def config(self, policy):
        path = os.path.join(self.folder, "lighttpd.conf")
        with open(path, "w") as f:
            f.write(f'server.document-root = "{self.docroot}"\nserver.bind = "127.0.0.1"\n'
                    f'server.port = {self.port}\nserver.errorlog = "{self.error_log}"\n' + policy)
        return path


@pytest.fixture
def reports(request, tmp_path, backend):
    """The server, its configuration file and the dev key; `request.param` (indirect): the key type
    and lines added to the configuration."""
    kind, extra = getattr(request, "param", ("rsa", ""))
    keys = tmp_path / "keys"
    made = subprocess.run([GATEHOUSE, "dev", "key", "--out", str(keys), "--type", kind, "--json"],
                          capture_output=True, text=True)
    key = json.loads(made.stdout)
    local = tmp_path / "reports.conf"
    configure("reports", local, jwks=key["jwks"], audit=str(tmp_path / "audit.log"), backend=backend)
    server = Reports(str(tmp_path), backend, key["jwks"])
    text = local.read_text() + extra
    server.start(text)
    config = server.config(text)
    yield server, config, key
    server.stop()


def live(server, config, key, cases, *args):
    result = subprocess.run([GATEHOUSE, "test", "--url", f"http://127.0.0.1:{server.port}", "--signing-key",
                             key["private_key"], "--config", config, str(cases), *args],
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("reports", [("rsa", ""), ("ec", "")], indirect=True, ids=["RS256", "ES256"])
def test_the_reports_cases_pass_against_the_running_server(reports):
    server, config, key = reports
    code, out, err = live(server, config, key, CASES, "-v")
    assert code == 0, out + err
    assert out.splitlines()[-1] == "9 passed, 0 failed, 3 skipped"
    for name in ADDRESS_CASES:
        assert f"SKIP {name}: needs client address " in out
    assert ("PASS a member reads her team's reports, and the backend learns who she is\n"
            "  not checked live: rule, header X-Auth-Subject, header X-Auth-Email\n") in out
    # The same file passes offline against the same configuration.
    offline = subprocess.run([GATEHOUSE, "test", "--config", config, CASES], capture_output=True, text=True)
    assert offline.returncode == 0 and offline.stdout.endswith("12 passed, 0 failed\n")


def changed(tmp_path, name, **expect):
    document = json.loads(open(CASES).read())
    (case,) = [case for case in document["cases"] if case["name"] == name]
    case["expect"].update(expect)
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(document))
    return path


def test_a_changed_expectation_fails_and_names_the_case(reports, tmp_path):
    server, config, key = reports
    code, out, _ = live(server, config, key, changed(tmp_path, "another team's reports are refused",
                                                     decision="allow"))
    assert code == 1
    assert "FAIL another team's reports are refused: expected allow, got deny (status 403)" in out
    assert out.splitlines()[-1] == "8 passed, 1 failed, 3 skipped"
    code, out, _ = live(server, config, key, changed(tmp_path, "reading without a token asks for one", status=403))
    assert code == 1 and "FAIL reading without a token asks for one: expected status 403, got 401" in out


def test_json_and_junit_show_every_case_with_its_answer(reports, tmp_path):
    server, config, key = reports
    junit = tmp_path / "live.xml"
    code, out, _ = live(server, config, key, CASES, "--json", "--junit", str(junit))
    assert code == 0
    document = json.loads(out)
    assert (document["passed"], document["failed"], document["skipped"]) == (9, 0, 3)
    by_name = {case["name"]: case for case in document["cases"]}
    assert by_name["reading without a token asks for one"]["response"] == {
        "status": 401, "www_authenticate": 'Bearer realm="localhost"'}
    assert by_name["health is public"]["response"]["status"] == 200 and by_name["health is public"]["passed"]
    assert by_name[ADDRESS_CASES[0]]["skipped"] == "needs client address 10.50.3.4"
    assert by_name["no email claim, no X-Auth-Email header"]["not_checked"] == [
        "header X-Auth-Subject", "header X-Auth-Email"]
    import xml.etree.ElementTree as ElementTree
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "12" and suite.get("failures") == "0" and suite.get("skipped") == "3"
    skipped = [case.get("name") for case in suite.iter("testcase") if case.find("skipped") is not None]
    assert skipped == ADDRESS_CASES


BOTH_WAYS = [
    {"name": "dot segments are sent as written and resolved by lighttpd",
     "request": {"path": "/teams/blue/../green/reports/q3"}, "claims": {"sub": "alice", "teams": ["blue"]},
     "expect": {"decision": "deny", "status": 403}},
    {"name": "percent-encoded letters are decoded by lighttpd",
     "request": {"path": "/teams/blue/reports/%71%33"}, "claims": {"sub": "alice", "teams": ["blue"]},
     "expect": {"decision": "allow"}},
    {"name": "repeated headers and a body length are sent",
     "request": {"method": "PUT", "path": "/teams/blue/reports/q3",
                 "headers": [["X-Trace", "a"], ["X-Trace", "b"], ["Content-Length", "5"]]},
     "claims": {"sub": "bob", "teams": ["blue"], "roles": ["editor"]}, "expect": {"decision": "allow"}},
    {"name": "no token: a challenge without an error", "request": {"path": "/teams/blue/reports/q3"},
     "anonymous": True, "expect": {"decision": "deny", "status": 401, "www_authenticate": 'Bearer realm="localhost"'}},
    {"name": "a token minted for a case's fixed time is as fresh now", "now": 1000000000,
     "request": {"path": "/teams/blue/reports/q3"},
     "claims": {"sub": "alice", "teams": ["blue"], "iat": 999999990, "exp": 1000000100},
     "expect": {"decision": "allow", "www_authenticate": None}},
]


def test_one_file_serves_offline_and_live(reports, tmp_path):
    server, config, key = reports
    path = tmp_path / "both.json"
    path.write_text(json.dumps({"cases": BOTH_WAYS}))
    code, out, err = live(server, config, key, path, "-v")
    assert code == 0 and out.splitlines()[-1] == "5 passed, 0 failed", out + err
    offline = subprocess.run([GATEHOUSE, "test", "--config", config, str(path)], capture_output=True, text=True)
    assert offline.returncode == 0, offline.stdout
    # A wrong challenge fails both ways.
    wrong = [dict(BOTH_WAYS[3], expect=dict(BOTH_WAYS[3]["expect"], www_authenticate='Bearer realm="x"'))]
    path.write_text(json.dumps({"cases": wrong}))
    code, out, _ = live(server, config, key, path)
    assert code == 1 and 'expected www_authenticate "Bearer realm=\\"x\\"", got "Bearer realm=\\"localhost\\""' in out
    offline = subprocess.run([GATEHOUSE, "test", "--config", config, str(path)], capture_output=True, text=True)
    assert offline.returncode == 1 and "expected www_authenticate" in offline.stdout


@pytest.mark.parametrize("reports", [("rsa", '\ngatehouse.token-sources = ( "cookie:at" )\n'
                                              'gatehouse.token-type = "at+jwt"\n')], indirect=True)
def test_minted_tokens_follow_the_token_source_and_type_of_the_configuration(reports, tmp_path):
    server, config, key = reports
    path = tmp_path / "cookie.json"
    path.write_text(json.dumps({"cases": BOTH_WAYS}))
    code, out, err = live(server, config, key, path)
    assert code == 0 and out.splitlines()[-1] == "5 passed, 0 failed", out + err
    # (sent as "Authorization: Bearer" or with "typ": "JWT", the allowed cases would get 401)


def test_live_only_time_and_token_cases(reports, tmp_path):
    server, config, key = reports
    expired = {"name": "expired at the case's time, so expired now", "now": 1000000000,
               "request": {"path": "/teams/blue/reports/q3"},
               "claims": {"sub": "alice", "teams": ["blue"], "exp": 999999000},
               "expect": {"decision": "deny", "status": 401}}
    fixed = {"name": "a given token at a fixed time", "now": 1000000000, "token": "a.b.c",
             "expect": {"decision": "deny"}}
    path = tmp_path / "time.json"
    path.write_text(json.dumps({"cases": [expired, fixed]}))
    code, out, _ = live(server, config, key, path, "--json")
    document = json.loads(out)
    assert code == 0 and (document["passed"], document["skipped"]) == (1, 1), out
    assert 'error="invalid_token"' in document["cases"][0]["response"]["www_authenticate"]
    assert document["cases"][1]["skipped"].startswith("decided at now=1000000000")


def test_without_config_the_tokens_lack_issuer_and_audience(reports):
    server, _, key = reports
    result = subprocess.run([GATEHOUSE, "test", "--url", f"http://127.0.0.1:{server.port}", "--signing-key",
                             key["private_key"], CASES], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "expected allow, got deny (status 401)" in result.stdout


def test_usage_errors_exit_2(reports, tmp_path):
    server, config, key = reports
    url = f"http://127.0.0.1:{server.port}"
    for args, message in (
            (["--url", url], "--url needs --signing-key"),
            (["--url", url, "--signing-key", key["private_key"], "--coverage"], "--coverage is offline only"),
            (["--url", url.replace("http", "https"), "--signing-key", key["private_key"]], "expected http://"),
            (["--url", url + "/base", "--signing-key", key["private_key"]], "without a path"),
            (["--signing-key", key["private_key"]], "--signing-key, --kid and --timeout go with --url")):
        result = subprocess.run([GATEHOUSE, "test", "--config", config, CASES, *args], capture_output=True, text=True)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    server.stop()
    result = subprocess.run([GATEHOUSE, "test", "--config", config, CASES, "--url", url, "--signing-key",
                             key["private_key"]], capture_output=True, text=True)
    assert result.returncode == 2 and "cannot connect to 127.0.0.1" in result.stderr


class Scripted:
    """A loopback server that records each request's bytes and answers with `self.answer`."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests = []
        self.answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *(\d+)", head)
                while length and len(body) < int(length.group(1)):
                    body += connection.recv(65536)
                self.requests.append(data)
                connection.sendall(self.answer)


def test_the_request_is_sent_byte_for_byte_and_an_interim_answer_is_passed_over(tmp_path):
    server = Scripted()
    key = json.loads(subprocess.run([GATEHOUSE, "dev", "key", "--out", str(tmp_path / "k"), "--json"],
                                    capture_output=True, text=True).stdout)
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"cases": [
        {"name": "raw", "request": {"method": "POST", "path": "/a/../b/%2e%2E/c?x=%20", "query": "y=1",
                                    "host": "api.example",
                                    "headers": [["X-Trace", "1"], ["x-trace", "2"], ["Content-Length", "0"]]},
         "anonymous": True, "expect": {"decision": "allow"}}]}))
    url = f"http://127.0.0.1:{server.port}"
    result = subprocess.run([GATEHOUSE, "test", "--url", url, "--signing-key", key["private_key"], str(cases)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.requests[0] == (b"POST /a/../b/%2e%2E/c?x=%20?y=1 HTTP/1.1\r\nHost: api.example\r\n"
                                  b"X-Trace: 1\r\nx-trace: 2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    server.answer = (b"HTTP/1.1 100 Continue\r\n\r\n"
                     b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    cases.write_text(json.dumps({"cases": [
        {"name": "interim", "request": {"path": "/x", "headers": {"Expect": "100-continue", "Content-Length": "3"}},
         "anonymous": True, "expect": {"decision": "deny", "status": 403}},
        {"name": "a line break cannot be sent", "request": {"headers": {"X-A": "a\r\nX-B: b"}},
         "anonymous": True, "expect": {"decision": "deny"}}]}))
    result = subprocess.run([GATEHOUSE, "test", "--url", url, "--signing-key", key["private_key"], str(cases)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        'FAIL a line break cannot be sent: cannot be sent: a line break or NUL in "a\\r\\nX-B: b"',
        "1 passed, 1 failed"]
    assert server.requests[1].endswith(b"Content-Length: 3\r\nConnection: close\r\n\r\n   ")
    server.listener.close()
