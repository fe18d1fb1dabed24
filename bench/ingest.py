"""Evidence ingest throughput: 200 MB of uploads through the real HTTP endpoint
(POST /api/v1/cases/<id>/evidence, served by Werkzeug in a separate process), as a ratio
to raw hashlib.sha256 over the same bytes in the same run; plus the server process's peak
memory (VmHWM) after 1 MB uploads and after 20 MB uploads, which must not grow with the
file size.

    .venv/bin/python -m bench.ingest [--store-dir DIR] [--total-mb 200] [--file-mb 20]

The store folder decides how much the disk costs: by default a temp folder under /dev/shm
(the pipeline itself: parse, hash, write, record), `--store-dir /var/tmp/x` measures a real
disk as well. The SQLite database of the run lives under /dev/shm too."""
import argparse
import hashlib
import http.client
import os
import tempfile
import time
from pathlib import Path

BOUNDARY = "----tiaojie-bench-boundary"
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def payload(size, seed):
    block = hashlib.sha256(str(seed).encode()).digest() * (1 << 15)  # 1 MiB of bytes
    head = MP4_HEAD + seed.to_bytes(8, "big")
    chunks, left = [head], size - len(head)
    while left > 0:
        chunks.append(block[:min(left, len(block))])
        left -= len(chunks[-1])
    return chunks


def multipart(chunks):
    pre = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nvideo\r\n"
           f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
           "Content-Type: video/mp4\r\n\r\n").encode()
    post = f"\r\n--{BOUNDARY}--\r\n".encode()
    return [pre, *chunks, post], len(pre) + sum(map(len, chunks)) + len(post)


def post(port, path, token, parts, length):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.putrequest("POST", path)
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    for part in parts:
        conn.send(part)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 201:
        raise SystemExit(f"upload failed: {response.status} {body[:300]!r}")


def serve(database_url, store_dir, port_file):
    """The server process: the app on the prepared database, on a free port."""
    from werkzeug.serving import make_server

    from app import create_app
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, EVIDENCE_STORE_URL=f"file://{store_dir}")
    server = make_server("127.0.0.1", 0, app, threaded=False)
    Path(port_file).write_text(str(server.server_port))
    server.serve_forever()


def start_server(database_url, store_dir, work):
    import subprocess
    import sys
    port_file = Path(work) / f"port-{time.monotonic_ns()}"
    proc = subprocess.Popen([sys.executable, "-m", "bench.ingest", "--serve", database_url, store_dir, str(port_file)],
                            cwd=Path(__file__).resolve().parent.parent, stderr=subprocess.DEVNULL)
    while not port_file.exists() or not port_file.read_text():
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def peak_rss_kib(proc):
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store-dir", default=None)
    parser.add_argument("--total-mb", type=int, default=200)
    parser.add_argument("--file-mb", type=int, default=20)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(*args.serve)
    shm = Path("/dev/shm")
    store_dir = args.store_dir or tempfile.mkdtemp(prefix="tiaojie-ingest-", dir=shm if shm.is_dir() else None)
    work = tempfile.mkdtemp(prefix="tiaojie-ingest-db-", dir=shm if shm.is_dir() else None)
    os.environ["TIAOJIE_INSTANCE"] = work
    database_url = f"sqlite:///{work}/bench.db"

    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.services import issue_token
    from app.cases.services import open_case
    from tests.factories import make_order

    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, EVIDENCE_STORE_URL=f"file://{store_dir}")
    with app.app_context(), app.test_request_context():
        upgrade()
        order, buyer, _ = make_order(state="delivered")
        case_id = open_case(order.id, actor=buyer, kind="refund_only", reason="damaged", amount_fen=100).id
        token = issue_token(buyer)
    path = f"/api/v1/cases/{case_id}/evidence"

    file_size, count = args.file_mb << 20, max(1, args.total_mb // args.file_mb)
    bodies = [multipart(payload(file_size, seed)) for seed in range(count)]
    total = sum(length for _, length in bodies)

    started = time.perf_counter()
    for parts, _ in bodies:
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part)
    raw = total / (time.perf_counter() - started)

    proc, port = start_server(database_url, store_dir, work)
    post(port, path, token, *multipart(payload(1 << 20, 999)))  # warm up
    started = time.perf_counter()
    for parts, length in bodies:
        post(port, path, token, parts, length)
    http_rate = total / (time.perf_counter() - started)
    proc.terminate()
    proc.wait()

    peaks = {}
    for mb in (1, 20):  # a fresh server per size: its high-water mark after 5 uploads of that size
        proc, port = start_server(database_url, store_dir, work)
        for n in range(5):
            post(port, path, token, *multipart(payload(mb << 20, 7000 + 10 * mb + n)))
        peaks[mb] = peak_rss_kib(proc)
        proc.terminate()
        proc.wait()

    mb = 1 << 20
    print(f"store: {store_dir}")
    print(f"{'measure':<46}{'value':>14}")
    print(f"{'raw hashlib.sha256 (same bytes)':<46}{raw / mb:>10.0f} MB/s")
    print(f"{f'HTTP upload, {count} x {args.file_mb} MB = {total / mb:.0f} MB':<46}{http_rate / mb:>10.0f} MB/s")
    print(f"{'ratio HTTP / raw sha256':<46}{http_rate / raw:>13.0%}")
    print(f"{'server peak RSS after 5 x 1 MB uploads':<46}{peaks[1]:>10} KiB")
    print(f"{'server peak RSS after 5 x 20 MB uploads':<46}{peaks[20]:>10} KiB")
    print(f"{'ratio 20 MB / 1 MB peak RSS':<46}{peaks[20] / peaks[1]:>13.2f}")


if __name__ == "__main__":
    main()
