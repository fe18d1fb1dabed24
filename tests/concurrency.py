"""Real threads for races: each work runs in its own thread and app context (its own database
connection), all released at once by a barrier."""
import threading

from app.extensions import db


def race(app, works):
    """Run every callable of `works` in its own thread and app context, all released at once."""
    barrier, results = threading.Barrier(len(works)), [None] * len(works)

    def run(i, work):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                results[i] = exc
            finally:
                db.session.remove()
    threads = [threading.Thread(target=run, args=(i, work)) for i, work in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
