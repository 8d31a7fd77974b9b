-- One row per account and UTC day: every metric summed over every tweet ever loaded (the
-- history stays when the configuration narrows), the number of tweets with rows that day, the
-- rate, whether every row summed is final, and the handle (when accounts is loaded).
{{ account_day(tracked_only=false) }}
