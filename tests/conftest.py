"""Test set-up: the simulated machine modules, the firmware on sys.path, hypothesis profiles."""
import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from headroom.sim import world
from headroom.sim.simboard import use_firmware

use_firmware()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
use_firmware(os.path.join(REPO, "firmware", "signals"))  # headroom_signals: test signals, not shipped
BOARDS = os.path.join(REPO, "boards")
SE = os.path.join(BOARDS, "pico-se.json")
BALANCED = os.path.join(BOARDS, "pico-balanced.json")

# CI: fixed seed (derandomize), bounded examples, so `make test` is repeatable and
# stays within its time budget. `make test-long` runs the "long" profile.
settings.register_profile("ci", derandomize=True, max_examples=40, deadline=None,
                          stateful_step_count=20,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("long", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing end-to-end test's report carries what its virtual boards logged (a
    watchdog reset, a power cut, a VM that died): the board's side of the failure."""
    outcome = yield
    report = outcome.get_result()
    import sys
    vb = sys.modules.get("test_vboard")
    if vb is None:
        return
    if report.failed and report.when == "call":
        for i, b in enumerate(vb.STARTED):
            report.sections.append(("virtual board %d log" % (i + 1), b.log_so_far()[-6000:]))
    if report.when == "teardown":
        vb.STARTED.clear()


def pytest_runtest_teardown(item):
    # A test whose body was a bare board's code (simkit.bare_sim: sim.cpu_enter()) lets
    # go of it; boards run by SimBoard set and restore it themselves.
    world.running = None


# `make reliability`: random seeds, full-length runs, REL_EXAMPLES examples.
settings.register_profile("reliability", max_examples=int(os.environ.get("REL_EXAMPLES", "100")),
                          deadline=None, stateful_step_count=50,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
# Debugging a failure: no shrinking (it can take minutes on the state machine).
settings.register_profile("debug", max_examples=40, deadline=None, derandomize=True,
                          stateful_step_count=20,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate],
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """Each run its own temporary folder, build/pytest/<pid>; a finished run's go when
    the next run starts (pytest empties a --basetemp at start: a shared one would be
    emptied under a run still going)."""
    if config.option.basetemp or hasattr(config, "workerinput"):
        return   # given on the command line, or an xdist worker (its controller's)
    import shutil
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "build", "pytest")
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if not name.isdigit():
            shutil.rmtree(path, ignore_errors=True)   # an older layout's
            continue
        try:
            os.kill(int(name), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass
    config.option.basetemp = os.path.join(root, str(os.getpid()))


@pytest.fixture
def checked():
    """Simulated boards watched by the trace checker: `checked(path, before_power=None,
    run_ms=3000, **SimBoard options)` powers one on (after `before_power(board)`) and
    runs it. When the test is over, each board's trace must have broken no rule."""
    from headroom.sim.invariants import Checker
    from headroom.sim.simboard import SimBoard
    made = []

    def make(path, before_power=None, run_ms=3000, **options):
        b = SimBoard(path, **options)
        b.checker = Checker(b.board)
        b.trace.listeners.append(b.checker.live)
        if before_power:
            before_power(b)
        b.power(True)
        if run_ms:
            b.run_ms(run_ms)
        made.append(b)
        return b

    yield make
    for b in made:
        b.checker.finish(b.now_us())
        assert b.checker.ok(), b.checker.report()
        b.close()


@pytest.fixture
def sim():
    """A bare simulated world (no firmware, no board file) for model and shim tests:
    tests/simkit.py's bare_sim, powered, its scheduled callbacks run."""
    from simkit import bare_sim
    return bare_sim(app=True)
