"""gatehouse.claims-schema against the real lighttpd: a bad schema and a rule that can never hold stop
`lighttpd -tt` (and are `gatehouse lint` errors), and a token minted by PyJWT whose declared claim has
another type is refused with 403 claim_type_mismatch, logged and audited, where one of the declared type
passes; `gatehouse check --claims` shows the same refusal."""
import json
import os
import subprocess

from gatehouse_testkit.paths import GATEHOUSE

SCHEMA = 'gatehouse.claims-schema = ( "teams" => "array of strings", "email" => "string", "level" => "integer" )\n'
RULES = """gatehouse.require = (
    "/api/teams/{team}/" => "path.team in claims.teams",
    "/api/senior/" => "claims.level >= 3",
    "/api/public/" => "anonymous",
)
"""


def lint(lighttpd, policy):
    result = subprocess.run([GATEHOUSE, "lint", "--config", lighttpd.config(policy)],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def test_an_unknown_type_stops_lighttpd_and_lint_naming_the_type_meant(lighttpd):
    policy = RULES + 'gatehouse.claims-schema = ( "teams" => "array of string" )\n'
    expected = ('gatehouse.claims-schema: "teams" => "array of string": unknown type (did you mean '
                '"array of strings"? expected one of "string", "number", "integer", "boolean", "array of strings", '
                '"array of numbers", "array", "object")')
    code, output = lighttpd.check(policy)
    assert code != 0 and expected in output, output
    code, output = lint(lighttpd, policy)
    assert code == 1 and "error: " + expected in output, output
    code, output = lighttpd.check(RULES + 'gatehouse.claims-schema = "teams"\n')
    assert code != 0 and 'gatehouse.claims-schema: expected a list of CLAIM => TYPE' in output, output
    code, output = lighttpd.check(RULES + 'gatehouse.claims-schema = ( "a..b" => "string" )\n')
    assert code != 0 and 'gatehouse.claims-schema: "a..b" => "string": expected a claim name' in output, output


def test_a_rule_that_can_never_hold_for_the_declared_types_stops_lighttpd_with_a_caret(lighttpd):
    # the schema at the top, the ill-typed rules in a block: checked with what encloses them
    policy = SCHEMA + """$HTTP["url"] =^ "/api/" {
    gatehouse.require = (
        "/api/teams/{team}/" => "claims.teams == path.team",
        "/api/mail/{team}/" => "path.team in claims.email",
        "/api/ok/" => "claims.level >= 3",
    )
}
"""
    code, output = lighttpd.check(policy)
    assert code != 0, output
    lines = [line.split(") ", 1)[-1] for line in output.splitlines()]
    first = lines.index(
        'gatehouse.require: rule "/api/teams/{team}/" => "claims.teams == path.team": claims.teams is an array of '
        'strings (gatehouse.claims-schema); == compares it with a string, so it never holds: use '
        '`path.team in claims.teams` or '
        '`claims.teams contains path.team` at column 14:')
    assert lines[first + 1:first + 3] == ["    claims.teams == path.team", "                 ^"], output
    assert ('gatehouse.require: rule "/api/mail/{team}/" => "path.team in claims.email": claims.email is a string '
            '(gatehouse.claims-schema); in looks in a list: use `path.team == claims.email` at column 11:') in lines
    assert "/api/ok/" not in output
    code, output = lint(lighttpd, policy)
    assert code == 1, output
    assert 'error: in $HTTP["url"] =^ "/api/": gatehouse.require: rule "/api/teams/{team}/"' in output, output
    assert "claims.email is a string (gatehouse.claims-schema); in looks in a list" in output
    assert output.strip().endswith("2 errors, 0 warnings"), output
    # the same rules without the schema are accepted: nothing says what type a claim has
    code, output = lighttpd.check(policy.replace(SCHEMA, ""))
    assert code == 0, output


def test_a_token_whose_claim_has_another_type_is_403_claim_type_mismatch_logged_and_audited(lighttpd, keys):
    audit = os.path.join(lighttpd.folder, "audit.log")
    lighttpd.start(SCHEMA + RULES + f'gatehouse.audit-log = "{audit}"\n')
    good = keys.mint(teams=["red", "blue"], level=4)
    assert lighttpd.get("/api/teams/red/report", token=good).status_code == 200
    assert lighttpd.get("/api/senior/x", token=good).status_code == 200
    assert lighttpd.get("/api/teams/green/report", token=good).status_code == 403  # policy_denied
    as_string = keys.mint(sub="bob", teams="scarlet")  # never logged
    refused = lighttpd.get("/api/teams/red/report", token=as_string)
    assert refused.status_code == 403 and "WWW-Authenticate" not in refused.headers
    as_real = keys.mint(sub="carol", teams=["red"], level=3.5)
    assert lighttpd.get("/api/senior/x", token=as_real).status_code == 403
    mixed = keys.mint(sub="dave", teams=["red", 7])
    assert lighttpd.get("/api/teams/red/report", token=mixed).status_code == 403
    # where the answer does not depend on the caller, the request goes on without identity
    public = lighttpd.get("/api/public/x", token=as_string)
    assert public.status_code == 200
    assert "x-auth-subject" not in {name.lower() for name, _ in public.json()["headers"]}
    lighttpd.stop()
    log = lighttpd.log()
    assert ('gatehouse: GET /api/teams/red/report: claim "teams" is a string, not an array of strings '
            '(gatehouse.claims-schema)') in log, log
    assert 'claim "level" is a number with a fraction, not an integer (gatehouse.claims-schema)' in log
    assert ('claim "teams" is an array whose element 1 is an integer, not an array of strings '
            '(gatehouse.claims-schema)') in log
    assert 'GET /api/public/x: claim "teams" is a string' in log
    assert "scarlet" not in log
    records = [json.loads(line) for line in open(audit)]
    assert [(r["status"], r["reason"], r.get("sub")) for r in records] == [
        (403, "policy_denied", "alice"), (403, "claim_type_mismatch", "bob"), (403, "claim_type_mismatch", "carol"),
        (403, "claim_type_mismatch", "dave")]


def test_check_with_claims_shows_the_refusal(lighttpd):
    config = lighttpd.config(SCHEMA + RULES)

    def check(claims):
        result = subprocess.run([GATEHOUSE, "check", "--json", "--config", config, "--path", "/api/teams/red/x",
                                 "--claims", json.dumps(claims)], capture_output=True, text=True, timeout=60)
        return result.returncode, json.loads(result.stdout)

    code, shown = check({"sub": "alice", "teams": "red"})
    assert code == 1 and (shown["status"], shown["reason"]) == (403, "claim_type_mismatch"), shown
    assert shown["log"] == ['gatehouse: GET /api/teams/red/x: claim "teams" is a string, not an array of strings '
                            '(gatehouse.claims-schema)'], shown
    code, shown = check({"sub": "alice", "teams": ["red"]})
    assert code == 0 and shown["decision"] == "allow", shown
    result = subprocess.run([GATEHOUSE, "check", "--config", config, "--path", "/api/teams/red/x", "--claims",
                             '{"sub": "alice", "teams": "red"}'], capture_output=True, text=True, timeout=60)
    assert "claim_type_mismatch" in result.stdout and 'claim "teams" is a string' in result.stdout, result.stdout


def test_policy_tests_can_expect_the_refusal(lighttpd, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"cases": [
        {"name": "teams as a string", "request": {"path": "/api/teams/red/x"},
         "claims": {"sub": "alice", "teams": "red"},
         "expect": {"decision": "deny", "status": 403, "reason": "claim_type_mismatch"}},
        {"name": "teams as an array", "request": {"path": "/api/teams/red/x"},
         "claims": {"sub": "alice", "teams": ["red"]}, "expect": {"decision": "allow"}},
    ]}))
    result = subprocess.run([GATEHOUSE, "test", "--config", lighttpd.config(SCHEMA + RULES), str(cases)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "2 passed, 0 failed" in result.stdout, result.stdout + result.stderr
    wrong = cases.read_text().replace('"reason": "claim_type_mismatch"', '"reason": "policy_denied"')
    cases.write_text(wrong)
    result = subprocess.run([GATEHOUSE, "test", "--config", lighttpd.config(SCHEMA + RULES), str(cases)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "expected reason \"policy_denied\", got \"claim_type_mismatch\"" in \
        result.stdout, result.stdout
