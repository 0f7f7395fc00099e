"""Warm kernels (issue 29 item 1): each report worker keeps one kernel and runs notebook after notebook in it.

A cold job pays a kernel start (~0.5 s) and the imports of hzeval, polars and IPython (~2 s) before
~1 s of work. A :class:`WarmKernel` is started once per pool worker with those imports done
(:data:`WARMUP`); every notebook is still executed by papermill (its own injected parameters cell,
its own outputs, its own file) through the engine :data:`ENGINE`, registered in papermill's engine
registry, which hands papermill's notebook client this kernel instead of starting one.

Between notebooks the kernel is reset (:meth:`WarmKernel.reset`): ``%reset -f`` empties the user
namespace (variables, ``In``/``Out``, the ``_`` outputs), the working folder is set to the job's,
and a check reads the namespace back: a name left over (anything one agency's notebook defined)
restarts the kernel rather than run the next notebook beside it. Modules stay imported, which is
the point; they hold no agency's data (the reports open their run inside the notebook). A notebook
that fails, or a kernel that died, restarts the worker's kernel (:meth:`WarmKernel.restart`) so the
next job starts clean.
"""

from __future__ import annotations

import time
from typing import Any

from hzeval.util.notebooks import KERNEL

#: the papermill engine name of a warm kernel (:func:`register_engine`)
ENGINE = "hzeval-warm"

#: job kinds run in the worker's warm kernel: the reports and the offline dashboards (issue 29 item 2:
#: Panel, Bokeh's inlined resources and the run's cached queries are paid once per worker, not once
#: per file; each file's data comes from a store bound to its own agency, and the caches are keyed by
#: that scope); the staff notebooks' gallery keeps a cold kernel per job
WARM_KINDS = frozenset({"agency", "bulletin", "gates", "dashboard"})

#: what a worker's kernel imports once (what every report notebook imports)
WARMUP = "import polars, IPython.display, hzeval.present, hzeval.pages, hzeval.reports.data, hzeval.runs\n"

#: the reset before each notebook: a fresh user namespace in the job's working folder
RESET = "get_ipython().run_line_magic('reset', '-f')\n__import__('os').chdir({cwd!r})\n"

#: read back after the reset: user names left (must be none) and the working folder
CHECK = {
    "names": "sorted(get_ipython().run_line_magic('who_ls', ''))",
    "cwd": "__import__('os').getcwd()",
}

#: seconds to wait for a kernel to start, and for one reset or warm-up to answer
START_TIMEOUT = 60
CALL_TIMEOUT = 120


class KernelStateError(RuntimeError):
    """The kernel's namespace was not empty after a reset (or the reset did not answer)."""


class WarmKernel:
    """One kernel (and its client) kept for a worker's whole life."""

    def __init__(self) -> None:
        self.km: Any = None  # jupyter_client's AsyncKernelManager once started (imported when started)
        self.kc: Any = None
        self.starts = 0  # how many kernels this worker has started (1 + restarts)

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and run_sync(self.km.is_alive)()

    def start(self) -> None:
        # asynchronous, as papermill's client expects: it notices a dead kernel while it waits for output
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.km = AsyncKernelManager(kernel_name=KERNEL)
        run_sync(self.km.start_kernel)()
        self.kc = self.km.client()
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=START_TIMEOUT)
        self.kc.allow_stdin = False
        self.starts += 1
        self._call(WARMUP)

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001 - closing a client of a dead kernel
                pass
        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.km = self.kc = None

    def restart(self) -> None:
        """A fresh kernel (after a failed notebook, a dead kernel or a namespace that would not empty)."""
        self.shutdown()
        self.start()

    def reset(self, cwd: str) -> None:
        """Empty the user namespace and enter ``cwd``; start or restart the kernel when it is not clean."""
        if not self.alive():
            self.restart()
        try:
            self._check(cwd)
        except KernelStateError:
            self.restart()
            self._check(cwd)  # a new kernel that is not clean either: the job fails with this error

    def _check(self, cwd: str) -> None:
        reply = self._call(RESET.format(cwd=cwd), CHECK)
        if reply.get("status") != "ok":
            raise KernelStateError(f"内核重置失败 | kernel reset failed: {reply.get('ename')}: {reply.get('evalue')}")
        got = {k: v.get("data", {}).get("text/plain") for k, v in reply.get("user_expressions", {}).items()}
        if got.get("names") != "[]" or got.get("cwd") != repr(cwd):
            raise KernelStateError(f"内核状态未清空 | kernel state not reset: {got}")

    def _call(self, code: str, expressions: dict[str, str] | None = None) -> dict:
        """Execute ``code`` silently; the reply's content (``user_expressions`` evaluated after it)."""
        from jupyter_core.utils import run_sync

        assert self.kc is not None, "the kernel is started"
        msg_id = self.kc.execute(code, silent=True, store_history=False, user_expressions=expressions or {})
        deadline = time.monotonic() + CALL_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelStateError("内核无响应 | the kernel did not answer")
            try:
                msg = run_sync(self.kc.get_shell_msg)(timeout=min(left, 1.0))
            except Exception:  # noqa: BLE001 - queue.Empty: poll again, or notice a dead kernel
                if not self.alive():
                    raise KernelStateError("内核已退出 | the kernel died") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                self._drain()
                return msg["content"]

    def _drain(self) -> None:
        """Drop the iopub messages of our own silent calls (papermill's client skips others' anyway)."""
        from jupyter_core.utils import run_sync

        assert self.kc is not None
        while True:
            try:
                run_sync(self.kc.get_iopub_msg)(timeout=0.01)
            except Exception:  # noqa: BLE001 - queue.Empty: drained
                return


def register_engine() -> None:
    """Register :data:`ENGINE` in papermill's engine registry (once per worker)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class WarmEngine(NBClientEngine):
        """papermill's nbclient engine on a kernel it is given (``warm=``) and does not own: papermill's
        client neither starts nor shuts it down (``km`` passed, its ``kc`` set)."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            warm: WarmKernel | None = None,
            **kwargs,
        ):
            assert warm is not None and warm.km is not None, "a started warm kernel"
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(
                kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client = PapermillNotebookClient(nb_man, km=warm.km, **final)
            client.kc = warm.kc
            return client.execute()

    papermill_engines.register(ENGINE, WarmEngine)
