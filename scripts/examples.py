"""The examples/ configurations, made to run here, and tokens from an OpenID Connect provider.
Used by scripts/example.sh and by the end-to-end tests (Tests/Integration/e2e.py).

    python3 scripts/examples.py config NAME OUT [VAR=VALUE]...
        examples/NAME.conf with the values of its installation-specific `var.` lines replaced
        (listen_port, backend_port, issuer, audience, jwks, state_dir, …), written to OUT.
    python3 scripts/examples.py token --issuer URL --audience CLIENT_ID --sub SUB [--claims JSON]
        logs SUB in at the provider (which must let the test set a user's claims, as
        oidc-provider-mock does) through the authorization-code flow with PKCE and prints the
        ID token it issues."""
import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import urllib.parse

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def configure(name, out, **values):
    """Writes examples/NAME.conf to OUT with each `var.NAME = …` line given a new value."""
    with open(os.path.join(ROOT, "examples", f"{name}.conf")) as f:
        text = f.read()
    for var, value in values.items():
        literal = str(value) if isinstance(value, int) else json.dumps(value)
        text, count = re.subn(rf"^var\.{var}\s*=.*$", lambda _: f"var.{var} = {literal}", text, flags=re.M)
        if count != 1:
            raise ValueError(f"examples/{name}.conf has no single var.{var} line")
    with open(out, "w") as f:
        f.write(text)


def login(issuer, audience, sub, claims=None, session=None):
    """SUB's ID token from the provider at ISSUER for the client AUDIENCE, after setting the
    user's claims (oidc-provider-mock's PUT /users/SUB). Drives the login as a browser would:
    the authorization request with a PKCE challenge (RFC 7636), the login form, the redirect
    with the code, and the token request with the verifier."""
    session = session or requests.Session()
    answer = session.put(f"{issuer}/users/{urllib.parse.quote(sub, safe='')}", json=claims or {})
    answer.raise_for_status()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1/callback"
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({
        "client_id": audience, "redirect_uri": redirect, "response_type": "code", "scope": "openid",
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
    session.get(f"{issuer}/oauth2/authorize?{query}").raise_for_status()  # the login form
    answer = session.post(f"{issuer}/oauth2/authorize?{query}", data={"sub": sub}, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"login refused: {answer.status_code} {answer.text[:200]}")
    params = urllib.parse.parse_qs(urllib.parse.urlparse(answer.headers["Location"]).query)
    if params.get("state") != [state]:
        raise RuntimeError("the provider's redirect does not carry our state")
    answer = session.post(f"{issuer}/oauth2/token", data={
        "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": redirect,
        "code_verifier": verifier, "client_id": audience, "client_secret": "unused"})
    answer.raise_for_status()
    return answer.json()["id_token"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config")
    config.add_argument("name")
    config.add_argument("out")
    config.add_argument("values", nargs="*", metavar="VAR=VALUE")
    token = commands.add_parser("token")
    token.add_argument("--issuer", required=True)
    token.add_argument("--audience", required=True)
    token.add_argument("--sub", required=True)
    token.add_argument("--claims", default="{}", help='JSON object, e.g. {"roles": ["viewer"]}')
    args = parser.parse_args()
    if args.command == "config":
        values = dict(item.split("=", 1) for item in args.values)
        configure(args.name, args.out, **{k: int(v) if v.isdigit() else v for k, v in values.items()})
    else:
        print(login(args.issuer, args.audience, args.sub, json.loads(args.claims)))


if __name__ == "__main__":
    sys.exit(main())
