"""Signatures verified off the event loop (gatehouse.verify-threads, gatehouse.verify-queue): the
same answers as on the loop, one verification per token however many requests present it, 503 with
Retry-After when the queue is full, and requests that end while their token waits."""
import contextlib
import ctypes
import json
import os
import signal
import socket
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gatehouse_testkit.lighttpd import POLICY
from gatehouse_testkit.tokens import public_jwk

STATUS = ('gatehouse.status-url = "/gatehouse-status"\n'
          'gatehouse.require += ( "GET /gatehouse-status" => "request.ip in [\'127.0.0.0/8\']" )\n')


@pytest.fixture(scope="module")
def slow_key(tmp_path_factory, keys):
    """A 4096-bit RSA key (a verification several times slower than 2048 bits, so that a burst of
    tokens queues up) published with the session's keys."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    with open(keys.jwks_path) as f:
        published = json.load(f)
    published["keys"].append(public_jwk(key, "rsa-4096", "RS256", use="sig"))
    path = os.path.join(str(tmp_path_factory.mktemp("slow")), "jwks.json")
    with open(path, "w") as f:
        json.dump(published, f)
    return key, path


def start(lighttpd, threads, queue=None, jwks=None, extra=""):
    if jwks:
        lighttpd.values["jwks"] = jwks
    settings = f"gatehouse.verify-threads = {threads}\n"
    if queue is not None:
        settings += f"gatehouse.verify-queue = {queue}\n"
    lighttpd.start(POLICY + STATUS + settings + extra)


def metrics(lighttpd):
    response = lighttpd.get("/gatehouse-status")
    assert response.status_code == 200
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in response.text.splitlines() if line and not line.startswith("#")}


def read_all(s):
    """Everything the server sends on `s` until it closes the connection; then closes it."""
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return data


def burst(port, tokens, path="/index.html", leave=False):
    """Sends one request per token, each on its own connection, all at once: every request but its
    last byte first, then the last bytes in a tight loop. Returns (status, headers) per request, or,
    with `leave`, resets every connection right after its last byte instead of reading."""
    sockets = []
    for token in tokens:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                  f"Authorization: Bearer {token}\r\n\r".encode())
        sockets.append(s)
    for s in sockets:
        s.sendall(b"\n")
    if leave:
        for s in sockets:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        return []
    answers = []
    for s in sockets:
        data = read_all(s)
        head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head[1:]}
        answers.append((int(head[0].split()[1]), headers))
    return answers


@pytest.mark.parametrize("threads", [0, 2])
def test_the_answers_are_those_of_the_event_loop(lighttpd, keys, threads):
    start(lighttpd, threads)
    admin = keys.mint(roles=["admin"])
    cases = [
        ("admin", admin, 200),
        ("admin again (cached)", admin, 200),
        ("ES256 admin", keys.mint(alg="ES256", roles=["admin"]), 200),
        ("viewer", keys.mint(roles=["viewer"]), 403),
        ("bad signature", keys.mint(key=keys.other, roles=["admin"]), 401),
        ("expired", keys.mint(lifetime=-120, roles=["admin"]), 401),
        ("wrong audience", keys.mint(aud="another-api", roles=["admin"]), 401),
        ("unknown kid", keys.mint(kid="nobody", roles=["admin"]), 401),
        ("not a JWS", "abc.def", 401),
        ("no token", None, 401),
    ]
    for name, token, status in cases:
        response = lighttpd.get("/api/flows", token=token)
        assert response.status_code == status, name
        if status == 401 and token is not None:
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"], name
    assert lighttpd.get("/api/flows", token=admin).json()["path"] == "/api/flows"
    counted = metrics(lighttpd)
    assert counted['gatehouse_decisions_total{outcome="allow",reason="allowed"}'] == 5  # (with the status page's)
    assert counted['gatehouse_decisions_total{outcome="deny",reason="bad_signature"}'] == 1
    assert counted['gatehouse_decisions_total{outcome="deny",reason="expired"}'] == 1
    assert counted["gatehouse_verify_queue_full_total"] == 0
    assert "error" not in lighttpd.log().lower()


def test_a_full_queue_answers_503_with_retry_after_and_is_counted(lighttpd, slow_key):
    key, jwks = slow_key
    start(lighttpd, threads=1, queue=1, jwks=jwks)
    now = int(time.time())
    tokens = [jwt_for(key, now, n) for n in range(150)]
    answers = burst(lighttpd.port, tokens)
    refused = [headers for status, headers in answers if status == 503]
    assert refused, "a queue of 1 took 150 tokens sent at once"
    assert all(headers.get("retry-after") == "1" for headers in refused)
    assert {status for status, _ in answers} <= {200, 503}
    counted = metrics(lighttpd)
    assert counted["gatehouse_verify_queue_full_total"] == len(refused)
    assert counted['gatehouse_decisions_total{outcome="deny",reason="busy"}'] == len(refused)
    # Asked again, each refused token is verified.
    assert lighttpd.get("/api/flows", token=tokens[[s for s, _ in answers].index(503)]).status_code == 200
    deadline = time.time() + 5
    while "answered 503" not in lighttpd.log() and time.time() < deadline:
        time.sleep(0.1)
    assert f"gatehouse: {len(refused)} requests answered 503 since the last report" in lighttpd.log()


def jwt_for(key, now, n, **claims):
    import jwt
    from gatehouse_testkit.tokens import AUDIENCE, ISSUER
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": f"user-{n}", "iat": now, "exp": now + 600, "roles": ["admin"]}
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "rsa-4096"})


def test_one_token_from_many_clients_is_verified_once(lighttpd, slow_key):
    key, jwks = slow_key
    start(lighttpd, threads=1, queue=1, jwks=jwks)
    token = jwt_for(key, int(time.time()), 0)
    answers = burst(lighttpd.port, [token] * 60)
    assert [status for status, _ in answers] == [200] * 60  # (one job: the queue of 1 refused none)
    counted = metrics(lighttpd)
    assert counted["gatehouse_verify_queue_full_total"] == 0
    assert counted["gatehouse_token_cache_entries"] == 1


def test_clients_that_leave_while_their_tokens_wait(lighttpd, slow_key):
    key, jwks = slow_key
    start(lighttpd, threads=1, queue=512, jwks=jwks)
    now = int(time.time())
    burst(lighttpd.port, [jwt_for(key, now, n) for n in range(200)], leave=True)
    burst(lighttpd.port, [jwt_for(key, now, n) for n in range(200, 400)] + [jwt_for(key, now, 0)] * 20, leave=True)
    time.sleep(0.5)
    assert lighttpd.process.poll() is None
    fresh = jwt_for(key, now, 1000)
    assert lighttpd.get("/api/flows", token=fresh).status_code == 200
    assert lighttpd.get("/api/flows", token=jwt_for(key, now, 1)).status_code == 200
    assert "no result for off-loop job" not in lighttpd.log()


def test_a_graceful_restart_with_tokens_waiting(lighttpd, slow_key):
    key, jwks = slow_key
    start(lighttpd, threads=1, queue=512, jwks=jwks)
    now = int(time.time())
    tokens = [jwt_for(key, now, n) for n in range(400)]
    sockets = []
    for token in tokens:
        s = socket.create_connection(("127.0.0.1", lighttpd.port), timeout=30)
        s.sendall(f"GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n".encode())
        sockets.append(s)
    # Once lighttpd has read every request (a request it has not read yet is closed by a graceful
    # restart), restart while their tokens are still waiting (Debian's `systemctl reload lighttpd`).
    while metrics(lighttpd)["gatehouse_token_cache_misses_total"] < len(tokens):
        pass
    lighttpd.process.send_signal(signal.SIGUSR1)
    statuses = []
    for s in sockets:
        data = read_all(s)
        statuses.append(int(data.split(b" ", 2)[1]) if data else 0)
    assert statuses == [200] * len(tokens)  # every request that waited was answered before the restart
    deadline = time.time() + 10
    while "graceful shutdown started" not in lighttpd.log() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert lighttpd.process.poll() is None
    assert lighttpd.get("/index.html", token=jwt_for(key, now, 1000)).status_code == 200


@contextlib.contextmanager
def frozen(pid):
    """Stops the one verify thread of lighttpd `pid` (ptrace: PTRACE_SEIZE, PTRACE_INTERRUPT; the
    event loop runs on) until the block ends (PTRACE_DETACH), so that a job outlives its request's
    deadline."""
    threads = [int(task) for task in os.listdir(f"/proc/{pid}/task") if int(task) != pid]
    assert len(threads) == 1, threads
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    assert libc.ptrace(0x4206, threads[0], None, None) == 0, os.strerror(ctypes.get_errno())
    try:
        assert libc.ptrace(0x4207, threads[0], None, None) == 0, os.strerror(ctypes.get_errno())
        os.waitpid(threads[0], 0x40000000)  # (__WALL: until it has stopped)
        yield
    finally:
        libc.ptrace(17, threads[0], None, None)


def test_a_request_past_its_deadline_is_decided_504_audited_and_counted(lighttpd, keys, tmp_path):
    audit = tmp_path / "audit.log"
    start(lighttpd, threads=1, extra=f'gatehouse.audit-log = "{audit}"\n'
          '$HTTP["url"] =^ "/api/report/" { gatehouse.mode = "report-only" }\n')
    assert lighttpd.get("/api/flows", token=keys.mint(roles=["admin"])).status_code == 200  # (threads started)
    tokens = [keys.mint(roles=["admin"], sub=f"late-{n}") for n in range(2)]
    with frozen(lighttpd.process.pid):
        started = time.time()
        sockets = []
        for path, token in zip(["/api/flows", "/api/report/x"], tokens):
            s = socket.create_connection(("127.0.0.1", lighttpd.port), timeout=30)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      f"Authorization: Bearer {token}\r\n\r\n".encode())
            sockets.append(s)
        statuses = []
        for s in sockets:
            statuses.append(int(read_all(s).split(b" ", 2)[1]))
        waited = time.time() - started
    # Enforced: 504; under report-only: let through (the backend answers), remembered as a would-refuse.
    assert statuses == [504, 200] and 10 <= waited < 15, (statuses, waited)
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    late = [r for r in records if r["reason"] == "verification_timeout"]
    assert [(r["path"], r["status"], r["mode"]) for r in late] == [
        ("/api/flows", 504, "enforce"), ("/api/report/x", 504, "report-only")], late
    counted = metrics(lighttpd)
    assert counted['gatehouse_decisions_total{outcome="deny",reason="verification_timeout"}'] == 1
    assert counted['gatehouse_decisions_total{outcome="report_only_deny",reason="verification_timeout"}'] == 1
    log = lighttpd.log()
    assert "GET /api/flows: the token's signature was not verified before the request's deadline" in log
    assert "GET /api/report/x would be refused with 504 (verification_timeout" in log
    # The thread verifies again: a new token is answered.
    assert lighttpd.get("/api/flows", token=keys.mint(roles=["admin"], sub="after")).status_code == 200


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def test_threads_start_with_the_first_token_that_is_not_an_hmac(lighttpd, keys, tmp_path):
    import base64
    import jwt
    secret = os.urandom(48)
    oct_key = {"kty": "oct", "kid": "hs", "alg": "HS256",
               "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [oct_key]}))
    start(lighttpd, threads=2, jwks=str(jwks), extra='gatehouse.algorithms = ( "RS256", "HS256" )\n')
    now = int(time.time())
    from gatehouse_testkit.tokens import AUDIENCE, ISSUER
    hs = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "svc", "exp": now + 600, "roles": ["admin"]},
                    secret, algorithm="HS256", headers={"kid": "hs"})
    assert lighttpd.get("/api/flows", token=hs).status_code == 200
    assert thread_count(lighttpd.process.pid) == 1  # (HMAC secrets only: verified on the loop, no thread)
    # The key file reloaded with an RSA key: its tokens go to the threads, which start then.
    with open(keys.jwks_path) as f:
        published = json.load(f)
    time.sleep(1.1)  # (a new modification time)
    jwks.write_text(json.dumps({"keys": [oct_key] + published["keys"]}))
    deadline = time.time() + 5
    while "gatehouse: reloaded" not in lighttpd.log() and time.time() < deadline:
        time.sleep(0.05)
    assert lighttpd.get("/api/flows", token=keys.mint(roles=["admin"])).status_code == 200
    assert lighttpd.get("/api/flows", token=keys.mint(roles=["viewer"])).status_code == 403
    assert thread_count(lighttpd.process.pid) == 1 + 2
