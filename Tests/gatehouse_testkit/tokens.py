"""Signing keys and tokens minted by PyJWT and cryptography (implementations Gatehouse did not
write), and the JWKS that publishes their public halves."""
import json
import os
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ISSUER = "https://idp.example.test/"
AUDIENCE = "gatehouse-api"


def public_jwk(key, kid, alg, **members):
    """The JWK (RFC 7517) of a private key's public half, with its kid, alg and any other members."""
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = RSAAlgorithm
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = ECAlgorithm
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm = OKPAlgorithm
    else:
        raise TypeError(f"no JWK for a {type(key).__name__}")
    jwk = json.loads(algorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg=alg, **members)
    return jwk


class Keys:
    """The identity provider's signing keys (RS256 "rsa-1", ES256 "ec-1"; `other` is published
    nowhere), and the JWKS file lighttpd trusts."""

    def __init__(self, folder):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys = [public_jwk(self.rsa, "rsa-1", "RS256", use="sig"), public_jwk(self.ec, "ec-1", "ES256", use="sig")]
        self.jwks_path = os.path.join(folder, "jwks.json")
        with open(self.jwks_path, "w") as f:
            json.dump({"keys": keys}, f)

    def mint(self, alg="RS256", key=None, kid=None, lifetime=600, **claims):
        """A token for alice from ISSUER to AUDIENCE; a claim given as None is left out."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + lifetime}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        if key is None:
            key = self.rsa if alg == "RS256" else self.ec
        if kid is None:
            kid = "rsa-1" if alg == "RS256" else "ec-1"
        return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})
