"""The companion commands: ``tap-twitter-engagement-auth`` (the PIN flow for a tweet owner's
token), ``tap-twitter-engagement-plan`` (what a sync would do, without running it), and the
Meltano plugin definition derived from the settings schema."""
