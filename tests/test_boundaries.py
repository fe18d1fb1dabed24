import subprocess
import sys

import pytest

from .conftest import ROOT


@pytest.mark.parametrize("package", ["workflows", "evidence_store"])
def test_pure_packages_import_no_framework(package):
    code = (f"import sys, {package}, pkgutil, importlib\n"
            f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'): importlib.import_module(m.name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'app')"
            " or m.startswith('flask_'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
