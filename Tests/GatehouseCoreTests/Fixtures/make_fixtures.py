#!/usr/bin/env python3
"""Generates the token-layer fixtures with an independent JOSE implementation
(Python `cryptography` + PyJWT), so GatehouseCore is never only checked against
tokens it made itself.

    python3 Tests/GatehouseCoreTests/Fixtures/make_fixtures.py

writes, next to this script:
  jwks.json        the trusted key set (RSA, EC P-256/384/521, Ed25519, oct)
  tokens.json      [{"name", "token", "expect"}]: "valid" or a reason code,
                   all checked at NOW with the requirements in "requirements"
  bad-keys/*.json  key sets that must be refused at load, each with "expect"
                   (a phrase of the error message)
The keys are random: rerunning changes every file, and the tests still pass.
"""
import base64
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1_700_000_000
ISS = "https://idp.example.test/"
AUD = "gatehouse-api"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def jwk(public_key, **extra):
    for algorithm in (RSAAlgorithm, ECAlgorithm, OKPAlgorithm):
        try:
            value = json.loads(algorithm.to_jwk(public_key))
            break
        except Exception:
            continue
    value.update(extra)
    return value


rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa_any = rsa.generate_private_key(public_exponent=65537, key_size=3072)
ec256 = ec.generate_private_key(ec.SECP256R1())
ec384 = ec.generate_private_key(ec.SECP384R1())
ec521 = ec.generate_private_key(ec.SECP521R1())
ed_key = ed25519.Ed25519PrivateKey.generate()
hmac_secret = os.urandom(64)
attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)

jwks = {"keys": [
    jwk(rsa_key.public_key(), kid="rsa-1", alg="RS256", use="sig"),
    jwk(rsa_any.public_key(), kid="rsa-2"),
    jwk(ec256.public_key(), kid="ec-256", alg="ES256", use="sig"),
    jwk(ec384.public_key(), kid="ec-384"),
    jwk(ec521.public_key(), kid="ec-521"),
    jwk(ed_key.public_key(), kid="ed-1", key_ops=["verify"]),
    {"kty": "oct", "kid": "hs-1", "k": b64(hmac_secret)},
]}

base_claims = {"iss": ISS, "aud": AUD, "sub": "alice", "iat": NOW - 10, "exp": NOW + 600, "roles": ["viewer"]}


def claims(**changes):
    value = dict(base_claims)
    for key, change in changes.items():
        if change is DROP:
            value.pop(key, None)
        else:
            value[key] = change
    return value


DROP = object()
cases = []


def case(name, token, expect):
    cases.append({"name": name, "token": token, "expect": expect})


def signed(payload, key=rsa_key, alg="RS256", kid="rsa-1", **headers):
    extra = dict(headers)
    if kid is not None:
        extra["kid"] = kid
    return jwt.encode(payload, key, algorithm=alg, headers=extra)


def raw_token(header, payload_bytes, sign):
    """A token with exactly these header and payload bytes, signed by `sign(signing_input)`."""
    head = b64(json.dumps(header, separators=(",", ":")).encode()) if isinstance(header, dict) else b64(header)
    signing_input = f"{head}.{b64(payload_bytes)}".encode()
    return f"{signing_input.decode()}.{b64(sign(signing_input))}"


def rs256(data, key=rsa_key):
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


# --- every algorithm, valid -------------------------------------------------------------
case("RS256", signed(claims()), "valid")
case("RS384 with a key without alg", signed(claims(), rsa_any, "RS384", "rsa-2"), "valid")
case("RS512", signed(claims(), rsa_any, "RS512", "rsa-2"), "valid")
case("PS256", signed(claims(), rsa_any, "PS256", "rsa-2"), "valid")
case("PS384", signed(claims(), rsa_any, "PS384", "rsa-2"), "valid")
case("PS512", signed(claims(), rsa_any, "PS512", "rsa-2"), "valid")
case("ES256", signed(claims(), ec256, "ES256", "ec-256"), "valid")
case("ES384", signed(claims(), ec384, "ES384", "ec-384"), "valid")
case("ES512", signed(claims(), ec521, "ES512", "ec-521"), "valid")
case("EdDSA", signed(claims(), ed_key, "EdDSA", "ed-1"), "valid")
case("HS256", signed(claims(), hmac_secret, "HS256", "hs-1"), "valid")
case("HS512", signed(claims(), hmac_secret, "HS512", "hs-1"), "valid")
case("no kid: keys of the algorithm's type are tried", signed(claims(), ec256, "ES256", None), "valid")

# --- alg: none and friends ----------------------------------------------------------------
for name in ("none", "None", "NONE", "nOnE"):
    head = b64json({"alg": name, "typ": "JWT"})
    case(f"alg {name}, empty signature", f"{head}.{b64json(claims())}.", "malformed")
    case(f"alg {name}, some signature", f"{head}.{b64json(claims())}.{b64(b'x' * 32)}", "unsupported_algorithm")
case("alg rs256 in lower case", raw_token({"alg": "rs256", "kid": "rsa-1"}, json.dumps(claims()).encode(), rs256),
     "unsupported_algorithm")
case("alg missing", raw_token({"kid": "rsa-1"}, json.dumps(claims()).encode(), rs256), "malformed")
case("alg not a string", raw_token({"alg": ["RS256"], "kid": "rsa-1"}, json.dumps(claims()).encode(), rs256),
     "malformed")

# --- key confusion: the RSA public key used as an HMAC secret --------------------------------
public_pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
public_der = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
public_jwk = json.dumps(jwks["keys"][0]).encode()
for label, secret in (("PEM", public_pem), ("DER", public_der), ("JWK", public_jwk)):
    import hmac as _hmac
    import hashlib
    token = raw_token({"alg": "HS256", "kid": "rsa-1"}, json.dumps(claims()).encode(),
                      lambda data, s=secret: _hmac.new(s, data, hashlib.sha256).digest())
    case(f"HS256 with the RSA key's {label} as secret, kid of the RSA key", token, "key_algorithm_mismatch")
    token = raw_token({"alg": "HS256"}, json.dumps(claims()).encode(),
                      lambda data, s=secret: _hmac.new(s, data, hashlib.sha256).digest())
    case(f"HS256 with the RSA key's {label} as secret, no kid", token, "bad_signature")
case("RS256 token naming the EC key", raw_token({"alg": "RS256", "kid": "ec-256"}, json.dumps(claims()).encode(),
                                                rs256), "key_algorithm_mismatch")
case("ES384 token naming the P-256 key", signed(claims(), ec384, "ES384", "ec-256"), "key_algorithm_mismatch")


# --- ECDSA signatures: psychic (CVE-2022-21449), DER, wrong length ----------------------------
def es256_raw(r, s):
    return raw_token({"alg": "ES256", "kid": "ec-256"}, json.dumps(claims()).encode(),
                     lambda data: r.to_bytes(32, "big") + s.to_bytes(32, "big"))


P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
case("psychic signature r = s = 0", es256_raw(0, 0), "bad_signature")
case("ECDSA r = n, s = n", es256_raw(P256_N, P256_N), "bad_signature")
case("ECDSA r = 1, s = n", es256_raw(1, P256_N), "bad_signature")
der = raw_token({"alg": "ES256", "kid": "ec-256"}, json.dumps(claims()).encode(),
                lambda data: ec256.sign(data, ec.ECDSA(hashes.SHA256())))
case("ES256 signature in DER form", der, "bad_signature")


def es256_good(data):
    r, s = utils.decode_dss_signature(ec256.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


good = raw_token({"alg": "ES256", "kid": "ec-256"}, json.dumps(claims()).encode(), es256_good)
case("ES256 built by hand (control)", good, "valid")
head, body, sig = good.split(".")
longer = b64(base64.urlsafe_b64decode(sig + "==") + bytes(1))
case("ES256 signature with a byte appended", f"{head}.{body}.{longer}", "bad_signature")

# --- RSA-PSS salt length must equal the hash length -------------------------------------------
for salt in (0, 20, 64):
    token = raw_token({"alg": "PS256", "kid": "rsa-2"}, json.dumps(claims()).encode(),
                      lambda data, n=salt: rsa_any.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), n),
                                                        hashes.SHA256()))
    case(f"PS256 with salt length {salt}", token, "bad_signature")
token = raw_token({"alg": "PS256", "kid": "rsa-2"}, json.dumps(claims()).encode(),
                  lambda data: rsa_any.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()))
case("PS256 with salt length 32 (control)", token, "valid")

# --- signatures that do not verify -----------------------------------------------------------
case("signed by another key", signed(claims(), attacker), "bad_signature")
good = signed(claims())
head, body, sig = good.split(".")
case("payload swapped after signing", f"{head}.{b64json(claims(roles=['admin']))}.{sig}", "bad_signature")
case("unknown kid", signed(claims(), kid="who"), "unknown_key")

# --- keys named by the token are never used -----------------------------------------------------
attacker_jwk = jwk(attacker.public_key())
case("embedded jwk header", signed(claims(), attacker, kid=None, jwk=attacker_jwk), "bad_signature")
case("jku header", signed(claims(), attacker, kid=None, jku="https://attacker.test/jwks.json"), "bad_signature")
case("x5u header", signed(claims(), attacker, kid=None, x5u="https://attacker.test/cert.pem"), "bad_signature")

# --- crit and typ --------------------------------------------------------------------------------
case("unknown crit", signed(claims(), crit=["exp"], exp=1), "critical_header")
case("empty crit", signed(claims(), crit=[]), "critical_header")

# --- strict parsing ------------------------------------------------------------------------------
good = signed(claims())
head, body, sig = good.split(".")
case("padding characters", f"{head}.{body}.{sig}==", "malformed")
case("standard base64 alphabet", good.replace("-", "+").replace("_", "/") if ("-" in good or "_" in good)
     else good + "+", "malformed")
case("four parts", f"{good}.{sig}", "malformed")
case("two parts", f"{head}.{body}", "malformed")
case("whitespace inside", f"{head}. {body}.{sig}", "malformed")
# Non-canonical: the last character of a part carries unused bits that must be zero.
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
for part_name, part in (("signature", sig),):
    if len(part) % 4 in (2, 3):
        last = alphabet.index(part[-1])
        flipped = part[:-1] + alphabet[last ^ 1]
        case(f"non-canonical base64url in the {part_name}", f"{head}.{body}.{flipped}", "malformed")
case("header is not JSON", raw_token(b"not json", json.dumps(claims()).encode(), rs256), "malformed")
case("header is a JSON array", raw_token(b'["RS256"]', json.dumps(claims()).encode(), rs256), "malformed")
case("duplicate alg in the header",
     raw_token(b'{"alg":"HS256","alg":"RS256","kid":"rsa-1"}', json.dumps(claims()).encode(), rs256), "malformed")
dup = json.dumps(claims())[:-1] + ',"sub":"mallory"}'
case("duplicate sub in the payload", raw_token({"alg": "RS256", "kid": "rsa-1"}, dup.encode(), rs256), "malformed")
case("payload is a JSON string", raw_token({"alg": "RS256", "kid": "rsa-1"}, b'"hello"', rs256), "malformed")
case("payload with a NUL escape",
     raw_token({"alg": "RS256", "kid": "rsa-1"}, json.dumps(claims(sub="a\u0000b")).encode(), rs256), "malformed")
nested = {"a": None}
for _ in range(100):
    nested = {"a": nested}
case("deeply nested claims", raw_token({"alg": "RS256", "kid": "rsa-1"}, json.dumps(claims(deep=nested)).encode(),
                                       rs256), "malformed")
case("oversized token", signed(claims(padding="x" * 17000)), "token_too_large")

# --- time claims ---------------------------------------------------------------------------------
case("expired", signed(claims(exp=NOW - 61)), "expired")
case("expired within the leeway", signed(claims(exp=NOW - 30)), "valid")
case("exp missing", signed(claims(exp=DROP)), "missing_claim")
case("exp fractional", signed(claims(exp=NOW + 0.5)), "valid")
for label, raw in (("1e300", "1e300"), ("int64 max", "9223372036854775807")):
    payload = json.dumps(claims(exp=0)).replace('"exp": 0', f'"exp": {raw}')
    case(f"exp {label} is far in the future",
         raw_token({"alg": "RS256", "kid": "rsa-1"}, payload.encode(), rs256), "valid")
for label, raw in (("-1e300", "-1e300"), ("0", "0"), ("-0", "-0"), ("int64 min", "-9223372036854775808")):
    payload = json.dumps(claims(exp=1)).replace('"exp": 1', f'"exp": {raw}')
    case(f"exp {label} is long past", raw_token({"alg": "RS256", "kid": "rsa-1"}, payload.encode(), rs256), "expired")
for label, value in (("string", str(NOW + 600)), ("null", None), ("true", True), ("array", [NOW + 600]),
                     ("object", {"t": NOW + 600})):
    case(f"exp as {label}", raw_token({"alg": "RS256", "kid": "rsa-1"}, json.dumps(claims(exp=value)).encode(), rs256),
         "malformed")
case("exp beyond the double range",
     raw_token({"alg": "RS256", "kid": "rsa-1"},
               json.dumps(claims(exp=0)).replace('"exp": 0', '"exp": 1e999').encode(), rs256), "malformed")
case("nbf in the future", signed(claims(nbf=NOW + 120)), "not_yet_valid")
case("nbf within the leeway", signed(claims(nbf=NOW + 30)), "valid")
case("nbf as string", signed(claims(nbf="soon")), "malformed")
case("iat in the future", signed(claims(iat=NOW + 120)), "issued_in_future")
case("sub with a line break (valid; unsafe in a header)", signed(claims(sub="alice\r\nX-Admin: yes")), "valid")

# --- issuer and audience -------------------------------------------------------------------------
case("issuer missing its trailing slash", signed(claims(iss=ISS.rstrip("/"))), "wrong_issuer")
case("issuer with a suffix", signed(claims(iss=ISS + "evil")), "wrong_issuer")
case("issuer with a prefix", signed(claims(iss="https://evil.test/" + ISS)), "wrong_issuer")
case("issuer in another case", signed(claims(iss=ISS.upper())), "wrong_issuer")
case("issuer as an array", raw_token({"alg": "RS256", "kid": "rsa-1"}, json.dumps(claims(iss=[ISS])).encode(), rs256),
     "wrong_issuer")
case("issuer missing", signed(claims(iss=DROP)), "missing_claim")
case("audience in an array", signed(claims(aud=["other", AUD])), "valid")
case("audience wrong", signed(claims(aud="other")), "wrong_audience")
case("audience empty array", signed(claims(aud=[])), "wrong_audience")
case("audience as number", signed(claims(aud=42)), "malformed")
case("audience as object", signed(claims(aud={"aud": AUD})), "malformed")
case("audience array with a non-string", signed(claims(aud=[AUD, 1])), "malformed")
case("audience as a prefix", signed(claims(aud=AUD + "-admin")), "wrong_audience")
case("audience missing", signed(claims(aud=DROP)), "missing_claim")
# NFC vs NFD: equal to Swift's String ==, different bytes, so a different audience.
case("audience in another Unicode normalisation", signed(claims(aud="cafe\u0301")), "wrong_audience")

with open(os.path.join(HERE, "jwks.json"), "w") as f:
    json.dump(jwks, f, indent=1)
with open(os.path.join(HERE, "tokens.json"), "w") as f:
    json.dump({"now": NOW, "requirements": {"issuer": ISS, "audience": [AUD, "café"], "leeway": 60},
               "cases": cases}, f, indent=1)

# --- keys that must be refused at load -----------------------------------------------------------
bad = os.path.join(HERE, "bad-keys")
os.makedirs(bad, exist_ok=True)
small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
base_rsa = jwk(rsa_key.public_key(), kid="k")
bad_sets = {
    "rsa-1024": ({"keys": [jwk(small.public_key(), kid="k")]}, "at least 2048 bits"),
    "rsa-e-1": ({"keys": [dict(base_rsa, e="AQ")]}, "exponent"),
    "rsa-e-even": ({"keys": [dict(base_rsa, e="AQAA")]}, "exponent"),
    "ec-off-curve": ({"keys": [dict(jwk(ec256.public_key(), kid="k"),
                                    y=b64((int.from_bytes(base64.urlsafe_b64decode(
                                        jwk(ec256.public_key())["y"] + "=="), "big") ^ 1).to_bytes(32, "big")))]},
                     "not a valid EC public key"),
    "ec-short-x": ({"keys": [dict(jwk(ec256.public_key(), kid="k"), x=b64(b"\1" * 31))]}, "32 bytes"),
    "ec-wrong-curve-alg": ({"keys": [jwk(ec256.public_key(), kid="k", alg="ES384")]}, "does not fit"),
    "ed25519-identity": ({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": b64(b"\1" + b"\0" * 31)}]},
                         "small order"),
    "ed25519-order-8": ({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": b64(bytes.fromhex(
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"))}]}, "small order"),
    "ed25519-non-canonical": ({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k",
                                         "x": b64(b"\xf0" + b"\xff" * 30 + b"\x7f")}]}, "not canonically"),
    "use-enc": ({"keys": [dict(base_rsa, use="enc")]}, "\"use\" is \"enc\""),
    "key-ops-sign-only": ({"keys": [dict(base_rsa, key_ops=["sign"])]}, "\"key_ops\" does not include \"verify\""),
    "duplicate-kid": ({"keys": [base_rsa, dict(jwk(rsa_any.public_key()), kid="k")]}, "duplicate kid"),
    "private-key": ({"keys": [dict(base_rsa, d=b64(b"secret"))]}, "private key material"),
    "hmac-short": ({"keys": [{"kty": "oct", "kid": "k", "k": b64(b"s" * 16)}]}, "at least 32 bytes"),
    "unknown-kty": ({"keys": [{"kty": "XYZ", "kid": "k"}]}, "\"kty\" \"XYZ\" is not a key type"),
    "unknown-alg": ({"keys": [dict(base_rsa, alg="none")]}, "\"alg\" \"none\" is not a signature algorithm"),
    "private-key-in-enc-key": ({"keys": [base_rsa, dict(base_rsa, kid="e", use="enc", d=b64(b"secret"))]},
                               "private key material"),
    "empty": ({"keys": []}, "non-empty"),
    "not-json": ("this is not a key", "not valid JSON"),
    "padded-base64": ({"keys": [dict(base_rsa, n=base_rsa["n"] + "==")]}, "base64url"),
}
for name, (content, expect) in bad_sets.items():
    with open(os.path.join(bad, name + ".json"), "w") as f:
        json.dump({"expect": expect, "content": content if isinstance(content, str) else json.dumps(content)}, f,
                  indent=1)
with open(os.path.join(HERE, "rsa-public.pem"), "wb") as f:
    f.write(public_pem)
with open(os.path.join(HERE, "rsa-public-token.txt"), "w") as f:
    f.write(signed(claims(), kid="any-kid") + "\n")
print(f"{len(cases)} token cases, {len(bad_sets)} bad key sets", file=sys.stderr)
