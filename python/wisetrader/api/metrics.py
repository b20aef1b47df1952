"""Prometheus metrics of the API, in their own registry so that nothing else in the process mixes in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "wisetrader_api_requests",
    "HTTP requests by endpoint and status",
    ["method", "endpoint", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "wisetrader_api_request_seconds", "HTTP request latency by endpoint", ["endpoint"], registry=REGISTRY
)
REJECTED = Counter(
    "wisetrader_api_rejected", "requests refused before routing (rate limit)", ["reason"], registry=REGISTRY
)
