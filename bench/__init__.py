"""Load benchmark (not tests): seeding, servers, wrk and WebSocket fan-out, results."""
