"""ndlld.parallel: work in forked children, what they share handed to them, never pickled."""

from __future__ import annotations

import gc
import os
import platform
import signal
import subprocess
import sys
import threading
import time

import pytest

from ndlld.parallel import ChildDied, beside, collector_paused, fork_each, fork_map, give_back, in_thread, keep, spared


def _answer(shared, job):
    return shared["base"] + job, os.getpid(), gc.isenabled()


def test_every_job_is_answered_in_order_by_forked_children():
    """What the children share is inherited, not pickled: a lock cannot be pickled."""
    shared = {"base": 100, "lock": threading.Lock()}
    for jobs in ([1], list(range(7))):
        answers = fork_map(_answer, jobs, shared, processes=2)
        assert [answer[0] for answer in answers] == [100 + job for job in jobs]
        assert os.getpid() not in {answer[1] for answer in answers}
    assert fork_map(_answer, [], shared) == []


def test_a_closure_runs_in_the_children_as_it_is_each_job_in_a_child_of_its_own():
    seen = []
    assert fork_map(lambda shared, job: (seen.append(job), list(seen))[1], [1, 2, 3], processes=1) == [[1], [2], [3]]
    assert seen == []  # the children's lists, not this one


def test_answers_come_one_at_a_time_and_a_child_ends_with_its_job():
    """What a job made in its child is gone with it: the next job starts from the parent as it was."""
    answers = fork_each(lambda shared, job: (job, os.getpid()), list(range(6)), processes=2)
    first = next(answers)
    rest = list(answers)
    assert [first[0], *(answer[0] for answer in rest)] == list(range(6))
    assert len({first[1], *(answer[1] for answer in rest)}) == 6


@pytest.mark.parametrize("jobs", [[1], [1, 2, 3]], ids=["one", "several"])
def test_an_error_in_a_child_is_raised_here(jobs):
    def fails(shared, job):
        raise ValueError(f"job {job} failed")

    with pytest.raises(ValueError, match="^job 1 failed$"):
        fork_map(fails, jobs, processes=2)


@pytest.mark.parametrize("jobs", [[1], [1, 2, 3]], ids=["one", "several"])
def test_a_child_that_dies_is_a_clear_error_not_a_hang(jobs):
    def dies(shared, job):
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(ChildDied, match=r"^a forked process ended without an answer \(.+\)$"):
        fork_map(dies, jobs, processes=2)


def test_children_collect_as_they_are_told():
    with collector_paused() as before:
        assert before is True and not gc.isenabled()
        assert {answer[2] for answer in fork_map(_answer, [1, 2], {"base": 0}, collect=True)} == {True}
        assert {answer[2] for answer in fork_map(_answer, [1], {"base": 0}, collect=True)} == {True}
        assert {answer[2] for answer in fork_map(_answer, [1, 2], {"base": 0})} == {False}  # as the parent now
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_run_keeps_what_lives_until_its_end_out_of_the_collectors_reach():
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with spared():
        assert not gc.isenabled()
        keep()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        keep(collecting=False)
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_work_beside_the_body_runs_in_a_child_and_its_answer_or_error_comes_back(tmp_path):
    marker = tmp_path / "beside"

    def work(shared):
        marker.write_text(str(os.getpid()))
        return shared * 2

    with beside(work, 21) as result:
        pass
    assert result() == 42 and int(marker.read_text()) != os.getpid()

    def fails(shared):
        raise ValueError("no dumps")

    with beside(fails) as result:
        pass
    with pytest.raises(ValueError, match="no dumps"):
        result()

    def dies(shared):
        os.kill(os.getpid(), signal.SIGKILL)

    with beside(dies) as result:
        pass
    with pytest.raises(ChildDied):
        result()


def test_work_in_a_thread_runs_beside_the_body_and_its_answer_or_error_comes_back():
    body_ran = threading.Event()

    def work():
        assert body_ran.wait(10)  # runs while the body does: it waits for it
        return threading.get_ident()

    with in_thread(work) as result:
        body_ran.set()
    assert result() != threading.get_ident()

    def fails():
        raise OSError("dataset.nt ended before its chunk")

    with in_thread(fails) as result:
        pass
    with pytest.raises(OSError, match="ended before its chunk"):
        result()


def test_a_failing_body_waits_for_its_thread_before_the_error_goes_on(tmp_path):
    """What the thread writes is done with when the caller cleans up after the error."""
    written = tmp_path / "dataset.nt"

    def work():
        time.sleep(0.2)
        written.write_text("<a> <b> <c> .\n")

    with pytest.raises(ValueError, match="a page failed"), in_thread(work):
        raise ValueError("a page failed")
    assert written.read_text() == "<a> <b> <c> .\n"


def test_an_error_ends_the_children_still_running(tmp_path):
    """The error comes at once, not after the others' jobs, and leaves no child behind."""
    started = tmp_path / "started"

    def fails_or_waits(shared, job):
        if job == 1:
            written = tmp_path / "started.new"
            written.write_text(str(os.getpid()))
            written.rename(started)  # whole when seen: the file exists before its text is written
            time.sleep(600)
        while not started.exists():
            time.sleep(0.01)
        raise ValueError("job 0 failed")

    with pytest.raises(ValueError, match="^job 0 failed$"):
        fork_map(fails_or_waits, [0, 1], processes=2)
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(int(started.read_text()), 0)


def test_work_beside_ends_when_done_though_its_answer_is_not_yet_asked_for(tmp_path):
    """Its answer, larger than a pipe holds, is read as it comes: the child does not wait,
    holding all its memory, until the body is over."""
    marker = tmp_path / "beside"

    def work(shared):
        written = tmp_path / "beside.new"
        written.write_text(str(os.getpid()))
        written.rename(marker)  # whole when seen: the file exists before its text is written
        return b"x" * shared

    with beside(work, 4 << 20) as result:
        while not marker.exists():
            time.sleep(0.01)
        pid = int(marker.read_text())
        for _ in range(3000):  # until it has ended and been reaped, or 30 s
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the child still waits to be asked for its answer")
    assert result() == b"x" * (4 << 20)


_KILLED_PARENT = """
import os, sys, time
from ndlld.parallel import beside

def wait(marker):
    with open(marker + ".new", "w") as written:
        written.write(str(os.getpid()))
    os.rename(marker + ".new", marker)  # whole when seen
    time.sleep(600)

with beside(wait, sys.argv[1]):
    time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Whether *pid* still runs: an ended process its new parent has not reaped yet does not."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent's end signalled by the kernel (prctl)")
def test_a_child_ends_when_its_parent_is_killed(tmp_path):
    """A process killed at once (SIGKILL: no handler runs) takes its children with it: a build
    killed leaves none writing on, holding the output's lock."""
    marker = tmp_path / "child"
    parent = subprocess.Popen([sys.executable, "-c", _KILLED_PARENT, str(marker)])
    try:
        for _ in range(3000):  # until the child has started, or 30 s
            if marker.exists():
                break
            time.sleep(0.01)
        child = int(marker.read_text())
        assert _running(child)
    finally:
        parent.kill()
        parent.wait()
    for _ in range(1000):  # 10 s
        if not _running(child):
            break
        time.sleep(0.01)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the child runs on after its parent was killed")


def _resident_mib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) // 1024


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc" or not sys.platform.startswith("linux"), reason="glibc's malloc_trim, read through /proc"
)
def test_memory_freed_goes_back_to_the_system():
    """Freed in the middle of the C heap, it stays mapped (a child forked then would copy
    it as it reused it) until given back."""
    held = [b"x" * (64 << 10) for _ in range(2000)]  # 125 MiB written, each below what malloc maps apart
    last = bytes(64 << 10)  # above them: the hole they leave is not the heap's top, which free() trims
    del held
    freed = _resident_mib()
    give_back()
    assert _resident_mib() < freed - 100
    assert len(last) == 64 << 10
