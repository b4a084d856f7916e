#!/usr/bin/env python3
"""Writes distinct tokens for `gatehouse bench`, signed with PyJWT and cryptography.

    PYTHONPATH=Tests python3 scripts/bench/bench_tokens.py DIR [COUNT]
        ->  DIR/jwks.json, DIR/tokens.txt ("ALG TOKEN" lines)
"""
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gatehouse_testkit.tokens import public_jwk

folder = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
os.makedirs(folder, exist_ok=True)
keys = {
    "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "PS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
}
secret = os.urandom(32)
jwks = [public_jwk(key, alg, alg) for alg, key in keys.items()]
jwks.append({"kty": "oct", "kid": "HS256", "alg": "HS256", "k": jwt.utils.base64url_encode(secret).decode()})
with open(os.path.join(folder, "jwks.json"), "w") as f:
    json.dump({"keys": jwks}, f)
now = int(time.time())
with open(os.path.join(folder, "tokens.txt"), "w") as f:
    for alg in list(keys) + ["HS256"]:
        key = secret if alg == "HS256" else keys[alg]
        for i in range(count):
            claims = {"iss": "https://idp.example.test/", "aud": "gatehouse-api", "sub": f"user-{i}",
                      "iat": now, "exp": now + 86400, "roles": ["viewer", "operator"], "jti": f"{alg}-{i}"}
            f.write(f"{alg} {jwt.encode(claims, key, algorithm=alg, headers={'kid': alg})}\n")
