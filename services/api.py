"""The API service: ``python -m services.api`` serves the control endpoints (settings: WISETRADER_API__*)."""

from wisetrader.api.serve import run

if __name__ == "__main__":
    run()
