"""Tests of the Lava run helper: results, clean shut-down, model errors, deadlocks, checks.

Every test builds fresh Processes, because Lava 0.10 cannot run a graph again after its
runtime stopped or failed. The ramp graph ``RampSource(slope) -> Accumulator`` has an
analytic result: after ``N`` steps ``total = slope * N * (N + 1) / 2`` per element.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest
from lava.magma.compiler.exceptions import ProcessAlreadyCompiled
from lava.magma.core.run_configs import Loihi2SimCfg

from lava_biograd.lava.runner import (
    TERMINATE_GRACE_S,
    ActorFailure,
    LavaRunError,
    LavaRunTimeout,
    LavaSession,
    run_lava,
)
from lava_biograd.lava.testing.accumulator.process import Accumulator
from lava_biograd.lava.testing.failing_source.process import EXIT_CODE, FailingSource
from lava_biograd.lava.testing.ramp_source.process import RampSource
from lava_biograd.lava.testing.relay.process import RecvFirstRelay
from lava_biograd.lava.testing.stall.process import Stall

pytestmark = pytest.mark.timeout(60)

RUN_CFG = Loihi2SimCfg(select_tag="floating_pt")
MODELS_FILE = os.path.join("lava_biograd", "lava", "testing", "failing_source", "models.py")
# Seconds allowed on top of timeout_s for killing the OS processes and releasing memory.
CLEANUP_ALLOWANCE_S = TERMINATE_GRACE_S + 3.0
FAILURE_MESSAGE = "model failed on purpose 41"


def ramp_graph(size: int = 3, slope: float = 0.5):
    source = RampSource(size=size, slope=slope, name="ramp")
    accumulator = Accumulator(size=size, name="sum")
    source.s_out.connect(accumulator.a_in)
    return source, accumulator


def ramp_total(slope: float, steps: int) -> float:
    return slope * steps * (steps + 1) / 2


def existing_segments(names) -> list[str]:
    return [name for name in names if os.path.exists(os.path.join("/dev/shm", name))]


def live_pids(pids) -> list[int]:
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


def assert_cleaned_up(session: LavaSession) -> None:
    assert multiprocessing.active_children() == []
    assert live_pids(session.child_pids) == []
    assert existing_segments(session.shared_memory_names) == []


def assert_fresh_graph_runs() -> None:
    """A new graph in the same interpreter still runs and gives the analytic result."""
    source, accumulator = ramp_graph(size=2, slope=1.0)
    (total,) = run_lava(source, 4, RUN_CFG, timeout_s=30, read=[accumulator.total])
    np.testing.assert_array_equal(total, [10.0, 10.0])
    assert multiprocessing.active_children() == []


def failing_graph(mode: str, *, consumer: bool, fail_step: int = 2, message: str = FAILURE_MESSAGE):
    source = FailingSource(size=2, fail_step=fail_step, message=message, mode=mode, name="failing")
    if consumer:
        accumulator = Accumulator(size=2, name="consumer")
        source.s_out.connect(accumulator.a_in)
    return source


# --------------------------------------------------------------------------------------
# Success path
# --------------------------------------------------------------------------------------


def test_session_runs_reads_and_cleans_up():
    slope = 0.5
    source, accumulator = ramp_graph(size=3, slope=slope)
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        assert session.state == "ready"
        assert len(session.child_pids) >= 3
        assert len(session.shared_memory_names) > 0
        assert existing_segments(session.shared_memory_names) == list(session.shared_memory_names)

        session.run(4)
        total = session.get(accumulator.total)
        np.testing.assert_array_equal(total, np.full(3, ramp_total(slope, 4)))
        np.testing.assert_array_equal(session.get(accumulator.steps), [4])
        np.testing.assert_array_equal(session.get(source.last), np.full(3, slope * 4))

        session.run(3)
        total = session.get(accumulator.total)
        np.testing.assert_array_equal(total, np.full(3, ramp_total(slope, 7)))
        assert session.steps_run == 7

    assert session.state == "stopped"
    assert_cleaned_up(session)


def test_session_processes_alive_while_open():
    source, _ = ramp_graph()
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        assert sorted(live_pids(session.child_pids)) == sorted(session.child_pids)
        assert {child.pid for child in multiprocessing.active_children()} == set(session.child_pids)
    assert_cleaned_up(session)


def test_session_stops_runtime_once(monkeypatch):
    source, _ = ramp_graph()
    calls = []
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        runtime = source.runtime
        original_stop = runtime.stop

        def counting_stop():
            calls.append(time.monotonic())
            original_stop()

        monkeypatch.setattr(runtime, "stop", counting_stop)
        session.run(2)
    session.close()
    assert len(calls) == 1


def test_two_open_sessions():
    first_source, first_accumulator = ramp_graph(size=2, slope=1.0)
    second_source, second_accumulator = ramp_graph(size=2, slope=3.0)
    with LavaSession(first_source, RUN_CFG, timeout_s=30) as first:
        with LavaSession(second_source, RUN_CFG, timeout_s=30) as second:
            assert not first.child_pids & second.child_pids
            first.run(2)
            second.run(3)
            second_total = second.get(second_accumulator.total)
            np.testing.assert_array_equal(second_total, np.full(2, ramp_total(3.0, 3)))
        assert live_pids(second.child_pids) == []
        assert sorted(live_pids(first.child_pids)) == sorted(first.child_pids)
        first.run(1)
        first_total = first.get(first_accumulator.total)
        np.testing.assert_array_equal(first_total, np.full(2, ramp_total(1.0, 3)))
    assert_cleaned_up(first)


def test_session_set_changes_state():
    slope = 2.0
    source, accumulator = ramp_graph(size=2, slope=slope)
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        session.run(1)
        session.set(accumulator.total, [100.0, -100.0])
        session.run(1)
        # Step 2 adds slope * 2 to the written value.
        np.testing.assert_array_equal(session.get(accumulator.total), [104.0, -96.0])


def test_session_get_set_before_first_run():
    slope = 0.5
    source, accumulator = ramp_graph(size=3, slope=slope)
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        np.testing.assert_array_equal(session.get(accumulator.total), np.zeros(3))
        session.set(accumulator.total, [1.0, 2.0, 3.0])
        session.run(2)
        expected = np.array([1.0, 2.0, 3.0]) + ramp_total(slope, 2)
        np.testing.assert_array_equal(session.get(accumulator.total), expected)
    assert_cleaned_up(session)


def test_run_lava_returns_tuple():
    slope = 1.5
    source, accumulator = ramp_graph(size=2, slope=slope)
    read = [accumulator.total, accumulator.steps]
    total, steps = run_lava(source, 6, RUN_CFG, timeout_s=30, read=read)
    np.testing.assert_array_equal(total, np.full(2, ramp_total(slope, 6)))
    np.testing.assert_array_equal(steps, [6])
    assert multiprocessing.active_children() == []


def test_run_lava_returns_dict():
    source, accumulator = ramp_graph(size=1, slope=1.0)
    read = {"last": source.last, "total": accumulator.total}
    values = run_lava(source, 3, RUN_CFG, timeout_s=30, read=read)
    assert set(values) == {"last", "total"}
    np.testing.assert_array_equal(values["last"], [3.0])
    np.testing.assert_array_equal(values["total"], [6.0])


def test_run_lava_without_reads():
    source, _ = ramp_graph()
    assert run_lava(source, 2, RUN_CFG, timeout_s=30) == ()
    assert multiprocessing.active_children() == []


# --------------------------------------------------------------------------------------
# Exceptions inside ProcessModels
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("consumer", [False, True], ids=["alone", "with_consumer"])
def test_model_error_keeps_traceback(consumer):
    message = FAILURE_MESSAGE
    source = failing_graph("raise", consumer=consumer, message=message)
    session = LavaSession(source, RUN_CFG, timeout_s=20)
    started = time.monotonic()
    with pytest.raises(LavaRunError) as caught:
        with session:
            session.run(5)
    elapsed = time.monotonic() - started

    error = caught.value
    assert not isinstance(error, LavaRunTimeout)
    assert elapsed < 10.0
    assert len(error.failures) == 1
    failure = error.failures[0]
    assert failure.process_name == "failing"
    assert failure.process_class == "FailingSource"
    assert failure.model_class == "PyFailingSourceModel"
    assert failure.exception_type == "ValueError"
    assert failure.message == message
    assert MODELS_FILE in failure.traceback
    assert "in run_spk" in failure.traceback
    assert "raise ValueError(self.message)" in failure.traceback
    assert f"ValueError: {message}" in str(error)
    assert MODELS_FILE in str(error)
    assert session.state == "failed"
    assert_cleaned_up(session)
    assert_fresh_graph_runs()


def test_model_error_in_second_run(monkeypatch):
    source = failing_graph("raise", consumer=True, fail_step=3)
    stop_calls = []
    session = LavaSession(source, RUN_CFG, timeout_s=20)
    with pytest.raises(LavaRunError, match=FAILURE_MESSAGE):
        with session:
            monkeypatch.setattr(source.runtime, "stop", lambda: stop_calls.append(1))
            session.run(2)
            np.testing.assert_array_equal(session.get(source.steps), [2])
            session.run(2)
    assert session.steps_run == 2
    assert stop_calls == []
    with pytest.raises(RuntimeError, match="failed earlier"):
        session.get(source.steps)
    with pytest.raises(RuntimeError, match="failed earlier"):
        session.run(1)
    session.close()
    assert_cleaned_up(session)
    assert_fresh_graph_runs()


def test_model_error_unpicklable_exception():
    source = failing_graph("raise_unpicklable", consumer=True)
    with pytest.raises(LavaRunError) as caught:
        run_lava(source, 5, RUN_CFG, timeout_s=20)
    failure = caught.value.failures[0]
    assert failure.exception_type.endswith("UnpicklableError")
    assert failure.message.startswith(f"{FAILURE_MESSAGE} (time step 2)")
    assert "could not be unpickled" in failure.message
    assert MODELS_FILE in failure.traceback
    assert "raise UnpicklableError(self.message, self.time_step)" in failure.traceback
    assert multiprocessing.active_children() == []
    assert_fresh_graph_runs()


def test_model_crash_reports_exit_code():
    source = failing_graph("exit", consumer=True)
    with pytest.raises(LavaRunError) as caught:
        run_lava(source, 5, RUN_CFG, timeout_s=20)
    error = caught.value
    assert not isinstance(error, LavaRunTimeout)
    failure = error.failures[0]
    assert failure.model_class == "PyFailingSourceModel"
    assert failure.exitcode == EXIT_CODE
    assert failure.exception_type is None
    assert f"exited with code {EXIT_CODE}" in str(error)
    assert multiprocessing.active_children() == []
    assert_fresh_graph_runs()


def test_model_constructor_error_on_start():
    source = failing_graph("raise_in_init", consumer=True)
    session = LavaSession(source, RUN_CFG, timeout_s=20)
    with pytest.raises(LavaRunError, match="runtime start failed") as caught:
        with session:
            pytest.fail("the session must not start")
    failure = caught.value.failures[0]
    assert failure.exception_type == "ValueError"
    assert "in __init__" in failure.traceback
    assert MODELS_FILE in failure.traceback
    assert session.state == "failed"
    assert_cleaned_up(session)
    assert_fresh_graph_runs()


# --------------------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------------------


def test_deadlocked_ring_times_out():
    first = RecvFirstRelay(name="first")
    second = RecvFirstRelay(name="second")
    first.s_out.connect(second.a_in)
    second.s_out.connect(first.a_in)
    timeout_s = 1.5
    session = LavaSession(first, RUN_CFG, timeout_s=timeout_s)
    started = time.monotonic()
    with pytest.raises(LavaRunTimeout, match="did not finish within 1.5 s"):
        with session:
            session.run(3)
    elapsed = time.monotonic() - started
    assert elapsed >= timeout_s
    assert elapsed < timeout_s + CLEANUP_ALLOWANCE_S
    assert session.state == "failed"
    assert_cleaned_up(session)
    assert_fresh_graph_runs()


def test_stall_ignoring_sigterm_is_killed():
    timeout_s = 1.0
    session = LavaSession(Stall(ignore_sigterm=True, name="stall"), RUN_CFG, timeout_s=timeout_s)
    started = time.monotonic()
    with pytest.raises(LavaRunTimeout):
        with session:
            session.run(1)
    elapsed = time.monotonic() - started
    # SIGKILL follows SIGTERM after TERMINATE_GRACE_S.
    assert elapsed >= timeout_s + TERMINATE_GRACE_S
    assert elapsed < timeout_s + CLEANUP_ALLOWANCE_S + TERMINATE_GRACE_S
    assert_cleaned_up(session)
    assert_fresh_graph_runs()


def test_start_timeout_leaves_nothing():
    source, _ = ramp_graph()
    session = LavaSession(source, RUN_CFG, timeout_s=1e-4)
    with pytest.raises(LavaRunTimeout, match="did not finish within"):
        session.start()
    assert session.state == "failed"
    assert_cleaned_up(session)
    assert_fresh_graph_runs()


def test_runtime_start_timeout():
    timeout_s = 1.0
    session = LavaSession(Stall(stall_in_init=True, name="stall"), RUN_CFG, timeout_s=timeout_s)
    started = time.monotonic()
    with pytest.raises(LavaRunTimeout, match="runtime start did not finish within 1 s"):
        session.start()
    elapsed = time.monotonic() - started
    # The abort waits up to TERMINATE_GRACE_S for the blocked start thread.
    assert elapsed >= timeout_s
    assert elapsed < timeout_s + CLEANUP_ALLOWANCE_S + TERMINATE_GRACE_S
    assert session.state == "failed"
    assert_cleaned_up(session)
    assert_fresh_graph_runs()


# --------------------------------------------------------------------------------------
# Lifecycle and argument checks
# --------------------------------------------------------------------------------------


def test_session_rejects_use_after_close():
    source, accumulator = ramp_graph()
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        session.run(1)
    session.close()
    assert session.state == "stopped"
    with pytest.raises(RuntimeError, match="'stopped'"):
        session.run(1)
    with pytest.raises(RuntimeError, match="'stopped'"):
        session.get(accumulator.total)


def test_session_rejects_process_with_runtime():
    source, _ = ramp_graph()
    run_lava(source, 1, RUN_CFG, timeout_s=30)
    with pytest.raises(ValueError, match="already has a Lava runtime"):
        LavaSession(source, RUN_CFG, timeout_s=30)


def test_session_rejects_used_graph():
    used_source, _ = ramp_graph(size=3)
    run_lava(used_source, 1, RUN_CFG, timeout_s=30)
    fresh_accumulator = Accumulator(size=3, name="fresh")
    used_source.s_out.connect(fresh_accumulator.a_in)
    session = LavaSession(fresh_accumulator, RUN_CFG, timeout_s=30)
    # Lava's compiler rejects the used Process; its error propagates unchanged.
    with pytest.raises(ProcessAlreadyCompiled):
        session.start()
    assert session.state == "failed"
    assert multiprocessing.active_children() == []


def test_session_close_before_start():
    source, _ = ramp_graph()
    session = LavaSession(source, RUN_CFG, timeout_s=30)
    session.close()
    assert session.state == "stopped"
    assert source.runtime is None


def test_session_rejects_foreign_var():
    source, _ = ramp_graph()
    other_source, other_accumulator = ramp_graph()
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        with pytest.raises(ValueError, match="does not belong"):
            session.get(other_accumulator.total)
        with pytest.raises(TypeError, match="must be a Lava Var"):
            session.get(np.zeros(3))
        session.run(1)
    assert session.state == "stopped"


@pytest.mark.parametrize(
    "value, error",
    [(np.zeros(2), ValueError), (np.zeros((3, 1)), ValueError), (["a", "b", "c"], TypeError)],
    ids=["short", "wrong_ndim", "strings"],
)
def test_session_set_rejects_bad_value(value, error):
    source, accumulator = ramp_graph(size=3)
    with LavaSession(source, RUN_CFG, timeout_s=30) as session:
        with pytest.raises(error):
            session.set(accumulator.total, value)
        session.run(1)
        np.testing.assert_array_equal(session.get(accumulator.total), np.full(3, 0.5))


@pytest.mark.parametrize(
    "num_steps, error",
    [(0, ValueError), (-3, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)],
    ids=["zero", "negative", "float", "bool", "str"],
)
def test_run_rejects_bad_num_steps(num_steps, error):
    source, _ = ramp_graph()
    with pytest.raises(error, match="num_steps"):
        run_lava(source, num_steps, RUN_CFG, timeout_s=30)
    assert source.runtime is None
    session = LavaSession(source, RUN_CFG, timeout_s=30)
    with pytest.raises(error, match="num_steps"):
        session.run(num_steps)
    assert session.state == "created"


@pytest.mark.parametrize(
    "timeout_s, error",
    [
        (0, ValueError),
        (-1.0, ValueError),
        (math.inf, ValueError),
        (math.nan, ValueError),
        (None, TypeError),
        ("5", TypeError),
    ],
    ids=["zero", "negative", "inf", "nan", "none", "str"],
)
def test_session_rejects_bad_timeout(timeout_s, error):
    source, _ = ramp_graph()
    with pytest.raises(error, match="timeout_s"):
        LavaSession(source, RUN_CFG, timeout_s=timeout_s)


@pytest.mark.parametrize(
    "run_cfg", [None, "floating_pt", {"select_tag": "floating_pt"}], ids=["none", "str", "dict"]
)
def test_session_rejects_bad_run_cfg(run_cfg):
    source, _ = ramp_graph()
    with pytest.raises(TypeError, match="run_cfg"):
        LavaSession(source, run_cfg, timeout_s=30)


def test_session_rejects_bad_process_and_config():
    source, _ = ramp_graph()
    with pytest.raises(TypeError, match="process must be a Lava AbstractProcess"):
        LavaSession("ramp", RUN_CFG, timeout_s=30)
    with pytest.raises(TypeError, match="compile_config"):
        LavaSession(source, RUN_CFG, timeout_s=30, compile_config=[("use_watchdog", False)])


def test_run_lava_rejects_bad_read():
    source, accumulator = ramp_graph()
    with pytest.raises(TypeError, match="must be a Lava Var"):
        run_lava(source, 1, RUN_CFG, timeout_s=30, read=[accumulator.total, "steps"])
    with pytest.raises(TypeError, match="read must be"):
        run_lava(source, 1, RUN_CFG, timeout_s=30, read="total")
    assert source.runtime is None


# --------------------------------------------------------------------------------------
# Error objects and import
# --------------------------------------------------------------------------------------


def test_error_pickle_roundtrip():
    failure = ActorFailure(
        actor="ProcessModel M of Process 'p' (P)",
        process_name="p",
        process_class="P",
        model_class="M",
        pid=123,
        exitcode=1,
        exception_type="ValueError",
        message="bad",
        traceback="Traceback (most recent call last):\nValueError: bad\n",
    )
    error = LavaRunTimeout("summary text", [failure])
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is LavaRunTimeout
    assert restored.summary == "summary text"
    assert restored.failures == (failure,)
    assert str(restored) == str(error)
    assert "ValueError: bad" in str(error)


def test_runner_import_is_light():
    code = (
        "import sys, multiprocessing\n"
        "import lava_biograd.lava.runner\n"
        "lava = [name for name in sys.modules if name == 'lava' or name.startswith('lava.')]\n"
        "print(sorted(lava))\n"
        "print(multiprocessing.get_start_method(allow_none=True))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    lava_modules, start_method = result.stdout.strip().splitlines()
    assert lava_modules == "[]"
    assert start_method == "None"
