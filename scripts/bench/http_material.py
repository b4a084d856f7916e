#!/usr/bin/env python3
"""Everything the servers of `scripts/bench.sh http` serve and check, minted by PyJWT and
cryptography (never by Gatehouse).

    http_material.py DIR [POOL]

writes into DIR:
  www/1k.txt              the 1 KiB static file every server serves
  rsa-jwks.json           the RSA-2048 public key (kid "bench-rsa", alg RS256) for gatehouse
  ec-jwks.json            the P-256 public key (kid "bench-ec", alg ES256) for gatehouse
  rsa-cert.pem            the same RSA public key in a self-signed X.509 certificate, for
                          mod_auth_openidc's OIDCOAuthVerifyCertFiles bench-rsa#FILE
  users.plain             "bench:…" for lighttpd's mod_authn_file (auth.backend = "plain")
  headers/*.txt           Authorization header values, one a line, for scripts/bench/rotate.lua:
    none.txt              (empty: no header)
    basic.txt             Basic credentials of users.plain
    rs-one.txt, es-one.txt        one token (the cache-hit runs)
    rs-pool.txt, es-pool.txt      POOL distinct tokens (the cache-miss runs)
    rs-norole.txt, es-norole.txt, rs-wrongaud.txt   tokens every server must refuse
    session-one.txt       "Cookie: __Host-gatehouse=…": a browser session with the same claims, sealed
                          (AES-256-GCM, Python's cryptography) with the key of session.keys
  session.keys, provider.json   the session key and provider endpoints of the sign-in server
Every token carries iss, aud, sub, iat, exp (two days ahead), jti and roles ["viewer", "operator"]
(the refused ones lack the role or name another audience).
"""
import base64
import datetime
import json
import os
import sys
import time

import jwt

from gatehouse_testkit.sign_in import seal
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://idp.example.test/"
AUDIENCE = "gatehouse-api"
BASIC_USER, BASIC_PASSWORD = "bench", "bench-password-1"

folder = sys.argv[1]
pool = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
os.makedirs(os.path.join(folder, "www"), exist_ok=True)
os.makedirs(os.path.join(folder, "headers"), exist_ok=True)


def write(name, text, mode="w"):
    with open(os.path.join(folder, name), mode) as f:
        f.write(text)


write("www/1k.txt", ("0123456789abcdef" * 63 + "0123456789abcde\n"))
assert os.path.getsize(os.path.join(folder, "www/1k.txt")) == 1024

rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_key = ec.generate_private_key(ec.SECP256R1())
for name, key, kid, alg, algorithm in (("rsa-jwks.json", rsa_key, "bench-rsa", "RS256", RSAAlgorithm),
                                       ("ec-jwks.json", ec_key, "bench-ec", "ES256", ECAlgorithm)):
    jwk = json.loads(algorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg=alg, use="sig")
    write(name, json.dumps({"keys": [jwk]}))

subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-rsa")])
now_dt = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(rsa_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now_dt - datetime.timedelta(days=1))
        .not_valid_after(now_dt + datetime.timedelta(days=30))
        .sign(rsa_key, hashes.SHA256()))
write("rsa-cert.pem", cert.public_bytes(serialization.Encoding.PEM), "wb")

write("users.plain", f"{BASIC_USER}:{BASIC_PASSWORD}\n")
basic = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()

now = int(time.time())


def token(alg, n, roles=("viewer", "operator"), audience=AUDIENCE):
    key, kid = (rsa_key, "bench-rsa") if alg == "RS256" else (ec_key, "bench-ec")
    claims = {"iss": ISSUER, "aud": audience, "sub": f"user-{n}", "iat": now, "exp": now + 2 * 86400,
              "jti": f"{alg}-{n}", "roles": list(roles)}
    return "Bearer " + jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


session_key = os.urandom(32)
write("session.keys", base64.b64encode(session_key).decode() + "\n")
write("provider.json", json.dumps({"issuer": ISSUER.rstrip("/"), "authorization_endpoint": "https://idp.example.test/a",
                                   "token_endpoint": "https://idp.example.test/t"}))
session = seal(session_key, "__Host-gatehouse", {"v": 1, "exp": now + 2 * 86400, "idle": now + 2 * 86400, "claims": {
    "iss": ISSUER, "sub": "user-one", "jti": "session-one", "roles": ["viewer", "operator"]}})

headers = {
    "none": [],
    "session-one": [f"Cookie: __Host-gatehouse={session}"],
    "basic": [f"Basic {basic}"],
    "rs-one": [token("RS256", "one")],
    "es-one": [token("ES256", "one")],
    "rs-norole": [token("RS256", "norole", roles=("operator",))],
    "es-norole": [token("ES256", "norole", roles=("operator",))],
    "rs-wrongaud": [token("RS256", "wrongaud", audience="another-api")],
    "rs-pool": [token("RS256", i) for i in range(pool)],
    "es-pool": [token("ES256", i) for i in range(pool)],
}
for name, lines in headers.items():
    assert len(set(lines)) == len(lines)
    write(f"headers/{name}.txt", "".join(line + "\n" for line in lines))
print(f"minted {2 * pool + 5} tokens (PyJWT {jwt.__version__}) into {folder}")
