"""keyguard's benchmarks: auth latency against a bare app, the physical floor, and the ways
people authenticate API keys today. Run `python -m benchmarks [--quick]`; see README.md.

Not part of the test suite: nothing here asserts a timing. Modules, by idea:

- `environment`: what a run needs (Postgres, Redis, wrk), its own database and Redis prefix;
- `apps`: the bare apps and keyguard-wrapped ones; `alternatives`: the ways people do it today;
- `inprocess`: the ASGI app called directly under uvloop, interleaved batches;
- `e2e` (with `server` and `loadgen`): uvicorn on 127.0.0.1 under wrk or a Python client;
- `scale`: keys in the store, cache hit rate, worker processes and revocation delay;
- `report`: the table, JSON, Markdown, PNG chart and the targets met or not.
"""
