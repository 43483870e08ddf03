"""The periodic security report: incidents, response times and their trend, clocks met, follow-ups,
drills and lessons for a period — an internal version and a client-facing one."""
