"""``tap-twitter-engagement-auth``: get a tweet owner's access token and secret (PIN flow).

The Engagement API needs the OAuth 1.0a token of the account that owns the tweets. For your own
account the developer console shows it; for another account that account's owner authorizes your
app once: this command gets a request token, prints the authorize URL, reads the PIN the owner
sees after approving, exchanges it for the access token and secret, and writes them where you
choose.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from requests_oauthlib import OAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

ENV_PREFIX = "TAP_TWITTER_ENGAGEMENT_"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-twitter-engagement-auth",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--consumer-key",
        default=os.environ.get(f"{ENV_PREFIX}CONSUMER_KEY"),
        help=f"the app's API key (default: ${ENV_PREFIX}CONSUMER_KEY)",
    )
    parser.add_argument(
        "--consumer-secret",
        default=os.environ.get(f"{ENV_PREFIX}CONSUMER_SECRET"),
        help=f"the app's API key secret (default: ${ENV_PREFIX}CONSUMER_SECRET)",
    )
    parser.add_argument(
        "--oauth-url",
        default="https://api.twitter.com",
        help="base URL of /oauth/* (default https://api.twitter.com; the sandbox's URL to try it)",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--config",
        type=Path,
        help="tap config JSON to write access_token and access_token_secret into "
        "(created if missing, other settings kept)",
    )
    target.add_argument(
        "--meltano",
        action="store_true",
        help="print the `meltano config set tap-twitter-engagement` lines to run",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.consumer_key or not args.consumer_secret:
        print(
            "error: set --consumer-key and --consumer-secret (or the "
            f"{ENV_PREFIX}CONSUMER_KEY/_SECRET variables)",
            file=sys.stderr,
        )
        return 1
    base = args.oauth_url.rstrip("/")
    session = OAuth1Session(
        args.consumer_key, client_secret=args.consumer_secret, callback_uri="oob"
    )
    try:
        session.fetch_request_token(f"{base}/oauth/request_token")
        print(
            "1. Open this URL signed in as the account that owns the tweets, and authorize "
            f"the app:\n   {session.authorization_url(f'{base}/oauth/authorize')}",
            flush=True,
        )
        pin = input("2. Enter the PIN shown after authorizing: ").strip()
        token = session.fetch_access_token(f"{base}/oauth/access_token", verifier=pin)
    except TokenRequestDenied as exc:
        print(
            f"error: X refused the request ({exc.status_code}); check the consumer key and "
            "secret, and the PIN (it is single-use)",
            file=sys.stderr,
        )
        return 1
    values = {
        "access_token": token["oauth_token"],
        "access_token_secret": token["oauth_token_secret"],
    }
    who = f"@{token.get('screen_name', '?')} (user id {token.get('user_id', '?')})"
    if args.config:
        config = json.loads(args.config.read_text()) if args.config.exists() else {}
        config.update(values)
        args.config.write_text(json.dumps(config, indent=2) + "\n")
        args.config.chmod(0o600)
        print(f"3. Wrote the access token and secret of {who} to {args.config}")
    else:
        print(f"3. Access token of {who}. Run:")
        for name, value in values.items():
            print(f"   meltano config set tap-twitter-engagement {name} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
