"""Image uploads: time and peak memory of storing an image and making its thumbnail (the evidence upload's
image work: Writer.commit + Store.make_thumbnail), one and three at once in threads, each case in a fresh
Python process (peak RSS = VmHWM at the end minus VmRSS before the first image).

    .venv/bin/python -m bench.images                          # this tree's evidence_store
    .venv/bin/python -m bench.images --code /tmp/old-tree     # another tree's, to compare

Figures are ratios to the baseline measured in the same run: a 1000 x 1000 PNG stored alone. No database.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = [("baseline 1000x1000 PNG", "PNG", 1000, 1), ("6300x6300 PNG (39.7 MP)", "PNG", 6300, 1),
         ("6300x6300 PNG x3 threads", "PNG", 6300, 3), ("4900x4900 PNG (24 MP)", "PNG", 4900, 1),
         ("4900x4900 PNG x3 threads", "PNG", 4900, 3), ("5000x5000 WebP (25 MP)", "WEBP", 5000, 1),
         ("5000x5000 WebP x3 threads", "WEBP", 5000, 3), ("5000x5000 JPEG (25 MP)", "JPEG", 5000, 1),
         ("5000x5000 JPEG x3 threads", "JPEG", 5000, 3)]
_SAVE = {"PNG": {"compress_level": 9}, "WEBP": {"quality": 80}, "JPEG": {"quality": 90}}


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # MB
    return 0.0


def one(code, image, threads):
    """In the child: store `threads` copies (distinct bytes) of the image at once; print JSON figures."""
    sys.path.insert(0, code)
    from PIL import Image  # noqa: F401  (imports paid before the measurement)

    from evidence_store import open_store

    data = Path(image).read_bytes()
    store = open_store(f"file://{tempfile.mkdtemp(prefix='bench-images-')}")
    outcomes = []

    def upload(i):
        try:
            stored = store.put_bytes(_distinct(data, i))
            store.make_thumbnail(stored.sha256)
            outcomes.append("stored")
        except Exception as exc:  # noqa: BLE001  (the figure reports the refusal)
            outcomes.append(type(exc).__name__)

    rss = _status("VmRSS")
    start = time.perf_counter()
    workers = [threading.Thread(target=upload, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": _status("VmHWM") - rss,
                      "outcome": ",".join(sorted(set(outcomes)))}))


def _distinct(data, i):
    """The i-th of distinct, equally sound copies: NULs after the end of the image (PNG's IEND, JPEG's EOI,
    WebP's RIFF chunk: each decoder stops there)."""
    return data + b"\x00" * i


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=str(ROOT), help="the tree whose evidence_store is measured")
    parser.add_argument("--one", nargs=2, metavar=("IMAGE", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one(args.code, args.one[0], int(args.one[1]))
    from PIL import Image

    folder = Path(tempfile.mkdtemp(prefix="bench-images-src-"))
    images = {}
    for fmt, side in sorted({(fmt, side) for _, fmt, side, _ in CASES}):
        images[fmt, side] = folder / f"{side}.{fmt.lower()}"
        Image.new("RGB", (side, side), (255, 255, 255)).save(images[fmt, side], fmt, **_SAVE[fmt])
    rows = []
    for name, fmt, side, threads in CASES:
        out = subprocess.run([sys.executable, "-m", "bench.images", "--code", args.code, "--one",
                              str(images[fmt, side]), str(threads)], cwd=ROOT, capture_output=True, text=True,
                             check=True)
        rows.append((name, os.path.getsize(images[fmt, side]), json.loads(out.stdout)))
    base = rows[0][2]
    print(f"evidence_store from {args.code}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'case':30} {'bytes':>9} {'seconds':>8} {'x base':>7} {'peak MB':>8} {'x base':>7}  outcome")
    for name, size, r in rows:
        print(f"{name:30} {size:9d} {r['seconds']:8.3f} {r['seconds'] / base['seconds']:7.1f} "
              f"{r['peak_mb']:8.1f} {r['peak_mb'] / max(base['peak_mb'], 0.1):7.1f}  {r['outcome']}")


if __name__ == "__main__":
    main()
