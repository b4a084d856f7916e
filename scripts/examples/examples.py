"""The examples/ configurations, made to run here, and tokens from an OpenID Connect provider,
for scripts/examples/example.sh (the end-to-end tests use the same gatehouse_testkit functions).

    PYTHONPATH=Tests python3 scripts/examples/examples.py config NAME OUT [VAR=VALUE]...
        examples/NAME.conf with the values of its installation-specific `var.` lines replaced
        (listen_port, backend_port, issuer, audience, jwks, state_dir, …), written to OUT.
    PYTHONPATH=Tests python3 scripts/examples/examples.py token --issuer URL --audience CLIENT_ID --sub SUB \\
            [--claims JSON]
        logs SUB in at the provider (which must let the test set a user's claims, as
        oidc-provider-mock does) through the authorization-code flow with PKCE and prints the
        ID token it issues."""
import argparse
import json
import sys

from gatehouse_testkit.examples import configure
from gatehouse_testkit.provider import login


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
