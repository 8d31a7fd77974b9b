-- historical_engagement_wide, the default group_by in the wide layout, unpivoted: one row per
-- tweet, metric served and UTC day, the latest load of each.
{{ historical_rows("historical_engagement_wide") }}
