"""keyguard's benchmarks: what API-key authentication costs a request, against a bare app, the
physical floor and the ways people authenticate API keys today. Run `python -m benchmarks
[--quick]`; see README.md. Not part of the test suite: nothing here asserts a timing.

Modules, by idea:

- `environment`: what a run needs (Postgres, Redis, wrk), its own database and Redis prefix;
- `apps`: the bare app and keyguard-wrapped ones; `alternatives`: the ways people do it today;
- `inprocess` (with `cases`): the ASGI app called directly under uvloop, interleaved batches;
- `e2e` (with `server`): uvicorn on 127.0.0.1 under wrk;
- `targets`, `report`, `machine`: the targets met or not, the tables, JSON and Markdown;
- `runner`: one bounded run that always cleans up.
"""
