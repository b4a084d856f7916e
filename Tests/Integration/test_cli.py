"""`gatehouse verify` against tokens minted by PyJWT: output and exit codes."""
import json
import subprocess
import time

from gatehouse_testkit.paths import GATEHOUSE
from gatehouse_testkit.tokens import AUDIENCE, ISSUER


def verify(keys, *args, stdin=None):
    result = subprocess.run([GATEHOUSE, "verify", "--jwks", keys.jwks_path, *args], input=stdin,
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def test_a_valid_token_prints_its_claims_and_exits_0(keys):
    code, out, _ = verify(keys, "--token", keys.mint(roles=["admin"]), "--issuer", ISSUER, "--audience", AUDIENCE,
                          "--json")
    assert code == 0
    document = json.loads(out)
    assert document["valid"] is True
    assert document["header"]["kid"] == "rsa-1" and document["claims"]["roles"] == ["admin"]


def test_an_invalid_token_prints_the_reason_and_exits_1(keys):
    code, out, _ = verify(keys, "--token", keys.mint(aud="other"), "--audience", AUDIENCE, "--json")
    assert code == 1
    assert json.loads(out) == {"valid": False, "error": "wrong_audience",
                               "message": "the token is not meant for this audience"}
    code, out, _ = verify(keys, "--token", keys.mint(key=keys.other))
    assert code == 1 and out.startswith("invalid: bad_signature")


def test_now_fixes_the_clock(keys):
    token = keys.mint(lifetime=60)
    assert verify(keys, "--token", token)[0] == 0
    code, out, _ = verify(keys, "--token", token, "--now", str(int(time.time()) + 3600))
    assert code == 1 and "expired" in out


def test_the_token_can_come_from_standard_input(keys):
    code, out, _ = verify(keys, "--token", "-", "--json", stdin=keys.mint(alg="ES256") + "\n")
    assert code == 0 and json.loads(out)["header"]["alg"] == "ES256"


def test_signature_only_ignores_the_claims(keys):
    token = keys.mint(lifetime=-3600, aud="other")
    assert verify(keys, "--token", token, "--audience", AUDIENCE)[0] == 1
    code, out, _ = verify(keys, "--token", token, "--audience", AUDIENCE, "--signature-only", "--json")
    assert code == 0 and json.loads(out)["claims"]["aud"] == "other"


def test_usage_and_key_errors_exit_2(keys, tmp_path):
    code, _, err = verify(keys, "--token", keys.mint(), "--algorithms", "RS256,XX999")
    assert code == 2 and "unknown algorithm" in err
    result = subprocess.run([GATEHOUSE, "verify", "--jwks", str(tmp_path / "missing.json"), "--token", "a.b.c"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "cannot read" in result.stderr
    result = subprocess.run([GATEHOUSE, "verify", "--token", "a.b.c"], capture_output=True, text=True)
    assert result.returncode == 2
