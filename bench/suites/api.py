"""API: requests/s of a real ``wisetrader api`` under local load (``bench/api_load.py`` holds the
measurement): bots list, top of book and liveness, with the server's CPU time per request."""

from __future__ import annotations

import statistics

from bench.registry import Context, Outcome, Result, suite

SUBJECT = "wisetrader api (uvicorn, 1 process, SQLite)"
CONCURRENCY = 32
BOTS = 20


@suite("api", "Requests/s of the HTTP API on 127.0.0.1: bots list, top of book, liveness; server CPU/request")
def api(ctx: Context) -> Outcome:
    from bench.api_load import measure

    requests = 300 if ctx.quick else 3000
    runs = [measure(requests, CONCURRENCY, BOTS, 30.0) for _ in range(ctx.runs)]  # a fresh server each
    results = []
    for i, (name, first) in enumerate(runs[0]):
        of_endpoint = [run[i][1] for run in runs]
        metrics = {
            "requests_per_s": statistics.median(m.per_s for m in of_endpoint),
            "server_us_per_request": statistics.median(m.server_us for m in of_endpoint),
            "one_core_requests_per_s": statistics.median(1e6 / m.server_us for m in of_endpoint),
            "client_us_per_request": statistics.median(m.client_us for m in of_endpoint),
            "non_200": float(sum(m.errors for m in of_endpoint)),
        }
        case = f"GET {first.path}, {requests:,} requests over {CONCURRENCY} keep-alive connections"
        detail = {"endpoint": name, "runs": len(runs), "requests_per_s": [m.per_s for m in of_endpoint]}
        results.append(Result("api", case, SUBJECT, "ours", metrics, "requests_per_s", detail=detail))
    return Outcome(results)
