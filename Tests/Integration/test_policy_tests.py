"""`gatehouse dev` (a test key and tokens signed with it) checked against PyJWT and the real module,
and `gatehouse test`'s -v, --run, --junit, unknown keys and absent expectations."""
import hashlib
import json
import os
import shutil
import re
import stat
import subprocess
import time
import xml.etree.ElementTree as ElementTree

import jwt
import pytest

from gatehouse_testkit.lighttpd import POLICY, Lighttpd
from gatehouse_testkit.paths import GATEHOUSE, ROOT
from gatehouse_testkit.tokens import AUDIENCE, ISSUER


def gatehouse(*args):
    result = subprocess.run([GATEHOUSE, *args], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module", params=["rsa", "ec"])
def dev_key(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dev-" + request.param)
    code, out, err = gatehouse("dev", "key", "--out", str(folder), "--type", request.param)
    assert code == 0, err
    return request.param, folder / "signing-key.pem", folder / "jwks.json"


def test_dev_key_writes_a_private_key_only_its_owner_reads_and_a_signature_jwks(dev_key):
    kind, key, jwks = dev_key
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    (published,) = json.loads(jwks.read_text())["keys"]
    assert published["use"] == "sig" and published["alg"] == {"rsa": "RS256", "ec": "ES256"}[kind]
    assert "d" not in published and jwt.PyJWK(published).key is not None
    code, _, err = gatehouse("dev", "key", "--out", str(key.parent))
    assert code == 2 and "exists" in err


def thumbprint(jwk):
    members = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).digest()


def test_the_kid_is_the_rfc7638_thumbprint(dev_key):
    _, _, jwks = dev_key
    (published,) = json.loads(jwks.read_text())["keys"]
    assert published["kid"] == jwt.utils.base64url_encode(thumbprint(published)).decode()


def test_pyjwt_verifies_a_dev_token(dev_key):
    kind, key, jwks = dev_key
    code, token, err = gatehouse("dev", "token", "--key", str(key), "--sub", "alice", "--issuer", "https://i",
                                 "--audience", "api", "--lifetime", "120", "--claims", '{"roles":["viewer"]}')
    assert code == 0, err
    (published,) = json.loads(jwks.read_text())["keys"]
    public = jwt.PyJWK(published)
    claims = jwt.decode(token.strip(), public.key, algorithms=[published["alg"]], audience="api", issuer="https://i")
    assert claims["sub"] == "alice" and claims["roles"] == ["viewer"]
    assert claims["exp"] - claims["iat"] == 120
    assert jwt.get_unverified_header(token.strip())["kid"] == published["kid"]
    # a token signed by another key fails: the signature is really checked
    other = key.parent.parent / ("other-" + kind)
    assert gatehouse("dev", "key", "--out", str(other), "--type", kind)[0] == 0
    (foreign,) = json.loads((other / "jwks.json").read_text())["keys"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token.strip(), jwt.PyJWK(foreign).key, algorithms=[published["alg"]], audience="api")


def test_the_module_verifies_a_pyjwt_token_against_a_dev_jwks(dev_key, backend, tmp_path):
    kind, key, jwks = dev_key
    (published,) = json.loads(jwks.read_text())["keys"]
    server = Lighttpd(str(tmp_path), backend, str(jwks)).start(POLICY)
    try:
        now = int(time.time())
        claims = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60, "roles": ["admin"]}
        token = jwt.encode(claims, key.read_bytes(), algorithm=published["alg"], headers={"kid": published["kid"]})
        assert server.get("/api/x", token=token).status_code == 200
        assert server.get("/api/x", token=token[:-4] + "AAAA").status_code == 401
        viewer = jwt.encode(dict(claims, roles=["viewer"]), key.read_bytes(), algorithm=published["alg"],
                            headers={"kid": published["kid"]})
        assert server.get("/api/x", token=viewer).status_code == 403
    finally:
        server.stop()


CONFIG = """
gatehouse.issuer = "https://idp.example.test"
gatehouse.audience = "api"
gatehouse.jwks = "/nonexistent/jwks.json"
gatehouse.headers = ( "X-Auth-Subject" => "sub", "X-Auth-Email" => "email" )
gatehouse.env = ( "AUTH_EMAIL" => "email" )
gatehouse.require = ( "GET /api/" => "role:viewer", "/api/" => "role:admin" )
"""


def run_cases(tmp_path, cases, *args):
    config = tmp_path / "lighttpd.conf"
    config.write_text(CONFIG)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": cases}))
    return gatehouse("test", "--config", str(config), str(path), *args)


VIEWER = {"sub": "alice", "roles": ["viewer"]}


NO_BODY = {"Content-Length": "0"}  # (a POST without a length: lighttpd answers 411 itself)

def test_verbose_lists_every_case_and_run_filters_them(tmp_path):
    cases = [
        {"name": "viewer reads", "request": {"path": "/api/x"}, "claims": VIEWER, "expect": {"decision": "allow"}},
        {"name": "viewer writes", "request": {"method": "POST", "path": "/api/x", "headers": NO_BODY}, "claims": VIEWER,
         "expect": {"decision": "allow"}},
    ]
    code, out, err = run_cases(tmp_path, cases, "-v")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == "PASS viewer reads"
    assert lines[1].startswith("FAIL viewer writes: expected allow, got deny")
    assert lines[-1] == "1 passed, 1 failed"
    code, out, err = run_cases(tmp_path, cases, "--run", "^viewer r")
    assert (code, out.splitlines()[-1]) == (0, "1 passed, 0 failed, 1 not matching --run"), out + err
    code, _, err = run_cases(tmp_path, cases, "--run", "(")
    assert code == 2 and "--run" in err


def test_junit_names_every_case_and_the_failures(tmp_path):
    cases = [
        {"name": "viewer reads", "request": {"path": "/api/x"}, "claims": VIEWER, "expect": {"decision": "allow"}},
        {"name": "viewer <writes>", "request": {"method": "POST", "path": "/api/x", "headers": NO_BODY},
         "claims": VIEWER, "expect": {"decision": "allow"}},
    ]
    report = tmp_path / "junit.xml"
    code, _, err = run_cases(tmp_path, cases, "--junit", str(report))
    assert code == 1, err
    suite = ElementTree.parse(report).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    testcases = suite.findall("testcase")
    assert [case.get("name") for case in testcases] == ["viewer reads", "viewer <writes>"]
    assert testcases[0].find("failure") is None
    assert "expected allow, got deny" in testcases[1].find("failure").get("message")


@pytest.mark.parametrize("case, message", [
    ({"statuss": 0}, 'unknown key "statuss" in the case: did you mean "status" (a key of "expect")?'),
    ({"expectt": {"decision": "allow"}}, 'unknown key "expectt" in the case: did you mean "expect"?'),
    ({"expect": {"decision": "allow", "statuss": 0}}, 'unknown key "statuss" in "expect": did you mean "status"?'),
    ({"request": {"path": "/api/x", "header": {}}}, 'unknown key "header" in "request": did you mean "headers"?'),
])
def test_an_unknown_key_is_an_error_naming_the_closest(tmp_path, case, message):
    full = {"name": "c", "claims": VIEWER, "expect": {"decision": "allow"}, **case}
    code, out, err = run_cases(tmp_path, [full])
    assert code == 2 and message in err, out + err


def test_null_expects_an_absent_header_or_env_variable(tmp_path):
    absent = {"name": "no email", "request": {"path": "/api/x"}, "claims": VIEWER,
              "expect": {"decision": "allow", "headers": {"X-Auth-Email": None}, "env": {"AUTH_EMAIL": None}}}
    code, out, err = run_cases(tmp_path, [absent])
    assert (code, out.strip()) == (0, "1 passed, 0 failed"), out + err
    present = dict(absent, claims=dict(VIEWER, email="a@example.test"))
    code, out, err = run_cases(tmp_path, [present])
    assert code == 1 and "expected no header X-Auth-Email" in out, out + err


def test_coverage_names_rules_never_chosen_and_operands_never_both_true_and_false(tmp_path):
    cases = [{"name": "viewer reads", "request": {"path": "/api/x"}, "claims": VIEWER, "expect": {"decision": "allow"}}]
    config = tmp_path / "lighttpd.conf"
    config.write_text(CONFIG.replace('"/api/" => "role:admin"', '"/api/" => "role:admin or claims.tier == \'gold\'"'))
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    code, out, err = gatehouse("test", "--coverage", "--config", str(config), str(path))
    assert code == 0, out + err
    assert "  chosen     \"GET /api/\" => \"role:viewer\"" in out
    assert "  NOT CHOSEN \"/api/\" => \"role:admin or claims.tier == 'gold'\"" in out
    assert "      NEVER true OR false role:admin" in out
    assert out.splitlines()[-1] == "coverage: 3 gaps (NOT CHOSEN or NEVER above)"
    # a writer's case chooses the rule: role:admin false, the tier true
    cases.append({"name": "gold writes", "request": {"method": "POST", "path": "/api/x", "headers": NO_BODY},
                  "claims": dict(VIEWER, tier="gold"), "expect": {"decision": "allow"}})
    path.write_text(json.dumps(cases))
    code, out, err = gatehouse("test", "--coverage", "--config", str(config), str(path))
    assert "  chosen     \"/api/\"" in out and "      NEVER true          role:admin" in out, out + err
    assert out.splitlines()[-1] == "coverage: 2 gaps (NOT CHOSEN or NEVER above)"


def test_the_reports_example_passes_with_complete_coverage():
    code, out, err = gatehouse("test", "-v", "--coverage", "--config", os.path.join(ROOT, "examples", "reports.conf"),
                               os.path.join(ROOT, "examples", "reports.cases.json"))
    assert code == 0, out + err
    assert "FAIL" not in out and "NOT CHOSEN" not in out and "NEVER" not in out
    assert out.splitlines()[-1] == "coverage: every rule chosen, every and / or operand both true and false"


def test_the_complete_cases_file_of_the_docs_passes(tmp_path):
    page = open(os.path.join(ROOT, "docs", "policy-tests.md"), encoding="utf-8").read()
    example = tmp_path / "cases.json"
    example.write_text(re.search(r"```json\n(.*?)```", page, re.S).group(1))
    code, out, err = gatehouse("test", "-v", "--config", os.path.join(ROOT, "examples", "reports.conf"),
                               str(example))
    assert (code, out.splitlines()[-1]) == (0, "1 passed, 0 failed"), out + err


def test_the_ci_recipe_runs_as_written(tmp_path):
    page = open(os.path.join(ROOT, "docs", "recipes", "policy-tests-in-ci.md"), encoding="utf-8").read()
    (steps,) = re.findall(r"## The steps \(any CI\)\n\n```sh\n(.*?)```", page, re.S)
    shutil.copy(os.path.join(ROOT, "examples", "reports.conf"), tmp_path / "lighttpd.conf")
    shutil.copy(os.path.join(ROOT, "examples", "reports.cases.json"), tmp_path / "policy-cases.json")
    assert gatehouse("dev", "key", "--out", str(tmp_path / "ci"))[0] == 0
    env = dict(os.environ, PATH=os.path.dirname(GATEHOUSE) + os.pathsep + os.environ["PATH"])
    run = subprocess.run(["bash", "-c", steps], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "\n12 passed, 0 failed\n" in run.stdout, run.stdout
    assert "\nallow (rule GET,HEAD /teams/{team}/reports/)\n" in run.stdout, run.stdout
    suite = ElementTree.parse(tmp_path / "results.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("12", "0")
    # the token step really verifies: a token for another audience is refused
    other = subprocess.run(["bash", "-c", steps.replace("--audience reports-api", "--audience other")], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert other.returncode == 1, other.stdout + other.stderr
