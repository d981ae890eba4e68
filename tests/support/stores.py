"""Stores (users, application keys) caught in the middle of a write."""

import threading


def while_a_write_hangs(monkeypatch, module, change, read):
    """Run ``change`` on a thread whose file write hangs until released, and return what ``read()``
    returns meanwhile (on a thread of its own, so a read that waits for the write fails the test
    after 10 s instead of hanging it)."""
    writing, release = threading.Event(), threading.Event()
    real_write = module.atomic_write

    def hanging_write(*args, **kwargs):
        writing.set()
        release.wait(30)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(module, "atomic_write", hanging_write)
    writer = threading.Thread(target=change, daemon=True)
    writer.start()
    try:
        assert writing.wait(10), "the change reached its write"
        result = []
        reader = threading.Thread(target=lambda: result.append(read()), daemon=True)
        reader.start()
        reader.join(10)
        assert result, "the reader waited for the write"
        return result[0]
    finally:
        release.set()
        writer.join(10)

