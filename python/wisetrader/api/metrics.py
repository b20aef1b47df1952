"""Prometheus metrics of the API, in their own registry so several apps in one process stay separate."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "wisetrader_api_requests_total",
    "HTTP requests by route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "wisetrader_api_request_seconds", "HTTP request latency by route", ["route"], registry=REGISTRY
)
REJECTED = Counter(
    "wisetrader_api_rejected_total",
    "requests refused before routing (rate limit, size)",
    ["reason"],
    registry=REGISTRY,
)
