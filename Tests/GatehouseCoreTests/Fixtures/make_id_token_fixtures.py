"""Writes id-tokens.json: ID tokens minted with PyJWT (HS256, a fixed secret) for the checks a
sign-in callback makes beyond a bearer token's: aud is the client, azp, nonce, iat."""
import base64
import json
import os

import jwt

NOW = 1_800_000_000
SECRET = bytes(range(32))
ISSUER = "https://idp.example"
CLIENT = "web-client"
NONCE = "n-0S6_WzA2Mj"


def mint(**changes):
    claims = {"iss": ISSUER, "sub": "alice", "aud": CLIENT, "nonce": NONCE, "iat": NOW - 5, "exp": NOW + 300,
              "roles": ["viewer"]}
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "id"})


cases = [
    ("valid", mint(), "valid"),
    ("several audiences with azp", mint(aud=[CLIENT, "api"], azp=CLIENT), "valid"),
    ("another audience", mint(aud="other-client"), "was refused: wrong_audience"),
    ("several audiences without azp", mint(aud=[CLIENT, "api"]), "has several audiences and no azp"),
    ("azp of another client", mint(azp="other-client"), "was issued to another client (azp)"),
    ("wrong nonce", mint(nonce="another"), "does not carry this sign-in's nonce"),
    ("no nonce", mint(nonce=None), "does not carry this sign-in's nonce"),
    ("issued an hour ago", mint(iat=NOW - 3600), "has no iat of the last 10 minutes"),
    ("no iat", mint(iat=None), "has no iat of the last 10 minutes"),
    ("another issuer", mint(iss="https://evil.example"), "was refused: wrong_issuer"),
]
folder = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(folder, "id-tokens.json"), "w") as f:
    json.dump({"now": NOW, "issuer": ISSUER, "client": CLIENT, "nonce": NONCE,
               "jwks": {"keys": [{"kty": "oct", "kid": "id", "alg": "HS256",
                                  "k": base64.urlsafe_b64encode(SECRET).rstrip(b"=").decode()}]},
               "cases": [{"name": n, "token": t, "expect": e} for n, t, e in cases]}, f, indent=1)
    f.write("\n")
