"""``python -m twitter_engagement_sandbox`` runs ``tap-twitter-engagement-sandbox``."""

from twitter_engagement_sandbox.cli import PROG, main

main(prog_name=PROG)
