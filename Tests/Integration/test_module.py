"""Stories of single requests through the real lighttpd with mod_gatehouse,
with tokens minted by PyJWT (an implementation Gatehouse did not write)."""
import base64
import json
import os

from gatehouse_testkit.lighttpd import POLICY, free_port, raw_request, seen_headers
from gatehouse_testkit.paths import GATEHOUSE


def test_no_token_is_refused_with_a_bearer_challenge(lighttpd):
    lighttpd.start(POLICY)
    response = lighttpd.get("/api/flows")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="127.0.0.1:{lighttpd.port}"'


def test_a_token_signed_by_another_key_is_invalid(lighttpd, keys):
    lighttpd.start(POLICY)
    response = lighttpd.get("/api/flows", token=keys.mint(key=keys.other, roles=["admin"]))
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge and 'error_description="the signature does not verify"' in challenge


def test_an_expired_token_is_invalid(lighttpd, keys):
    lighttpd.start(POLICY)
    response = lighttpd.get("/api/flows", token=keys.mint(lifetime=-120, roles=["admin"]))
    assert response.status_code == 401
    assert 'error_description="the token has expired"' in response.headers["WWW-Authenticate"]


def test_a_token_for_another_audience_is_invalid(lighttpd, keys):
    lighttpd.start(POLICY)
    response = lighttpd.get("/api/flows", token=keys.mint(aud="another-api", roles=["admin"]))
    assert response.status_code == 401
    assert "audience" in response.headers["WWW-Authenticate"]


def test_a_valid_token_without_the_role_is_forbidden(lighttpd, keys):
    lighttpd.start(POLICY)
    response = lighttpd.get("/api/flows", token=keys.mint(roles=["viewer"]))
    assert response.status_code == 403


def test_the_right_role_reaches_the_backend_with_the_subject(lighttpd, keys):
    lighttpd.start(POLICY)
    response = lighttpd.get("/api/flows", token=keys.mint(sub="alice@example.test", roles=["admin"]))
    assert response.status_code == 200
    assert seen_headers(response)["x-auth-subject"] == ["alice@example.test"]


def test_es256_tokens_work_too(lighttpd, keys):
    lighttpd.start(POLICY)
    response = lighttpd.get("/api/flows", token=keys.mint(alg="ES256", roles=["admin"]))
    assert response.status_code == 200


def test_method_lists_pick_their_rule(lighttpd, keys):
    lighttpd.start(POLICY)
    viewer = keys.mint(roles=["viewer"])
    assert lighttpd.get("/api/reports/1", token=viewer).status_code == 200
    assert lighttpd.get("/api/reports/1", token=viewer, method="POST").status_code == 403


def test_a_client_sent_subject_never_reaches_the_backend(lighttpd, keys):
    lighttpd.start(POLICY)
    spoofed = {"X-Auth-Subject": "root", "X_Auth_Subject": "root", "x-auth.subject": "root"}
    allowed = lighttpd.get("/api/flows", token=keys.mint(sub="alice", roles=["admin"]), headers=spoofed)
    assert allowed.status_code == 200
    received = seen_headers(allowed)
    assert received["x-auth-subject"] == ["alice"]
    assert "x_auth_subject" not in received and "x-auth.subject" not in received
    anonymous = lighttpd.get("/api/public/x", headers=spoofed)
    assert anonymous.status_code == 200
    received = seen_headers(anonymous)
    assert not {"x-auth-subject", "x_auth_subject", "x-auth.subject"} & set(received)


def test_anonymous_paths_pass_and_still_carry_a_valid_identity(lighttpd, keys):
    lighttpd.start(POLICY)
    assert lighttpd.get("/api/public/x").status_code == 200
    with_token = lighttpd.get("/api/public/x", token=keys.mint(sub="bob"))
    assert seen_headers(with_token)["x-auth-subject"] == ["bob"]
    bad_token = lighttpd.get("/api/public/x", token=keys.mint(key=keys.other, sub="mallory"))
    assert bad_token.status_code == 200 and "x-auth-subject" not in seen_headers(bad_token)


def test_cgi_backends_get_remote_user_and_auth_type(lighttpd, keys):
    lighttpd.start(POLICY)
    response = lighttpd.get("/cgi/env.py", token=keys.mint(sub="carol"), headers={"X-Auth-Subject": "root"})
    assert response.status_code == 200
    environment = response.json()
    assert environment["REMOTE_USER"] == "carol"
    assert environment["AUTH_TYPE"] == "Bearer"
    assert environment["HTTP_X_AUTH_SUBJECT"] == "carol"


def test_static_files_are_guarded_too(lighttpd, keys):
    lighttpd.start(POLICY)
    assert lighttpd.get("/index.html").status_code == 401
    response = lighttpd.get("/index.html", token=keys.mint())
    assert response.status_code == 200 and response.text == "static\n"


def test_unsigned_and_malformed_tokens_are_refused(lighttpd, keys):
    lighttpd.start(POLICY)
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps({"iss": "x", "roles": ["admin"]}).encode()).rstrip(b"=").decode()
    for token in (f"{header}.{payload}.", f"{header}.{payload}.c2ln", "not-a-token", "a.b.c.d", "x.y.z" * 3300):
        response = lighttpd.get("/api/flows", token=token)
        assert response.status_code == 401, token[:40]
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "longer than 16384 bytes" in response.headers["WWW-Authenticate"]


def test_two_authorization_headers_are_refused(lighttpd, keys):
    lighttpd.start(POLICY)
    token = keys.mint(roles=["admin"])
    status, text = raw_request(lighttpd.port, [
        "GET /api/flows HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
        f"Authorization: Bearer {token}", f"Authorization: Bearer {keys.mint(roles=['viewer'])}"])
    assert status == 401 and "more than one credential" in text


def test_the_debug_log_explains_each_decision(lighttpd, keys):
    lighttpd.start(POLICY + 'debug.log-request-handling = "enable"\n')
    lighttpd.get("/api/flows", token=keys.mint(roles=["viewer"]))
    assert 'rule "/api/" => "role:admin" is the most specific match' in lighttpd.log()
    assert "role:admin: false" in lighttpd.log()


def test_lighttpd_tt_refuses_a_bad_policy_naming_the_directive(lighttpd):
    code, output = lighttpd.check('gatehouse.require = ( "/api/" => "role:admin andd role:ops" )\n')
    assert code != 0
    assert 'gatehouse.require: rule "/api/" => "role:admin andd role:ops": ' \
           "expected 'and', 'or' or the end at column 12" in output
    assert "^" in output


def test_lighttpd_tt_refuses_a_misspelt_directive(lighttpd):
    code, output = lighttpd.check(POLICY + 'gatehouse.requires = ( "/" => "deny" )\n')
    assert code != 0 and "unknown directive gatehouse.requires" in output


def test_lighttpd_tt_refuses_bad_values_and_missing_keys(lighttpd):
    code, output = lighttpd.check(POLICY + 'gatehouse.leeway = "soon"\n')
    assert code != 0 and 'gatehouse.leeway: expected seconds from 0 to 86400, got "soon"' in output
    code, output = lighttpd.check(POLICY + 'gatehouse.jwks := "/nonexistent/keys.json"\n')
    assert code != 0 and "gatehouse.jwks: cannot read /nonexistent/keys.json" in output
    code, output = lighttpd.check(POLICY + 'gatehouse.algorithms = ( "none" )\n')
    assert code != 0 and '"none" is never accepted' in output


def test_lighttpd_tt_accepts_the_good_policy(lighttpd):
    code, output = lighttpd.check(POLICY)
    assert code == 0, output


def test_conditions_choose_the_directives(lighttpd, keys):
    lighttpd.start(POLICY + """
$HTTP["url"] =^ "/api/tenant-b/" {
    gatehouse.audience = "tenant-b-api"
}
""")
    assert lighttpd.get("/api/tenant-b/x", token=keys.mint(roles=["admin"])).status_code == 401
    assert lighttpd.get("/api/tenant-b/x", token=keys.mint(roles=["admin"], aud="tenant-b-api")).status_code == 200
    assert lighttpd.get("/api/x", token=keys.mint(roles=["admin"], aud="tenant-b-api")).status_code == 401


def test_a_shared_secret_enables_hs256_only_when_allowed(lighttpd, keys, tmp_path):
    import jwt
    import os
    import time
    secret = os.urandom(47) + b"s"  # (a final line break would be read as the file's end of line)
    (tmp_path / "secret").write_bytes(secret)
    now = int(time.time())
    token = jwt.encode({"iss": "https://idp.example.test/", "aud": "gatehouse-api", "sub": "svc", "exp": now + 60,
                        "roles": ["admin"]}, secret, algorithm="HS256")
    lighttpd.start(POLICY + f'gatehouse.hmac-secret-file = "{tmp_path}/secret"\n'
                   'gatehouse.algorithms = ( "RS256", "HS256" )\n')
    assert lighttpd.get("/api/x", token=token).status_code == 200
    assert lighttpd.get("/api/x", token=jwt.encode({"sub": "svc"}, os.urandom(48), algorithm="HS256")).status_code == 401
    lighttpd.stop()
    lighttpd.start(POLICY + f'gatehouse.hmac-secret-file = "{tmp_path}/secret"\n')  # HS256 not in the list
    response = lighttpd.get("/api/x", token=token)
    assert response.status_code == 401 and "not allowed" in response.headers["WWW-Authenticate"]


def test_lighttpd_tt_refuses_the_cache_size_inside_a_condition(lighttpd):
    code, output = lighttpd.check(POLICY + '$HTTP["host"] == "x" { gatehouse.cache-size = 10 }\n')
    assert code != 0 and "gatehouse.cache-size is server-wide" in output
    code, output = lighttpd.check(POLICY + 'gatehouse.cache-size = 0\n')
    assert code == 0, output


def test_a_403_for_a_missing_scope_carries_its_challenge(lighttpd, keys):
    lighttpd.start('gatehouse.require = ( "/api/" => "scope:flows.write" )\n')
    response = lighttpd.get("/api/flows", token=keys.mint(scope="flows.read"), method="POST")
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == \
        f'Bearer realm="127.0.0.1:{lighttpd.port}", error="insufficient_scope", scope="flows.write"'
    assert lighttpd.get("/api/flows", token=keys.mint(scope="flows.read flows.write")).status_code == 200


def test_path_captures_scope_callers_to_their_tenant(lighttpd, keys):
    lighttpd.start("""
gatehouse.require = (
    "/api/tenants/{tenant}/" => "claims.tenant == path.tenant or role:superuser",
    "GET /api/" => "request.ip in ['127.0.0.0/8'] and claims.email matches '@example\\\\.com$'",
)
""")
    acme = keys.mint(tenant="acme", email="a@example.com")
    assert lighttpd.get("/api/tenants/acme/ns", token=acme).status_code == 200
    assert lighttpd.get("/api/tenants/globex/ns", token=acme).status_code == 403
    assert lighttpd.get("/api/tenants/globex/ns", token=keys.mint(roles=["superuser"])).status_code == 200
    assert lighttpd.get("/api/other", token=acme).status_code == 200
    assert lighttpd.get("/api/other", token=keys.mint(email="a@example.org")).status_code == 403


def test_a_claim_with_a_line_break_is_refused_not_copied(lighttpd, keys):
    lighttpd.start(POLICY)
    token = keys.mint(sub="alice\r\nX-Admin: yes", roles=["admin"])
    assert lighttpd.get("/api/flows", token=token).status_code == 403
    anonymous = lighttpd.get("/api/public/x", token=token)
    assert anonymous.status_code == 200 and "x-auth-subject" not in seen_headers(anonymous)
    assert 'claim "sub" holds a control character' in lighttpd.log()


def test_report_only_logs_what_it_would_refuse_and_lets_it_through(lighttpd, keys):
    lighttpd.start(POLICY + 'gatehouse.mode = "report-only"\n')
    response = lighttpd.get("/api/flows", token=keys.mint(roles=["viewer"]))
    assert response.status_code == 200 and "x-auth-subject" not in seen_headers(response)
    assert "gatehouse report-only: GET /api/flows would be refused with 403 (policy_denied, rule /api/)" in lighttpd.log()


def test_role_inheritance(lighttpd, keys):
    lighttpd.start(POLICY + 'gatehouse.role-inherits = ( "owner" => "admin", "admin" => "viewer" )\n')
    assert lighttpd.get("/api/flows", token=keys.mint(roles=["owner"])).status_code == 200
    code, output = lighttpd.check(POLICY + 'gatehouse.role-inherits = ( "a" => "b", "b" => "a" )\n')
    assert code != 0 and '"a" implies itself (a => b => a)' in output


def test_a_graceful_restart_reloads_the_module_and_keeps_enforcing(lighttpd, keys):
    import signal
    import time
    lighttpd.start(POLICY)
    token = keys.mint(roles=["admin"])
    for _ in range(3):  # lighttpd dlclose()s and reopens every module on SIGUSR1
        assert lighttpd.get("/api/flows", token=token).status_code == 200
        lighttpd.process.send_signal(signal.SIGUSR1)
        deadline = time.time() + 10
        while "graceful shutdown started" not in lighttpd.log() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    assert lighttpd.process.poll() is None
    assert lighttpd.get("/api/flows").status_code == 401
    assert lighttpd.get("/api/flows", token=token).status_code == 200


def test_tokens_from_a_cookie_or_the_query_when_configured(lighttpd, keys):
    lighttpd.start(POLICY + 'gatehouse.token-sources = ( "header:Authorization", "cookie:session", '
                   '"query:access_token" )\n')
    token = keys.mint(roles=["admin"])
    assert lighttpd.get("/api/flows", headers={"Cookie": f"theme=dark; session={token}"}).status_code == 200
    assert lighttpd.get(f"/api/flows?x=1&access_token={token}").status_code == 200
    both = lighttpd.get("/api/flows", token=token, headers={"Cookie": f"session={token}"})
    assert both.status_code == 401 and "more than one place" in both.headers["WWW-Authenticate"]


def test_fastcgi_backends_get_the_identity_in_their_environment(lighttpd, keys):
    import socket
    import subprocess
    import sys
    import time
    port = free_port()
    backend = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "fastcgi_backend.py"),
                                str(port)])
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        lighttpd.start(POLICY.replace('"/cgi/" => "authenticated",', '"/cgi/" => "authenticated",\n    "/fcgi/" => "role:admin",')
                       + 'server.modules += ( "mod_fastcgi" )\n'
                       + f'gatehouse.env = ( "REMOTE_USER" => "sub", "GATEHOUSE_ROLES" => "roles" )\n'
                       + f'$HTTP["url"] =^ "/fcgi/" {{ fastcgi.server = ( "" => (( "host" => "127.0.0.1", '
                       + f'"port" => {port}, "check-local" => "disable" )) ) }}\n')
        response = lighttpd.get("/fcgi/app", token=keys.mint(sub="dave", roles=["admin", "viewer"]),
                                headers={"X-Auth-Subject": "root", "X_Auth_Subject": "root"})
        assert response.status_code == 200, lighttpd.log()
        environment = response.json()
        assert environment["REMOTE_USER"] == "dave" and environment["AUTH_TYPE"] == "Bearer"
        assert environment["GATEHOUSE_ROLES"] == "admin, viewer"
        assert environment["HTTP_X_AUTH_SUBJECT"] == "dave"
        assert lighttpd.get("/fcgi/app", token=keys.mint(roles=["viewer"])).status_code == 403
    finally:
        backend.terminate()
        backend.wait(timeout=10)


def test_the_audit_log_records_decisions_in_a_hash_chain(lighttpd, keys, tmp_path):
    import hashlib
    import subprocess
    audit = tmp_path / "audit.log"
    lighttpd.start(POLICY + f'gatehouse.audit-log = "{audit}"\ngatehouse.audit-events = "all"\n')
    admin = keys.mint(roles=["admin"], jti="token-1")
    viewer = keys.mint(roles=["viewer"])
    assert lighttpd.get("/api/flows", token=admin).status_code == 200
    assert lighttpd.get("/api/flows", token=viewer).status_code == 403
    assert lighttpd.get("/api/flows").status_code == 401
    lighttpd.stop()
    lines = audit.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["decision"], r["status"], r["reason"]) for r in records] == [
        ("allow", 0, "allowed"), ("deny", 403, "policy_denied"), ("deny", 401, "no_token")]
    assert records[0]["jti"] == "token-1" and records[0]["sub"] == "alice" and records[0]["rule"] == "/api/"
    assert records[1]["token_sha256"] == hashlib.sha256(viewer.encode()).hexdigest()
    assert viewer not in audit.read_text() and admin not in audit.read_text()
    assert records[2]["token_sha256"] is None and records[2]["remote_ip"] == "127.0.0.1"
    # the chain, checked independently: sha256(previous chain + the line up to ,"chain", closed with })
    previous = "0" * 64
    for line, record in zip(lines, records):
        body = line[:line.rindex(',"chain":')] + "}"
        assert record["chain"] == hashlib.sha256((previous + body).encode()).hexdigest()
        previous = record["chain"]
    assert subprocess.run([GATEHOUSE, "audit", "verify", str(audit)], capture_output=True).returncode == 0
    # a restarted lighttpd goes on with the chain
    lighttpd.start(POLICY + f'gatehouse.audit-log = "{audit}"\n')  # refusals only
    assert lighttpd.get("/api/flows", token=admin).status_code == 200
    assert lighttpd.get("/api/flows").status_code == 401
    lighttpd.stop()
    assert len(audit.read_text().splitlines()) == 4
    result = subprocess.run([GATEHOUSE, "audit", "verify", str(audit)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    tampered = audit.read_text().replace('"status":403', '"status":200')
    audit.write_text(tampered)
    result = subprocess.run([GATEHOUSE, "audit", "verify", str(audit)], capture_output=True, text=True)
    assert result.returncode == 1 and "line 2:" in result.stdout


def test_each_context_writes_to_its_own_audit_target(lighttpd, tmp_path):
    api, rest = tmp_path / "api.log", tmp_path / "rest.log"
    lighttpd.start(POLICY + f'gatehouse.audit-log = "{rest}"\n'
                   f'$HTTP["url"] =^ "/api/" {{\n gatehouse.audit-log = "{api}"\n}}\n')
    assert lighttpd.get("/api/flows").status_code == 401
    assert lighttpd.get("/cgi/env.py").status_code == 401
    assert lighttpd.get("/api/reports/x").status_code == 401
    lighttpd.stop()
    assert [json.loads(line)["path"] for line in api.read_text().splitlines()] == ["/api/flows", "/api/reports/x"]
    assert [json.loads(line)["path"] for line in rest.read_text().splitlines()] == ["/cgi/env.py"]


def test_check_shows_the_headers_environment_and_audit_record_the_module_produces(lighttpd, keys, tmp_path):
    import subprocess
    audit = tmp_path / "audit.log"
    policy = (POLICY + f'gatehouse.audit-log = "{audit}"\ngatehouse.audit-events = "all"\n'
              'gatehouse.env = ( "REMOTE_USER" => "sub", "AUTH_ROLES" => "roles" )\n')
    admin = keys.mint(roles=["admin"], jti="token-9")
    lighttpd.start(policy)
    response = lighttpd.get("/api/flows", token=admin)
    assert response.status_code == 200
    refused = lighttpd.get("/api/flows")
    assert refused.status_code == 401
    lighttpd.stop()
    written = [json.loads(line) for line in audit.read_text().splitlines()]
    gatehouse = GATEHOUSE
    shown = []
    for token in (admin, None):
        argv = [gatehouse, "check", "--json", "--config", lighttpd.config(policy), "--path", "/api/flows",
                "--host", f"127.0.0.1:{lighttpd.port}"]
        result = subprocess.run(argv + (["--token", token] if token else []), capture_output=True, text=True)
        shown.append(json.loads(result.stdout))
    assert shown[0]["outcome"] == "pass" and shown[1]["outcome"] == "refuse"
    assert shown[0]["headers"] == {"X-Auth-Subject": "alice"} == {
        name: value for name, value in response.json()["headers"] if name == "X-Auth-Subject"}
    assert shown[0]["env"] == {"REMOTE_USER": "alice", "AUTH_ROLES": "admin", "AUTH_TYPE": "Bearer"}
    assert "X-Auth-Subject" in shown[1]["strip_headers"]
    assert shown[1]["response_headers"] == [["WWW-Authenticate", refused.headers["WWW-Authenticate"]]]
    for outcome, record in zip(shown, written):
        assert outcome["audit"]["target"] == str(audit)
        expected = {key: value for key, value in record.items() if key not in ("ts", "chain")}
        assert {key: value for key, value in outcome["audit"]["record"].items() if key != "ts"} == expected


def test_the_audit_log_can_be_a_pipe(lighttpd, tmp_path):
    import time
    target = tmp_path / "piped.log"
    lighttpd.start(POLICY + f'gatehouse.audit-log = "|cat >> {target}"\n')
    assert lighttpd.get("/api/flows").status_code == 401
    lighttpd.stop()
    deadline = time.time() + 10
    while not (target.exists() and target.read_text().endswith("\n")) and time.time() < deadline:
        time.sleep(0.05)
    assert json.loads(target.read_text().splitlines()[0])["reason"] == "no_token"


def test_rate_limits_answer_429_with_retry_after(lighttpd, keys):
    lighttpd.start(POLICY + 'gatehouse.rate-limit = ( "POST" => "2/minute", "*" => "600/minute" )\n')
    alice, bob = keys.mint(roles=["admin"]), keys.mint(sub="bob", roles=["admin"])
    assert [lighttpd.get("/api/flows", token=alice, method="POST").status_code for _ in range(3)] == [200, 200, 429]
    refused = lighttpd.get("/api/flows", token=alice, method="POST")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.headers["RateLimit-Limit"] == "2" and refused.headers["RateLimit-Remaining"] == "0"
    assert lighttpd.get("/api/flows", token=alice).status_code == 200  # GET has its own limit
    assert lighttpd.get("/api/flows", token=bob, method="POST").status_code == 200  # per caller


def test_a_changed_key_file_is_reloaded_and_a_broken_one_refused(lighttpd, keys, tmp_path):
    import time
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm
    jwks = tmp_path / "jwks.json"
    jwks.write_text(open(keys.jwks_path).read())
    lighttpd.start(POLICY + f'gatehouse.jwks := "{jwks}"\n')
    old = keys.mint(roles=["admin"])
    assert lighttpd.get("/api/flows", token=old).status_code == 200
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(rotated.public_key()))
    jwk.update(kid="rsa-2", alg="RS256")
    staged = tmp_path / "jwks.new"
    staged.write_text(json.dumps({"keys": [jwk]}))
    os.replace(staged, jwks)  # atomically, as `gatehouse jwks fetch` will
    new = keys.mint(key=rotated, kid="rsa-2", roles=["admin"])
    deadline = time.time() + 10
    while lighttpd.get("/api/flows", token=new).status_code != 200 and time.time() < deadline:
        time.sleep(0.2)
    assert lighttpd.get("/api/flows", token=new).status_code == 200
    assert lighttpd.get("/api/flows", token=old).status_code == 401  # its key is gone, cached or not
    assert f"gatehouse: reloaded {jwks} (1 keys)" in lighttpd.log()
    staged.write_text('{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}')
    os.replace(staged, jwks)
    deadline = time.time() + 10
    while "was refused" not in lighttpd.log() and time.time() < deadline:
        time.sleep(0.2)
    assert "keeping the keys in force" in lighttpd.log()
    assert lighttpd.get("/api/flows", token=new).status_code == 200


def test_the_status_url_serves_prometheus_counters_behind_its_rule(lighttpd, keys):
    lighttpd.start(POLICY.replace('"/api/public/" => "anonymous",',
                                  '"/api/public/" => "anonymous",\n    "GET /gatehouse-status" => "request.ip in [\'127.0.0.0/8\']",')
                   + 'gatehouse.status-url = "/gatehouse-status"\n')
    admin = keys.mint(roles=["admin"])
    assert lighttpd.get("/api/flows", token=admin).status_code == 200
    assert lighttpd.get("/api/flows", token=admin).status_code == 200
    assert lighttpd.get("/api/flows").status_code == 401
    response = lighttpd.get("/gatehouse-status")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    metrics = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
               for line in response.text.splitlines() if line and not line.startswith("#")}
    assert metrics['gatehouse_decisions_total{outcome="allow",reason="allowed"}'] == 3  # with this request
    assert metrics['gatehouse_decisions_total{outcome="deny",reason="no_token"}'] == 1
    assert metrics["gatehouse_token_cache_hits_total"] == 1 and metrics["gatehouse_token_cache_misses_total"] == 1
    assert metrics['gatehouse_verification_seconds_bucket{le="+Inf"}'] == 2
    assert any(key.startswith("gatehouse_key_set_age_seconds{file=") for key in metrics)
    assert lighttpd.get("/gatehouse-status", method="POST").status_code == 403  # the rules still apply


def test_the_audit_file_is_reopened_on_sighup_like_the_access_log(lighttpd, tmp_path):
    import signal
    import time
    audit = tmp_path / "audit.log"
    lighttpd.start(POLICY + f'gatehouse.audit-log = "{audit}"\n')
    assert lighttpd.get("/api/flows").status_code == 401
    os.rename(audit, tmp_path / "audit.log.1")  # logrotate moves the file, then sends SIGHUP
    lighttpd.process.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert lighttpd.get("/api/flows").status_code == 401
    deadline = time.time() + 5
    while not audit.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert len((tmp_path / "audit.log.1").read_text().splitlines()) == 1
    assert json.loads(audit.read_text().splitlines()[0])["reason"] == "no_token"
    import subprocess
    both = subprocess.run([GATEHOUSE, "audit", "verify", str(tmp_path / "audit.log.1"), str(audit)],
                          capture_output=True, text=True)
    assert both.returncode == 0 and "2 lines" in both.stdout  # the chain runs on across the rotation
    alone = subprocess.run([GATEHOUSE, "audit", "verify", str(audit)], capture_output=True, text=True)
    assert alone.returncode == 1
    previous = json.loads((tmp_path / "audit.log.1").read_text())["chain"]
    after = subprocess.run([GATEHOUSE, "audit", "verify", "--after", previous, str(audit)], capture_output=True)
    assert after.returncode == 0
