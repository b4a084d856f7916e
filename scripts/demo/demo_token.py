#!/usr/bin/env python3
"""Demo identity provider: makes a signing key and its JWKS, and mints tokens
with PyJWT, the way a real provider (Keycloak, Okta, Azure AD…) would.

    PYTHONPATH=Tests python3 scripts/demo/demo_token.py init DIR
    PYTHONPATH=Tests python3 scripts/demo/demo_token.py mint DIR SUBJECT ROLE[,ROLE…] [--lifetime SECONDS]
"""
import argparse
import json
import os
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gatehouse_testkit.tokens import public_jwk

ISSUER = "https://idp.demo.test/"
AUDIENCE = "demo-api"


def init(folder):
    key_path = os.path.join(folder, "signing-key.pem")
    if os.path.exists(key_path):
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    jwk = public_jwk(key, "demo-1", "RS256", use="sig")
    with open(os.path.join(folder, "jwks.json"), "w") as f:
        json.dump({"keys": [jwk]}, f, indent=1)


def mint(folder, subject, roles, lifetime):
    with open(os.path.join(folder, "signing-key.pem"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + lifetime,
              "roles": [r for r in roles.split(",") if r]}
    print(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "demo-1"}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["init", "mint"])
    parser.add_argument("folder")
    parser.add_argument("subject", nargs="?")
    parser.add_argument("roles", nargs="?", default="")
    parser.add_argument("--lifetime", type=int, default=3600)
    args = parser.parse_args()
    if args.command == "init":
        init(args.folder)
    else:
        mint(args.folder, args.subject, args.roles, args.lifetime)
