"""Test set-up: the simulated machine modules, the firmware on sys.path, hypothesis profiles."""
import os

from hypothesis import HealthCheck, Phase, settings

from headroom.sim import world
from headroom.sim.simboard import use_firmware

use_firmware()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def pytest_runtest_teardown(item):
    world.current = None


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
