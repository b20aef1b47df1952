import subprocess
import sys

import wisetrader


def test_core_extension_reports_the_package_version() -> None:
    from wisetrader import _core

    assert _core.__version__ == wisetrader.__version__
    assert wisetrader.__version__.count(".") == 2


def test_cli_prints_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wisetrader", "version"], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == wisetrader.__version__
