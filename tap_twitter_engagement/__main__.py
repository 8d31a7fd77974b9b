"""``python -m tap_twitter_engagement`` runs the tap."""

from tap_twitter_engagement.tap import main

main()
