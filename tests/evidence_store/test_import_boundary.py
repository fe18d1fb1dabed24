"""evidence_store is pure Python: importing every module loads no flask / sqlalchemy / app module,
and boto3 only comes in when an S3 store is opened."""
import subprocess
import sys

from ..conftest import ROOT

CODE = """
import importlib, pkgutil, sys
import evidence_store
for m in pkgutil.walk_packages(evidence_store.__path__, "evidence_store."):
    importlib.import_module(m.name)
bad = sorted(m for m in sys.modules
             if m.split(".")[0] in ("flask", "sqlalchemy", "app", "boto3", "botocore") or m.startswith("flask_"))
print(",".join(bad))
"""


def test_importing_every_module_loads_no_framework_and_no_boto3():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
