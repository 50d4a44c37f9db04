"""Run Lava graphs with a timeout, clean shut-down and readable model errors.

Every Lava run in ``lava_biograd`` goes through :class:`LavaSession` (several runs on one
compiled graph, with Var reads and writes between them) or :func:`run_lava` (one run,
then read some Vars)::

    with LavaSession(source, Loihi2SimCfg(select_tag="floating_pt"), timeout_s=30) as session:
        session.run(50)
        counts = session.get(counter.counts)
        session.run(50)

Guarantees
----------
* Each blocking call into Lava (compilation plus runtime start, every ``run``, every Var
  ``get``/``set`` and the final ``stop``) returns or raises within ``timeout_s`` seconds,
  plus the clean-up after a failure. Clean-up usually takes well under a second. It
  takes up to ``TERMINATE_GRACE_S`` longer when an OS process ignores ``SIGTERM`` or the
  runtime start hung, and up to ``ERROR_REPORT_GRACE_S`` longer when Lava reports an
  error that no OS process explains.
* After a successful :meth:`LavaSession.close` the runtime has been stopped exactly once,
  none of the session's Lava OS processes is alive, and the POSIX shared-memory segments
  of its channels are unlinked.
* An exception raised inside a ProcessModel becomes :class:`LavaRunError` in the caller.
  Its message and :attr:`LavaRunError.failures` contain the traceback formatted in the
  model's OS process: exception type, message and the frames of the model code. This
  also holds when the failing Process has a downstream consumer, where Lava's own
  ``run()`` never returns.
* After a failure or a timeout, the session kills its own Lava OS processes (``SIGTERM``,
  then ``SIGKILL`` after ``TERMINATE_GRACE_S``), including their descendants, releases
  the shared memory and raises. It never calls ``stop()`` on a failed runtime. The
  interpreter can then build and run a new graph.

Lava 0.10.0 behaviour worked around
-----------------------------------
* ``Process.stop()`` after a failed ``run()`` blocks forever, and so do
  ``AbstractProcess.__del__`` and ``Runtime.__del__``, which call it. After a failure the
  session marks the runtime as neither initialised nor started, so later ``stop()`` or
  ``run()`` calls on those Process objects return without touching the dead channels.
* An exception in a ProcessModel whose output feeds another Process deadlocks ``run()``,
  and a model exception otherwise surfaces only as
  ``RuntimeError: 1 Exception(s) occurred. See output above``. Lava's ``SystemProcess``
  (the ``multiprocessing.Process`` subclass behind every model and runtime service)
  sends ``(exception, formatted traceback)`` to the parent through a pipe when its
  target raises. The session starts every run with ``RunSteps(blocking=False)`` and, while
  it waits for the runtime service's reply, polls those pipes and the exit codes of the
  Lava OS processes. This needs no ``LogConfig`` and no logging handler.
* Before the first run, ``stop()`` skips the STOP command and then waits forever for the
  idle model processes to exit, and ``Var.get``/``Var.set`` raise "Runtime has not
  started". The session marks the runtime as started before those calls.
* Running a graph again after ``stop()`` crashes the interpreter (exit 139), so a session
  cannot be restarted and refuses a Process that already has a runtime. For the other
  Processes of such a graph, Lava's compiler raises ``ProcessAlreadyCompiled``.
* Lava's OS processes are non-daemon children of the caller, so a leftover one keeps the
  interpreter (and pytest) from exiting.

This relies on internals of lava-nc 0.10.0: ``Runtime._messaging_infrastructure``
(``actors`` and ``smm``), ``Runtime.service_to_runtime`` and its ``CspRecvPort``
queue, ``Runtime._executable``, ``SystemProcess._pconn`` and the private state flags of
``Runtime``. A different lava-nc version triggers a ``RuntimeWarning``.

Importing this module imports no Lava module. Lava itself calls
``multiprocessing.set_start_method("fork")`` when its runtime modules are first imported
(lava-nc 0.10.0, POSIX), which raises ``RuntimeError: context has already been set`` if
the start method was set or queried before. Import Lava (for example the Processes of the
graph) before libraries that touch the start method. Compilation and the runtime start
run in a worker thread, so Lava forks its OS processes from that thread.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import multiprocessing
import os
import pickle
import pickletools
import queue
import signal
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from lava_biograd.validation import check_float, check_int

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "SUPPORTED_LAVA_VERSION",
    "TERMINATE_GRACE_S",
    "ActorFailure",
    "LavaRunError",
    "LavaRunTimeout",
    "LavaSession",
    "run_lava",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 120.0
"""Default limit in seconds for each blocking call into Lava."""

SUPPORTED_LAVA_VERSION = "0.10.0"
"""lava-nc version whose runtime internals this module was written against."""

TERMINATE_GRACE_S = 2.0
"""Seconds a Lava OS process gets between ``SIGTERM`` and ``SIGKILL``."""

ERROR_REPORT_GRACE_S = 2.0
"""Seconds to wait for a failing model's exception after Lava reports an error."""

WAIT_SLICE_S = 0.05
"""Maximum wait in seconds for a runtime reply between two checks of the Lava OS processes."""


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorFailure:
    """Failure of one Lava OS process: a ProcessModel or a runtime service.

    Attributes
    ----------
    actor : str
        Readable description, e.g. ``"ProcessModel PyFooModel of Process 'foo' (Foo)"``.
    process_name, process_class, model_class : str or None
        Name and class of the Lava Process and class of its ProcessModel; ``None`` for
        runtime services. ``model_class`` contains the runtime-service class for those.
    pid : int or None
        OS process id.
    exitcode : int or None
        Exit status when the OS process had ended (negative: killed by that signal).
    exception_type : str or None
        Exception class name (module-qualified unless built in), or ``None`` when the
        OS process ended without reporting an exception.
    message : str
        Exception message, or a description of the exit.
    traceback : str
        Traceback text formatted in the failing OS process ("" when none was reported).
    """

    actor: str
    process_name: str | None
    process_class: str | None
    model_class: str | None
    pid: int | None
    exitcode: int | None
    exception_type: str | None
    message: str
    traceback: str

    def summary(self) -> str:
        """Return a one-line description: actor, exception type and message."""
        if self.exception_type is None:
            return f"{self.actor}: {self.message}"
        return f"{self.actor} raised {self.exception_type}: {self.message}"

    def format(self) -> str:
        """Return the summary line followed by the traceback text."""
        header = f"--- {self.summary()} (OS process {self.pid}) ---"
        if not self.traceback:
            return header
        return f"{header}\n{self.traceback.rstrip()}"


class LavaRunError(RuntimeError):
    """A Lava graph failed: a ProcessModel raised, crashed, or the runtime broke.

    ``str(error)`` contains the summary and every reported traceback.

    Attributes
    ----------
    summary : str
        What failed and what the session did about it.
    failures : tuple of ActorFailure
        Failures reported by the Lava OS processes, in graph order (may be empty).
    """

    def __init__(self, summary: str, failures: Sequence[ActorFailure] = ()) -> None:
        self.summary = summary
        self.failures = tuple(failures)
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = [self.summary]
        parts.extend(failure.format() for failure in self.failures)
        return "\n".join(parts)

    def __reduce__(self):
        return (type(self), (self.summary, self.failures))


class LavaRunTimeout(LavaRunError):
    """A blocking call into Lava did not finish within the session's ``timeout_s``."""


# --------------------------------------------------------------------------------------
# Session
# --------------------------------------------------------------------------------------


class LavaSession:
    """Compile a Lava graph once, run it any number of times, and always end stopped.

    Parameters
    ----------
    process : lava.magma.core.process.process.AbstractProcess
        Any Process of the graph; Lava compiles every Process connected to it. No
        Process of the graph may have a runtime already.
    run_cfg : lava.magma.core.run_configs.RunConfig
        Run configuration, e.g. ``Loihi2SimCfg(select_tag="floating_pt")``.
    timeout_s : float
        Limit in seconds for each blocking call into Lava: compilation plus runtime
        start, each :meth:`run`, each :meth:`get`/:meth:`set`, and the ``stop`` in
        :meth:`close`. A call that exceeds it raises :class:`LavaRunTimeout`.
    compile_config : dict, optional
        Passed to Lava's compiler unchanged.

    Notes
    -----
    States: ``"created"`` (nothing started), ``"ready"`` (runtime started, idle),
    ``"stopped"`` (closed normally) and ``"failed"`` (a call failed and the session
    killed its Lava OS processes). Only :meth:`close` is allowed after ``"failed"``.

    Use a session from one thread. Two open sessions in one interpreter work. A session
    identifies its OS processes as the ``multiprocessing`` children that appeared while it
    started, so a session that fails while another one starts may also kill the other
    session's new OS processes.
    """

    def __init__(
        self,
        process,
        run_cfg,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        compile_config: dict | None = None,
    ) -> None:
        from lava.magma.core.process.process import AbstractProcess
        from lava.magma.core.run_configs import RunConfig

        _warn_if_unsupported_lava()
        if not isinstance(process, AbstractProcess):
            raise TypeError(
                f"process must be a Lava AbstractProcess, got {type(process).__name__}; "
                "pass any Process of the graph to run"
            )
        if not isinstance(run_cfg, RunConfig):
            raise TypeError(
                f"run_cfg must be a Lava RunConfig such as Loihi2SimCfg(), got {run_cfg!r}"
            )
        if compile_config is not None and not isinstance(compile_config, dict):
            raise TypeError(f"compile_config must be a dict or None, got {compile_config!r}")
        if process.runtime is not None:
            raise ValueError(
                f"Process {process.name!r} already has a Lava runtime; Lava 0.10 cannot "
                "start a graph twice, so build new Process objects for a new session"
            )
        self._process = process
        self._run_cfg = run_cfg
        self._compile_config = compile_config
        self._timeout_s = _check_timeout(timeout_s)
        self._state = "created"
        self._failure_summary: str | None = None
        self._runtime = None
        self._steps_run = 0
        self._children_before: frozenset[int] = frozenset()
        self._own_pids: frozenset[int] | None = None
        self._shm_names: tuple[str, ...] = ()
        # Reports read from the SystemProcess pipes, by actor index. Reading a pipe
        # consumes the message, so each one is kept here.
        self._reports: dict[int, _Report] = {}

    # -- properties --------------------------------------------------------------------

    @property
    def state(self) -> str:
        """Session state: ``"created"``, ``"ready"``, ``"stopped"`` or ``"failed"``."""
        return self._state

    @property
    def timeout_s(self) -> float:
        """Limit in seconds for each blocking call into Lava."""
        return self._timeout_s

    @property
    def steps_run(self) -> int:
        """Number of time steps completed by successful :meth:`run` calls."""
        return self._steps_run

    @property
    def child_pids(self) -> frozenset[int]:
        """Ids of the OS processes Lava started for this session (empty before start)."""
        return self._own_pids or frozenset()

    @property
    def shared_memory_names(self) -> tuple[str, ...]:
        """Names of the POSIX shared-memory segments of this graph's channels.

        On Linux each one appears as ``/dev/shm/<name>`` while the runtime exists.
        """
        return self._shm_names

    # -- context manager -----------------------------------------------------------------

    def __enter__(self) -> LavaSession:
        self.start()
        return self

    def __exit__(self, exc_type, exc_value, exc_tb) -> bool:
        if exc_type is None:
            self.close()
            return False
        # Keep the caller's exception: a failure while closing is only logged.
        try:
            self.close()
        except Exception:
            logger.exception("closing the Lava session failed while handling %s", exc_type.__name__)
        return False

    # -- public operations ---------------------------------------------------------------

    def start(self) -> None:
        """Compile the graph and start its runtime (Lava forks one OS process per model).

        Called by ``__enter__`` and by the first :meth:`run`. Errors of the compiler
        (for example no ProcessModel for a Process) propagate unchanged.

        Raises
        ------
        LavaRunError
            A ProcessModel constructor or a runtime service failed while starting.
        LavaRunTimeout
            Compilation plus runtime start took longer than ``timeout_s``.
        """
        if self._state == "ready":
            return
        self._require_state("created", "start")
        self._children_before = _active_child_pids()
        # The lock makes "cancelled" and "runtime start begun" mutually exclusive, so a
        # start thread that outlives its timeout never begins forking afterwards.
        stage_lock = threading.Lock()
        stage = {"name": "compilation", "cancelled": False}

        def build() -> None:
            executable = self._process.compile(self._run_cfg, self._compile_config)
            with stage_lock:
                if stage["cancelled"]:
                    return
                stage["name"] = "runtime start"
            self._process.create_runtime(executable=executable)

        def cancel() -> str:
            with stage_lock:
                stage["cancelled"] = True
                return stage["name"]

        thread, outcome = _start_thread(build, "lava-runner-start")
        try:
            finished, _ = _wait_for_thread(thread, outcome, self._timeout_s)
        except BaseException as error:
            if cancel() == "compilation":
                # The compiler forks nothing, so there is nothing to clean up.
                self._state = "failed"
                self._failure_summary = f"compilation failed: {error!r}"
                raise
            try:
                self._fail_on_error(error, "Lava runtime start failed")
            finally:
                self._abort_after_start_thread(thread)
        if not finished:
            reached = cancel()
            try:
                self._fail_on_timeout(f"Lava {reached} did not finish within {self._timeout_s:g} s")
            finally:
                self._abort_after_start_thread(thread)
        self._runtime = self._process.runtime
        self._own_pids = _active_child_pids() - self._children_before
        self._shm_names = _segment_names(self._runtime)
        self._state = "ready"
        logger.debug(
            "Lava runtime started: %d OS processes, %d shared-memory segments",
            len(self._own_pids),
            len(self._shm_names),
        )

    def run(self, num_steps: int) -> None:
        """Run ``num_steps`` time steps and block until they are done.

        State carries over between calls: a second ``run(n)`` continues at time step
        ``steps_run + 1``.

        Raises
        ------
        LavaRunError
            A ProcessModel raised or its OS process ended. The message contains the
            traceback formatted in that OS process.
        LavaRunTimeout
            The steps did not finish within ``timeout_s`` (for example a deadlocked
            graph).
        """
        num_steps = check_int("num_steps", num_steps, minimum=1)
        if self._state == "created":
            self.start()
        self._require_state("ready", "run")
        from lava.magma.core.run_conditions import RunSteps

        runtime = self._runtime
        deadline = time.monotonic() + self._timeout_s
        try:
            runtime.start(RunSteps(num_steps=num_steps, blocking=False))
            self._wait_for_run(num_steps, deadline)
        except BaseException as error:
            self._fail_on_error(error, f"waiting for run({num_steps}) failed")
        self._steps_run += num_steps

    def get(self, var) -> Any:
        """Return the current value of a Var of the graph, read from the running models.

        Lava 0.10 moves one element per message (tens of microseconds each), so reading
        a large Var takes long, and ``timeout_s`` must cover that.

        Parameters
        ----------
        var : lava.magma.core.process.variable.Var
            A Var of a Process in this session's graph (an aliased Var is resolved).

        Returns
        -------
        numpy.ndarray
            Array of the Var's shape (Lava returns a ``str`` or a sparse matrix for
            Vars initialised with one).
        """
        target = self._graph_var(var, "get")
        return self._call_runtime(target.get, f"get of Var {_var_label(target)}")

    def set(self, var, value) -> None:
        """Write ``value`` into a Var of the graph.

        Parameters
        ----------
        var : lava.magma.core.process.variable.Var
            A Var of a Process in this session's graph.
        value : array_like of numbers
            New value with exactly the Var's shape; Lava casts it to the model's dtype.
        """
        target = self._graph_var(var, "set")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"value for Var {_var_label(target)} must be numeric, got dtype {array.dtype}"
            )
        expected_shape = tuple(target.shape)
        if array.shape != expected_shape:
            # Lava sends as many elements as the array contains, so a wrong size would
            # desynchronise the runtime protocol and hang.
            raise ValueError(
                f"value for Var {_var_label(target)} must have shape {expected_shape}, "
                f"got {array.shape}"
            )
        self._call_runtime(lambda: target.set(array), f"set of Var {_var_label(target)}")

    def close(self) -> None:
        """Stop the runtime once if it is healthy, and do nothing in any other state.

        After a failure the session has already killed its OS processes, so ``close``
        never calls Lava's ``stop()`` on a failed runtime. Calling ``close`` again is a
        no-op.

        Raises
        ------
        LavaRunError, LavaRunTimeout
            ``stop()`` raised or did not return within ``timeout_s``; the session then
            kills its OS processes before raising.
        """
        if self._state == "created":
            self._state = "stopped"
            return
        if self._state != "ready":
            return
        self._allow_commands_before_first_run()
        try:
            finished, _ = _call_with_timeout(
                self._runtime.stop, self._timeout_s, "lava-runner-stop"
            )
        except BaseException as error:
            self._fail_on_error(error, "Lava runtime stop failed")
        if not finished:
            self._fail_on_timeout(f"Lava runtime stop did not finish within {self._timeout_s:g} s")
        self._state = "stopped"
        self._sweep_children()
        _unlink_segments(self._shm_names)
        logger.debug("Lava runtime stopped after %d steps", self._steps_run)

    # -- waiting for a run -----------------------------------------------------------------

    def _wait_for_run(self, num_steps: int, deadline: float) -> None:
        from lava.magma.runtime.mgmt_token_enums import MGMT_RESPONSE, enum_equal

        runtime = self._runtime
        ports = list(runtime.service_to_runtime)
        while True:
            failures = self._collect_failures()
            if failures:
                self._fail(f"run({num_steps}) failed", failures)
            replies = [port.peek() if port.probe() else None for port in ports]
            received = [reply for reply in replies if reply is not None]
            if any(enum_equal(reply, MGMT_RESPONSE.ERROR) for reply in received):
                failures = self._collect_failures(wait_s=ERROR_REPORT_GRACE_S)
                self._fail(
                    f"run({num_steps}) failed: the Lava runtime service reported an error",
                    failures,
                )
            unusual = [reply for reply in received if not enum_equal(reply, MGMT_RESPONSE.DONE)]
            if unusual:
                # A ProcessModel requested pause or stop, which Lava's wait() handles.
                # NOTE: no test covers this path; none of the test Processes requests it.
                self._finish_wait(deadline)
                return
            if len(received) == len(ports):
                # Every runtime service replied DONE, so wait() only consumes the replies.
                runtime.wait()
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                failures = self._collect_failures()
                if failures:
                    self._fail(f"run({num_steps}) failed", failures)
                self._fail_on_timeout(
                    f"run({num_steps}) did not finish within {self._timeout_s:g} s after "
                    f"{self._steps_run} completed steps; the graph is probably deadlocked "
                    "(a ProcessModel blocked on a port or in its own code)"
                )
            pending = replies.index(None)
            try:
                ports[pending]._queue.get(timeout=min(WAIT_SLICE_S, remaining), peek=True)
            except queue.Empty:
                pass

    def _finish_wait(self, deadline: float) -> None:
        runtime = self._runtime
        remaining = max(deadline - time.monotonic(), 0.0)
        finished, _ = _call_with_timeout(runtime.wait, remaining, "lava-runner-wait")
        if not finished:
            self._fail_on_timeout(f"Lava runtime wait did not finish within {self._timeout_s:g} s")
        if not runtime._is_started:
            # A ProcessModel requested stop and Lava's wait() stopped the runtime.
            self._state = "stopped"
            self._sweep_children()
            _unlink_segments(self._shm_names)
            logger.info("a ProcessModel requested stop; the Lava runtime is stopped")

    # -- runtime calls ---------------------------------------------------------------------

    def _allow_commands_before_first_run(self) -> None:
        """Mark the runtime as started so that Lava sends it commands before any run.

        Lava 0.10 sets ``Runtime._is_started`` only in the first ``run``. Before that,
        ``get``/``set`` raise "Runtime has not started" and ``stop()`` skips the STOP
        command and then waits forever for the model processes to exit. The runtime
        services already wait for commands in the host phase, as between two runs.
        """
        self._runtime._is_started = True

    def _call_runtime(self, function: Callable[[], Any], description: str):
        self._allow_commands_before_first_run()
        try:
            finished, value = _call_with_timeout(function, self._timeout_s, "lava-runner-call")
        except BaseException as error:
            self._fail_on_error(error, f"{description} failed")
        if not finished:
            self._fail_on_timeout(f"{description} did not finish within {self._timeout_s:g} s")
        return value

    def _graph_var(self, var, operation: str):
        from lava.magma.core.process.variable import Var

        if not isinstance(var, Var):
            raise TypeError(f"var must be a Lava Var, got {type(var).__name__}")
        self._require_state("ready", operation)
        target = var
        while target.aliased_var is not None:
            target = target.aliased_var
        if target.process is None or target.process.runtime is not self._runtime:
            raise ValueError(
                f"Var {_var_label(target)} does not belong to a Process of this session's graph"
            )
        var_models = self._runtime._executable.node_configs[0].var_models
        if target.id not in var_models:
            # Lava's own get_var/set_var would stop the runtime before raising here.
            raise ValueError(
                f"Var {_var_label(target)} is not part of the compiled ProcessModels, so "
                "its value cannot be read or written"
            )
        return target

    def _require_state(self, expected: str, operation: str) -> None:
        if self._state == expected:
            return
        if self._state == "failed":
            raise RuntimeError(
                f"cannot {operation}: this LavaSession failed earlier ({self._failure_summary}); "
                "build new Process objects and a new session"
            )
        raise RuntimeError(
            f"cannot {operation}: the LavaSession is {self._state!r}, expected {expected!r}"
        )

    # -- failure handling ------------------------------------------------------------------

    def _collect_failures(self, wait_s: float = 0.0) -> list[ActorFailure]:
        """Return failures reported so far, waiting up to ``wait_s`` for a first one."""
        runtime = self._runtime if self._runtime is not None else self._process.runtime
        if runtime is None or getattr(runtime, "_messaging_infrastructure", None) is None:
            return []
        deadline = time.monotonic() + wait_s
        while True:
            actors = list(runtime._messaging_infrastructure.actors)
            failed = [
                (index, actor)
                for index, actor in enumerate(actors)
                if self._has_failed(index, actor)
            ]
            if failed:
                labels = _actor_labels(runtime)
                return [
                    self._actor_failure(index, actor, _label_at(labels, index))
                    for index, actor in failed
                ]
            if time.monotonic() >= deadline:
                return []
            time.sleep(0.01)

    def _has_failed(self, index: int, actor) -> bool:
        """Return whether an actor reported an exception or exited with a non-zero code."""
        if index not in self._reports:
            report = _read_report(actor)
            if report is not None:
                self._reports[index] = report
        return index in self._reports or _exitcode(actor) not in (None, 0)

    def _actor_failure(self, index: int, actor, label: _ActorLabel) -> ActorFailure:
        report = self._reports.get(index)
        exitcode = _exitcode(actor)
        if report is None:
            exception_type, message, trace = (
                None,
                f"OS process exited with code {exitcode} without reporting an exception "
                "(a crash or a signal; anything it printed went to standard error)",
                "",
            )
        else:
            exception_type, message, trace = report.exception_type, report.message, report.traceback
        return ActorFailure(
            actor=label.description,
            process_name=label.process_name,
            process_class=label.process_class,
            model_class=label.model_class,
            pid=actor.pid,
            exitcode=exitcode,
            exception_type=exception_type,
            message=message,
            traceback=trace,
        )

    def _fail_on_error(self, error: BaseException, summary: str):
        """Kill the graph after ``error`` and raise. An ``Exception`` becomes LavaRunError."""
        if isinstance(error, LavaRunError):
            raise error
        failures = []
        if isinstance(error, Exception):
            failures = self._collect_failures(wait_s=ERROR_REPORT_GRACE_S)
        if not failures and getattr(error, "trace", None):
            # Lava's target_fn attaches the child's traceback to errors it forwards to
            # Runtime.initialize.
            failures = [_failure_from_lava_error(error)]
        self._abort(summary)
        if not isinstance(error, Exception):
            raise error
        raise LavaRunError(f"{summary}: {error!r}; {_ABORT_NOTE}", failures) from error

    def _fail_on_timeout(self, summary: str):
        self._abort(summary)
        raise LavaRunTimeout(f"{summary}; {_ABORT_NOTE}")

    def _fail(self, summary: str, failures: Sequence[ActorFailure]):
        self._abort(summary)
        if failures:
            summary = f"{summary}: " + "; ".join(failure.summary() for failure in failures)
        raise LavaRunError(f"{summary}; {_ABORT_NOTE}", failures)

    def _abort(self, summary: str) -> None:
        """Kill this session's Lava OS processes and release its shared memory.

        Never calls ``Runtime.stop()``, which blocks forever once a run has failed.
        """
        self._state = "failed"
        self._failure_summary = summary
        runtime = self._runtime if self._runtime is not None else self._process.runtime
        self._runtime = runtime
        if self._own_pids is None:
            self._own_pids = _active_child_pids() - self._children_before
        infrastructure = getattr(runtime, "_messaging_infrastructure", None)
        actors = list(infrastructure.actors) if infrastructure is not None else []
        if runtime is not None:
            _defuse_runtime(runtime)
            self._shm_names = tuple(dict.fromkeys(self._shm_names + _segment_names(runtime)))
        # Read every pending report first: SystemProcess.join() would unpickle it and
        # raise for exceptions that cannot be unpickled.
        for index, actor in enumerate(actors):
            if index not in self._reports:
                report = _read_report(actor)
                if report is not None:
                    self._reports[index] = report
        _terminate_processes(actors)
        for actor in actors:
            # SystemProcess.join() has no timeout, so only join what is dead.
            if not _is_alive(actor):
                _quietly(actor.join, "joining a killed Lava OS process")
        if runtime is not None:
            _quietly(runtime.join, "closing the runtime's channel ports")
        if infrastructure is not None and infrastructure.smm is not None:
            _quietly(infrastructure.smm.shutdown, "shutting down Lava's shared-memory manager")
        watchdog = getattr(runtime, "_watchdog_manager", None)
        if watchdog is not None:
            _call_with_timeout(
                lambda: _quietly(watchdog.stop, "stopping Lava's watchdog"),
                TERMINATE_GRACE_S,
                "lava-runner-watchdog",
            )
        self._sweep_children()
        _unlink_segments(self._shm_names)
        logger.info("Lava session aborted (%s); its OS processes were killed", summary)

    def _abort_after_start_thread(self, thread: threading.Thread) -> None:
        """Abort again once the start thread ended, to catch what it created meanwhile.

        A start thread that timed out inside ``Runtime.initialize`` may still fork OS
        processes or create segments after the first abort. Aborting is idempotent.
        """
        thread.join(TERMINATE_GRACE_S)
        late_children = _active_child_pids() - self._children_before
        self._own_pids = (self._own_pids or frozenset()) | late_children
        self._abort(self._failure_summary or "runtime start failed")

    def _sweep_children(self) -> None:
        """Kill any of this session's OS processes that are still alive."""
        own = self._own_pids or frozenset()
        leftovers = [child for child in multiprocessing.active_children() if child.pid in own]
        if leftovers:
            logger.warning(
                "killing %d leftover Lava OS processes: %s",
                len(leftovers),
                ", ".join(f"{child.name} (pid {child.pid})" for child in leftovers),
            )
            _terminate_processes(leftovers)


_ABORT_NOTE = (
    "the session killed its Lava OS processes and released their shared memory; "
    "build new Process objects to run again"
)


def run_lava(
    process,
    num_steps: int,
    run_cfg,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    read: Sequence | Mapping = (),
    compile_config: dict | None = None,
):
    """Compile a graph, run ``num_steps`` time steps, read Vars and stop the runtime.

    Equivalent to one :class:`LavaSession` with one :meth:`LavaSession.run` followed
    by one :meth:`LavaSession.get` per Var in ``read``.

    Parameters
    ----------
    process : AbstractProcess
        Any Process of the graph.
    num_steps : int
        Number of time steps, at least 1.
    run_cfg : RunConfig
        Lava run configuration.
    timeout_s : float
        Limit in seconds for each blocking call into Lava (see :class:`LavaSession`).
    read : sequence of Var or mapping of str to Var
        Vars to read after the run, before the runtime stops.
    compile_config : dict, optional
        Passed to Lava's compiler.

    Returns
    -------
    tuple or dict
        Values of ``read`` in the same order (a tuple) or under the same keys (a dict).

    Raises
    ------
    LavaRunError, LavaRunTimeout
        As :meth:`LavaSession.run`.
    """
    from lava.magma.core.process.variable import Var

    num_steps = check_int("num_steps", num_steps, minimum=1)
    if isinstance(read, Mapping):
        items = list(read.items())
    elif isinstance(read, Sequence) and not isinstance(read, str):
        items = list(enumerate(read))
    else:
        raise TypeError(
            f"read must be a sequence of Vars or a mapping of names to Vars, got {read!r}"
        )
    for key, var in items:
        if not isinstance(var, Var):
            raise TypeError(f"read[{key!r}] must be a Lava Var, got {type(var).__name__}")

    session = LavaSession(process, run_cfg, timeout_s=timeout_s, compile_config=compile_config)
    with session:
        session.run(num_steps)
        values = {key: session.get(var) for key, var in items}
    if isinstance(read, Mapping):
        return values
    return tuple(values[index] for index, _ in items)


# --------------------------------------------------------------------------------------
# Helpers: threads, reports, OS processes, shared memory
# --------------------------------------------------------------------------------------


def _check_timeout(timeout_s) -> float:
    if timeout_s is None:
        raise TypeError("timeout_s must be a positive number of seconds, got None")
    return check_float("timeout_s", timeout_s, minimum=0.0, min_open=True)


@functools.lru_cache(maxsize=1)
def _warn_if_unsupported_lava() -> None:
    try:
        version = importlib.metadata.version("lava-nc")
    except importlib.metadata.PackageNotFoundError:
        return
    if version != SUPPORTED_LAVA_VERSION:
        warnings.warn(
            f"lava_biograd.lava.runner relies on runtime internals of lava-nc "
            f"{SUPPORTED_LAVA_VERSION}, but lava-nc {version} is installed; timeouts and "
            "error reports may not work",
            RuntimeWarning,
            stacklevel=3,
        )


def _start_thread(function: Callable[[], Any], thread_name: str):
    """Start ``function`` in a daemon thread and return the thread and its outcome dict."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed over to the waiting thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name=thread_name, daemon=True)
    thread.start()
    return thread, outcome


def _wait_for_thread(thread: threading.Thread, outcome: dict, timeout_s: float):
    """Wait at most ``timeout_s`` for a thread from :func:`_start_thread`.

    Returns ``(True, result)``, re-raises the function's exception, or returns
    ``(False, None)`` on timeout. A timed-out thread keeps running, blocked inside Lava.
    """
    thread.join(timeout_s)
    if thread.is_alive():
        return False, None
    if "error" in outcome:
        raise outcome["error"]
    return True, outcome.get("value")


def _call_with_timeout(function: Callable[[], Any], timeout_s: float, thread_name: str):
    """Call ``function`` in a daemon thread and wait at most ``timeout_s`` seconds."""
    thread, outcome = _start_thread(function, thread_name)
    return _wait_for_thread(thread, outcome, timeout_s)


def _quietly(function: Callable[[], Any], what: str) -> None:
    try:
        function()
    except Exception:
        logger.debug("%s failed during clean-up", what, exc_info=True)


@dataclass(frozen=True)
class _ActorLabel:
    description: str
    process_name: str | None
    process_class: str | None
    model_class: str | None


def _actor_labels(runtime) -> list[_ActorLabel]:
    """Describe Lava's actors in creation order: Python ProcessModels, then runtime services."""
    from lava.magma.compiler.builders.py_builder import PyProcessBuilder

    executable = runtime._executable
    labels = []
    for proc, builder in executable.proc_builders.items():
        if isinstance(builder, PyProcessBuilder):
            model = builder.proc_model.__name__
            labels.append(
                _ActorLabel(
                    f"ProcessModel {model} of Process {proc.name!r} ({type(proc).__name__})",
                    proc.name,
                    type(proc).__name__,
                    model,
                )
            )
    for builder in executable.runtime_service_builders.values():
        service = builder.rs_class.__name__
        labels.append(_ActorLabel(f"runtime service {service}", None, None, service))
    return labels


def _label_at(labels: list[_ActorLabel], index: int) -> _ActorLabel:
    if index < len(labels):
        return labels[index]
    return _ActorLabel(f"Lava OS process {index}", None, None, None)


@dataclass(frozen=True)
class _Report:
    exception_type: str
    message: str
    traceback: str


def _read_report(actor) -> _Report | None:
    """Read the ``(exception, traceback)`` message a SystemProcess sends when it fails.

    Returns ``None`` when nothing is pending or the OS process reported a clean exit.
    """
    connection = getattr(actor, "_pconn", None)
    if connection is None or connection.closed:
        return None
    try:
        if not connection.poll():
            return None
        payload = connection.recv_bytes()
    except (OSError, EOFError):
        return None
    try:
        message = pickle.loads(payload)
    except Exception as error:
        return _report_from_raw_pickle(payload, error)
    if message is None:
        return None
    try:
        exception, trace = message
    except (TypeError, ValueError):
        return _Report("unknown exception", f"unexpected report {message!r}", "")
    actor._exception = message  # what Lava's SystemProcess.exception would have cached
    return _Report(_exception_type_name(type(exception)), str(exception), str(trace))


def _report_from_raw_pickle(payload: bytes, error: Exception) -> _Report:
    """Recover the traceback text from a report whose exception cannot be unpickled."""
    strings = []
    try:
        for _opcode, argument, _position in pickletools.genops(payload):
            if isinstance(argument, str):
                strings.append(argument)
    except Exception:
        logger.debug("could not scan an exception report", exc_info=True)
    tracebacks = [text for text in strings if text.startswith("Traceback (most recent call last)")]
    trace = tracebacks[0] if tracebacks else ""
    exception_type, message = _parse_exception_line(trace)
    note = f" [the exception object could not be unpickled in the parent: {error!r}]"
    return _Report(exception_type, message + note, trace)


def _parse_exception_line(trace: str) -> tuple[str, str]:
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown exception", ""
    name, _, message = lines[-1].partition(": ")
    return name, message


def _exception_type_name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _failure_from_lava_error(error: BaseException) -> ActorFailure:
    trace = getattr(error, "trace", "")
    return ActorFailure(
        actor="Lava OS process (reported while the runtime started)",
        process_name=None,
        process_class=None,
        model_class=None,
        pid=None,
        exitcode=None,
        exception_type=_exception_type_name(type(error)),
        message=str(error),
        traceback=trace,
    )


def _defuse_runtime(runtime) -> None:
    """Make Lava's later ``stop()``, ``start()`` and ``__del__`` calls return at once."""
    runtime._is_running = False
    runtime._is_started = False
    runtime._is_initialized = False


def _exitcode(actor) -> int | None:
    try:
        return actor.exitcode
    except (ValueError, AssertionError):
        return None


def _is_alive(process) -> bool:
    try:
        return process.is_alive()
    except (ValueError, AssertionError):
        # Closed, or not a child of this interpreter.
        return False


def _active_child_pids() -> frozenset[int]:
    return frozenset(child.pid for child in multiprocessing.active_children())


def _child_pids(pid: int) -> list[int]:
    """Return the direct children of ``pid`` from Linux ``/proc`` (empty elsewhere)."""
    children = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/children") as handle:
                children.extend(int(token) for token in handle.read().split())
        except OSError:
            continue
    return children


def _descendant_pids(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        for child in _child_pids(stack.pop()):
            if child not in found:
                found.append(child)
                stack.append(child)
    return found


def _send_signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _terminate_processes(processes: Sequence, grace_s: float = TERMINATE_GRACE_S) -> None:
    """Send SIGTERM to child processes and their descendants, then SIGKILL after ``grace_s``.

    Descendants are collected first, because a killed child's own children are
    re-parented and can no longer be found through it.
    """
    # A Lava thread that timed out may still join and close these objects meanwhile, so
    # every access tolerates a closed process object.
    alive = [(process, process.pid) for process in processes if _is_alive(process)]
    if not alive:
        return
    descendants = [child for _, pid in alive for child in _descendant_pids(pid)]
    for pid in descendants:
        _send_signal(pid, signal.SIGTERM)
    for process, pid in alive:
        _quietly(process.terminate, f"sending SIGTERM to pid {pid}")
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_is_alive(process) for process, _ in alive):
        time.sleep(0.01)
    for process, pid in alive:
        if _is_alive(process):
            logger.warning(
                "Lava OS process %d ignored SIGTERM for %g s; sending SIGKILL", pid, grace_s
            )
            _quietly(process.kill, f"sending SIGKILL to pid {pid}")
    for pid in descendants:
        if _pid_exists(pid):
            _send_signal(pid, signal.SIGKILL)
    for process, pid in alive:
        # Lava's SystemProcess.join() takes no timeout, so call the base method.
        reap = functools.partial(multiprocessing.Process.join, process, 1.0)
        _quietly(reap, f"reaping pid {pid}")


def _segment_names(runtime) -> tuple[str, ...]:
    infrastructure = getattr(runtime, "_messaging_infrastructure", None)
    smm = getattr(infrastructure, "smm", None)
    handles = getattr(smm, "_shared_memory_handles", None) or []
    return tuple(handle.name for handle in handles)


def _unlink_segments(names: Sequence[str]) -> None:
    """Unlink any of ``names`` that still exist (Lava's manager normally did it)."""
    from multiprocessing import shared_memory

    for name in names:
        try:
            segment = shared_memory.SharedMemory(name=name)
        except (FileNotFoundError, ValueError, OSError):
            continue
        logger.warning("unlinking leftover shared-memory segment %s", name)
        segment.close()
        _quietly(segment.unlink, f"unlinking shared-memory segment {name}")


def _var_label(var) -> str:
    process_name = var.process.name if var.process is not None else "<no process>"
    return f"{process_name}.{var.name}"

