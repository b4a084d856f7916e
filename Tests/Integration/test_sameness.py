"""The same decisions from the real lighttpd with mod_gatehouse and from
`gatehouse test` reading the same lighttpd.conf, for a corpus of generated
requests: paths, methods, hosts, client addresses, roles, valid and invalid
tokens, under conditionals that change the rules."""
import http.client
import json
import os
import random
import subprocess
import time

from conftest import AUDIENCE, ROOT

GATEHOUSE = os.path.join(ROOT, "build", "gatehouse")

POLICY = """
proxy.server = ( "" => (( "host" => "127.0.0.1", "port" => {backend} )) )
gatehouse.require = (
    "/public/"            => "anonymous",
    "GET,HEAD /api/"      => "role:viewer or role:admin",
    "/api/"               => "role:admin",
    "/t/{{tenant}}/"      => "claims.tenant == path.tenant or role:admin",
    "POST /flows/{{flow}}/trigger" => "claims.flows contains path.flow",
)
gatehouse.default = "authenticated"
gatehouse.role-inherits = ( "admin" => "viewer" )
$HTTP["host"] == "internal.test" {{
    gatehouse.require = ( "/" => "request.ip in ['127.0.0.2/32'] or role:admin" )
}}
$HTTP["remoteip"] == "127.0.0.3" {{
    gatehouse.default = "anonymous"
}}
$HTTP["url"] =^ "/legacy/" {{
    gatehouse.audience = "legacy-api"
}}
$HTTP["host"] =~ "^admin[.]" {{
    gatehouse.require = ( "/" => "role:admin and request.method != 'DELETE'" )
}}
else $HTTP["host"] == "open.test" {{
    gatehouse.mode = "report-only"
}}
"""


def send(port, method, path, host, source, token):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    headers = {"Host": host}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = b"{}" if method in ("POST", "DELETE") else None
    connection.request(method, path, body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_lighttpd_and_gatehouse_test_decide_the_same(lighttpd, keys, backend, tmp_path):
    lighttpd.start(POLICY.format(backend=backend))
    tokens = {
        "none": None,
        "viewer": keys.mint(roles=["viewer"]),
        "admin": keys.mint(alg="ES256", roles=["admin"]),
        "acme": keys.mint(tenant="acme", flows=["etl"]),
        "expired": keys.mint(lifetime=-300, roles=["admin"]),
        "forged": keys.mint(key=keys.other, roles=["admin"]),
        "legacy": keys.mint(aud="legacy-api", roles=["viewer"]),
        "garbage": "not.a.token",
    }
    paths = ["/public/x", "/api/flows", "/api/reports/1", "/t/acme/x", "/t/globex/y", "/flows/etl/trigger",
             "/flows/ml/trigger", "/legacy/a", "/other", "/"]
    choices = random.Random(20261122)
    cases = []
    for index in range(240):
        method = choices.choice(["GET", "POST", "HEAD", "DELETE"])
        path = choices.choice(paths)
        host = choices.choice(["localhost", "internal.test", "admin.test", "open.test"])
        source = choices.choice(["127.0.0.1", "127.0.0.2", "127.0.0.3"])
        name = choices.choice(list(tokens))
        status = send(lighttpd.port, method, path, host, source, tokens[name])
        denied = status in (401, 403)
        assert status in (200, 401, 403), (method, path, host, source, name, status)
        case = {"name": f"{index}: {method} {host}{path} from {source} with {name}",
                "request": {"method": method, "path": path, "host": host, "remote_ip": source},
                "expect": {"decision": "deny" if denied else "allow", "status": status if denied else 0}}
        if tokens[name]:
            case["token"] = tokens[name]
        else:
            case["anonymous"] = True
        cases.append(case)
    outcomes = {}
    for c in cases:
        outcomes[c["expect"]["status"]] = outcomes.get(c["expect"]["status"], 0) + 1
    assert all(outcomes.get(status, 0) >= 20 for status in (0, 401, 403)), outcomes
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps({"cases": cases}))
    config = os.path.join(lighttpd.folder, "lighttpd.conf")
    result = subprocess.run([GATEHOUSE, "test", "--config", config, str(cases_file), "--now", str(int(time.time()))],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().endswith("240 passed, 0 failed"), result.stdout[-3000:] + result.stderr


def test_check_explains_a_decision(lighttpd, keys, backend):
    lighttpd.start(POLICY.format(backend=backend))
    config = os.path.join(lighttpd.folder, "lighttpd.conf")
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
