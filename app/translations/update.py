"""Refresh the catalogs from the sources: `python app/translations/update.py`.

Extracts every message into messages.pot and merges it into each language's .po; the
test suite fails while any zh_CN message has no translation."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main():
    pot = HERE / "messages.pot"
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    subprocess.run([pybabel, "extract", "-F", str(HERE / "babel.cfg"), "-k", "_l", "--no-location",
                    "--ignore-dirs=.venv migrations tests bench", "-o", str(pot), "."], cwd=ROOT, check=True)
    for lang in ("zh_Hans_CN",):  # Babel names zh_CN this way
        po = HERE / lang / "LC_MESSAGES" / "messages.po"
        cmd = "update" if po.exists() else "init"
        subprocess.run([pybabel, cmd, "-i", str(pot), "-d", str(HERE), "-l", lang, "--no-wrap"], check=True)


if __name__ == "__main__":
    main()
