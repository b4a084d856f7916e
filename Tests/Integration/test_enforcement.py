"""A refusal is final on every path lighttpd can take: error handlers, rewrites, error
interception, CGI; and what lighttpd does around the decision (preflights, restarts, header
aliases, paths backends read differently, log lines) cannot undo it. Tokens by PyJWT."""
import json
import os
import signal
import socket
import time

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gatehouse_testkit.lighttpd import raw_request

RULES = """
gatehouse.require = (
    "/" => "anonymous",
    "/admin/" => "role:admin",
    "/internal/" => "deny",
    "/api/" => "role:admin",
    "/static/" => "anonymous",
    "/admin-ui/" => "role:admin",
)
"""

# A front controller (PHP-style: it routes on REQUEST_URI and acts on the method and body it
# gets) and a generic error page script, both CGI; each leaves a mark when it runs.
HANDLER = """import json, os, sys
open(os.path.join({folder!r}, "ran-" + os.path.basename(sys.argv[0])), "a").write(
    os.environ.get("REQUEST_METHOD", "") + " " + os.environ.get("REQUEST_URI", "") + "\\n")
print("Status: 200 OK")
print("Content-Type: text/plain")
print()
print("handler ran for " + os.environ.get("REQUEST_URI", ""))
"""


def handlers(lighttpd):
    folder = lighttpd.folder
    for name in ("index.py", "error.py"):
        with open(os.path.join(lighttpd.docroot, name), "w") as f:
            f.write(HANDLER.format(folder=folder))
    os.makedirs(os.path.join(lighttpd.docroot, "static"), exist_ok=True)
    with open(os.path.join(lighttpd.docroot, "static", "app.txt"), "w") as f:
        f.write("static\n")
    return 'server.modules += ("mod_rewrite", "mod_access")\ncgi.assign = ( ".py" => "{}" )\n'.format(
        lighttpd.values["python"])


def ran(lighttpd):
    marks = [n for n in os.listdir(lighttpd.folder) if n.startswith("ran-")]
    return {n: open(os.path.join(lighttpd.folder, n)).read() for n in marks}


def test_error_handler_404_never_runs_a_refused_request(lighttpd, keys):
    lighttpd.start(handlers(lighttpd) + RULES + 'server.error-handler-404 = "/index.py"\n')
    assert lighttpd.get("/nothing-here").text.startswith("handler ran for /nothing-here")  # the handler works
    os.remove(os.path.join(lighttpd.folder, "ran-index.py"))
    response = lighttpd.get("/internal/x")
    assert response.status_code == 403 and "handler ran" not in response.text
    viewer = keys.mint(roles=["viewer"])
    response = lighttpd.get("/admin/delete-user", token=viewer, method="POST")
    assert response.status_code == 403 and "handler ran" not in response.text
    assert ran(lighttpd) == {}


def test_the_generic_error_handler_never_runs_a_refused_request(lighttpd, keys):
    lighttpd.start(handlers(lighttpd) + RULES + 'server.error-handler = "/error.py"\n')
    response = lighttpd.get("/admin/delete-user", method="POST")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    response = lighttpd.get("/admin/delete-user", token=keys.mint(roles=["viewer"]), method="POST")
    assert response.status_code == 403
    response = lighttpd.get("/internal/x")
    assert response.status_code == 403
    assert ran(lighttpd) == {}


def test_error_intercept_keeps_gatehouse_answers_and_their_headers(lighttpd, keys, backend):
    lighttpd.start(handlers(lighttpd) + RULES + """
server.error-handler = "/error.py"
server.error-intercept = "enable"
gatehouse.rate-limit = ( "POST" => "1/minute" )
""")
    admin = keys.mint(roles=["admin"])
    assert lighttpd.get("/api/x", token=admin, method="POST").status_code == 200
    response = lighttpd.get("/api/x", token=admin, method="POST")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert lighttpd.get("/api/x", token=keys.mint(roles=["viewer"])).status_code == 403
    assert ran(lighttpd) == {}


def test_a_redispatch_is_decided_on_the_path_the_client_asked_for(lighttpd, keys):
    # mod_access refuses before Gatehouse runs (it is loaded first here); lighttpd hands the
    # request to the 404 handler, which routes on REQUEST_URI: Gatehouse decides that target.
    lighttpd.values["modules"] = '"mod_access", "mod_gatehouse", "mod_proxy", "mod_cgi"'
    lighttpd.start(handlers(lighttpd).replace('"mod_rewrite", "mod_access"', '"mod_rewrite"') + RULES + """
server.error-handler-404 = "/index.py"
$HTTP["url"] =^ "/admin/secret" { url.access-deny = ( "" ) }
""")
    assert lighttpd.get("/admin/secret").status_code == 401
    assert lighttpd.get("/admin/secret", token=keys.mint(roles=["viewer"])).status_code == 403
    assert ran(lighttpd) == {}
    # an admin's request does reach the handler, which sees the original target
    response = lighttpd.get("/admin/secret", token=keys.mint(roles=["admin"]))
    assert "handler ran for /admin/secret" in response.text


def test_rewrites_are_decided_on_both_paths(lighttpd, keys):
    lighttpd.start(handlers(lighttpd) + RULES + """
url.rewrite-once = ( "^/admin-ui/(.*)$" => "/static/$1", "^/legacy/(.*)$" => "/admin/$1" )
url.rewrite-if-not-file = ( "^/(.*)$" => "/index.py/$1" )
""")
    assert lighttpd.get("/static/app.txt").status_code == 200
    assert lighttpd.get("/admin-ui/app.txt").status_code == 401  # asked for /admin-ui/: an admin's
    assert lighttpd.get("/admin-ui/app.txt", token=keys.mint(roles=["admin"])).status_code == 200
    assert lighttpd.get("/legacy/x").status_code == 401  # served as /admin/x: an admin's too
    # the front controller of url.rewrite-if-not-file: decided on what the client asked for
    assert lighttpd.get("/admin/delete-user", token=keys.mint(roles=["viewer"]), method="POST").status_code == 403
    assert ran(lighttpd) == {}
    assert "handler ran for /hello" in lighttpd.get("/hello").text


PREFLIGHT = """
gatehouse.status-url = "/status"
gatehouse.cors-preflight = (
    "origins" => "https://app.example.test",
    "methods" => "GET, POST",
    "headers" => "Authorization, Content-Type",
    "max-age" => 300,
    "credentials" => "enable",
)
gatehouse.rate-limit = ( "OPTIONS" => "5/minute" )
"""


def preflight(origin="https://app.example.test", method="POST"):
    return {"Origin": origin, "Access-Control-Request-Method": method}


def test_a_preflight_is_answered_by_the_module_and_never_forwarded(lighttpd, keys):
    lighttpd.start(handlers(lighttpd) + RULES + PREFLIGHT)
    response = lighttpd.get("/api/flows", headers=preflight(), method="OPTIONS")
    assert response.status_code == 204 and response.text == ""
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "300"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]
    assert "headers" not in response.text  # not the echo backend's answer
    # a CGI script is never run for it
    assert lighttpd.get("/index.py", headers=preflight(), method="OPTIONS").status_code == 204
    assert ran(lighttpd) == {}
    # the status page is not served to it, and counts it as allowed
    assert "gatehouse_decisions_total" not in lighttpd.get("/status", headers=preflight(), method="OPTIONS").text
    counters = lighttpd.get("/status").text
    assert 'outcome="allow",reason="allowed"' in counters and 'outcome="deny",reason="allowed"' not in counters


def test_a_preflight_is_refused_on_deny_paths_other_origins_and_methods(lighttpd):
    lighttpd.start(RULES + PREFLIGHT)
    assert lighttpd.get("/internal/x", headers=preflight(), method="OPTIONS").status_code == 403
    assert lighttpd.get("/api/x", headers=preflight(origin="https://evil.example"), method="OPTIONS").status_code == 403
    response = lighttpd.get("/api/x", headers=preflight(method="DELETE"), method="OPTIONS")
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response.headers
    # an OPTIONS that is no preflight is decided like any request
    assert lighttpd.get("/api/x", headers={"Origin": "https://app.example.test"}, method="OPTIONS").status_code == 401


def test_preflights_count_for_rate_limits(lighttpd):
    lighttpd.start(RULES + PREFLIGHT)
    statuses = [lighttpd.get("/api/x", headers=preflight(), method="OPTIONS").status_code for _ in range(7)]
    assert statuses[:5] == [204] * 5 and statuses[5:] == [429, 429]


def test_lighttpd_tt_refuses_the_old_allow_and_a_wildcard_with_credentials(lighttpd):
    code, output = lighttpd.check(RULES + 'gatehouse.cors-preflight = "allow"\n')
    assert code != 0 and "gatehouse.cors-preflight" in output and "list the origins" in output
    code, output = lighttpd.check(
        RULES + 'gatehouse.cors-preflight = ( "origins" => "*", "credentials" => "enable" )\n')
    assert code != 0 and '"*" cannot go with "credentials"' in output


def jwks_with(*public_keys):
    keys = []
    for index, key in enumerate(public_keys):
        jwk = json.loads(RSAAlgorithm.to_jwk(key))
        jwk.update(kid=f"k{index}", alg="RS256", use="sig")
        keys.append(jwk)
    return json.dumps({"keys": keys})


def wait_for(lighttpd, text, count=1, timeout=10):
    deadline = time.time() + timeout
    while lighttpd.log().count(text) < count and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)


def test_a_graceful_restart_keeps_the_last_good_keys_of_a_refused_file(lighttpd, keys, tmp_path):
    jwks = tmp_path / "keys.json"
    jwks.write_text(open(keys.jwks_path).read())
    lighttpd.values["jwks"] = str(jwks)
    lighttpd.start(RULES)
    admin = keys.mint(roles=["admin"])
    assert lighttpd.get("/api/x", token=admin).status_code == 200
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    jwks.write_text(jwks_with(weak.public_key()))  # a key that breaks a security check: refused
    for round in range(1, 3):  # Debian's `systemctl reload lighttpd` is SIGUSR1
        lighttpd.process.send_signal(signal.SIGUSR1)
        wait_for(lighttpd, "graceful shutdown started", round)
        assert lighttpd.process.poll() is None, lighttpd.log()
        assert lighttpd.get("/api/x", token=admin).status_code == 200
    assert "still serving the last good keys of this file" in lighttpd.log()
    lighttpd.stop()
    code, output = lighttpd.check(RULES)  # a cold start with no good keys refuses
    assert code != 0 and "gatehouse.jwks" in output


def test_two_headers_that_cgi_reads_as_the_token_header_are_refused(lighttpd, keys):
    lighttpd.start(RULES + 'gatehouse.token-sources = ( "header:X-Access-Token" )\n')
    valid = keys.mint(roles=["admin"])
    code, _ = raw_request(lighttpd.port, ["GET /api/x HTTP/1.1", "Host: localhost", "Connection: close",
                                          "X_Access_Token: forged", f"X-Access-Token: {valid}"])
    assert code == 400
    code, _ = raw_request(lighttpd.port, ["GET /api/x HTTP/1.1", "Host: localhost", "Connection: close",
                                          f"X-Access-Token: {valid}"])
    assert code == 200


def test_an_alias_of_the_token_header_never_reaches_a_backend(lighttpd, keys):
    lighttpd.start(RULES + 'gatehouse.token-sources = ( "header:X-Access-Token" )\n')
    code, text = raw_request(lighttpd.port, ["GET /cgi/env.py HTTP/1.0", "Host: localhost", "Connection: close",
                                             "X_Access_Token: forged"])
    assert code == 200
    environment = json.loads(text.split("\r\n\r\n", 1)[1])
    assert "HTTP_X_ACCESS_TOKEN" not in environment
    code, text = raw_request(lighttpd.port, ["GET /api/public HTTP/1.1", "Host: localhost", "Connection: close",
                                             "X.Access.Token: forged"])
    assert code == 401  # (/api/ wants a token; the alias is none)


def test_paths_that_backends_read_differently_are_refused(lighttpd, keys):
    lighttpd.start(RULES)
    for path in ("/static/..;/admin/x", "/static/%252e%252e/admin/x", "/static/..%5Cadmin", "/static/a;jsessionid=1",
                 "/static/%2e%2e%5cadmin"):
        code, _ = raw_request(lighttpd.port, [f"GET {path} HTTP/1.1", "Host: localhost", "Connection: close"])
        assert code == 400, path
    lighttpd.stop()
    relaxed = RULES + 'gatehouse.path-checks = ( "backslash", "double-encoding", "control-characters" )\n'
    lighttpd.start(relaxed)
    code, _ = raw_request(lighttpd.port, ["GET /static/a;jsessionid=1 HTTP/1.1", "Host: localhost",
                                          "Connection: close"])
    assert code == 404  # let through (no such file), as configured
    code, output = lighttpd.check(relaxed)
    assert code == 0 and "paths are not checked for semicolon" in output


def test_rules_match_in_any_case_where_lighttpd_folds_paths(lighttpd, keys):
    lighttpd.start(RULES + 'server.force-lowercase-filenames = "enable"\n')
    assert lighttpd.get("/ADMIN/x").status_code == 401
    assert lighttpd.get("/Admin/x", token=keys.mint(roles=["viewer"])).status_code == 403
    assert lighttpd.get("/INTERNAL/x").status_code == 403


def test_a_claim_cannot_forge_a_line_of_the_error_log(lighttpd, keys):
    lighttpd.start(RULES + 'debug.log-request-handling = "enable"\n')
    token = keys.mint(sub="alice\n2026-12-06 12:00:00: (server.c.1) forged line", roles=["viewer"])
    assert lighttpd.get("/admin/x", token=token).status_code == 403
    log = lighttpd.log()
    forged = [line for line in log.splitlines() if "forged line" in line]
    assert forged and all("alice\\n2026-12-06 12:00:00: (server.c.1) forged line" in line for line in forged)


def test_a_fresh_token_is_never_issued_in_the_future_with_no_leeway(lighttpd, keys):
    lighttpd.start(RULES + "gatehouse.leeway = 0\n")
    statuses = []
    for _ in range(6):
        while time.time() % 1 > 0.02:  # just after a second starts, before lighttpd's clock ticks
            time.sleep(0.005)
        statuses.append(lighttpd.get("/api/x", token=keys.mint(roles=["admin"], jti=str(time.time()))).status_code)
    assert statuses == [200] * 6, lighttpd.log()
