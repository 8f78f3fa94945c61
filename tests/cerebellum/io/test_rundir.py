"""Run directories are written atomically (oracle: the file system state after the block)."""

import json
import os

import numpy as np
import pytest

from cerebellum.io.rundir import atomic_run_directory, check_output_directory, write_json


def test_successful_run_appears_whole(tmp_path):
    target = tmp_path / "runs" / "a"
    with atomic_run_directory(target) as staging:
        write_json(staging / "results.json", {"x": np.float64(1.5), "nan": float("nan")})
        assert not target.exists()
    assert json.loads((target / "results.json").read_text()) == {"x": 1.5, "nan": None}
    assert [p.name for p in tmp_path.joinpath("runs").iterdir()] == ["a"]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failed_or_interrupted_run_leaves_nothing(tmp_path, error):
    target = tmp_path / "b"
    with pytest.raises(type(error)), atomic_run_directory(target) as staging:
        (staging / "params.json").write_text("{}")
        raise error
    assert list(tmp_path.iterdir()) == []


def test_existing_or_unwritable_target_is_refused(tmp_path):
    (tmp_path / "exists").mkdir()
    with pytest.raises(ValueError, match="already exists"):
        check_output_directory(tmp_path / "exists")
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permission bits
            pytest.skip("running as a user that can write anywhere")
        with pytest.raises(ValueError, match="not writable"):
            check_output_directory(locked / "run")
    finally:
        os.chmod(locked, 0o700)


def test_file_as_parent_is_not_writable(tmp_path):
    # Oracle: a regular file cannot hold a directory, even for root.
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="not writable"):
        check_output_directory(blocker / "run")


def test_signal_turned_into_an_exception_leaves_nothing(tmp_path):
    # Oracle: the file system after a real SIGTERM whose handler raises (what the CLI does).
    import signal

    class Stop(BaseException):
        pass

    def handler(signum, frame):
        raise Stop

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with pytest.raises(Stop), atomic_run_directory(tmp_path / "run") as staging:
            (staging / "params.json").write_text("{}")
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10**6):  # the handler runs at the next bytecode boundary
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert list(tmp_path.iterdir()) == []


def test_signals_are_held_back_while_the_staging_directory_is_made_or_removed():
    # Oracle: the handler's own record; a SIGTERM sent inside the deferred block is delivered
    # only when it ends.
    import signal

    from cerebellum.io.rundir import _signals_deferred

    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with _signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10**5):
                pass
            assert seen == []
        for _ in range(10**5):
            pass
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_signal_taken_by_another_thread_is_held_back_too():
    # Oracle: the handler's own record. The signal is sent to a second thread (which has not
    # blocked it, like the threads torch or Dask start), so a per-thread signal mask could not
    # hold it back; Python runs the handler in the main thread all the same.
    import signal
    import threading
    import time

    from cerebellum.io.rundir import _signals_deferred

    seen = []
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with _signals_deferred():
            signal.pthread_kill(other.ident, signal.SIGTERM)
            time.sleep(0.2)  # time for the other thread to take it and the main one to see it
            assert seen == []
        assert seen == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is not None  # the test's handler is back
    finally:
        signal.signal(signal.SIGTERM, previous)
        release.set()
        other.join()
