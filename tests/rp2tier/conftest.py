"""The rp2 tier's set-up. Only `make test-rp2` collects this folder: it passes --uf2
(possibly empty); `make test`, which collects from the repository root without it,
leaves the folder out (pytest_ignore_collect below), so it stays exactly what it was.

Figures the tests measure are recorded as the user property "rp2" (which pytest-xdist
carries from its workers) and printed at the end, whatever the outcome, also to
build/rp2tier/figures.json.
"""
import json
import os

import pytest

HOWTO = """the rp2 tier needs MicroPython's UF2 for the Raspberry Pi Pico (RPI_PICO), 1.24.1 or 1.26.1:
  download it from https://micropython.org/download/RPI_PICO/ (RPI_PICO-20250911-v1.26.1.uf2),
  then run: make test-rp2 UF2=path/to/RPI_PICO-....uf2"""

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_FIGURES = []


def pytest_addoption(parser):
    parser.addoption("--uf2", default=None,
                     help="MicroPython RPI_PICO UF2 to run in the emulated RP2040 (the rp2 tier)")


def pytest_ignore_collect(collection_path, config):
    if config.getoption("uf2", default=None) is None:
        return True  # `make test`: not this tier
    return None


_RELEASE = [None]   # the MicroPython release the UF2 holds: every figure names it


def pytest_sessionstart(session):
    uf2 = session.config.getoption("uf2", default=None)
    if uf2 and not os.path.isfile(uf2):
        pytest.exit("no such UF2 file: %s\n%s" % (uf2, HOWTO), returncode=2)
    if uf2:
        from headroom.rp2tier.release import micropython_release
        _RELEASE[0] = micropython_release(uf2)


def pytest_report_header(config):
    uf2 = config.getoption("uf2", default=None)
    if uf2 is not None and not uf2:
        return "rp2 tier skipped: " + HOWTO
    return "rp2 tier: %s (MicroPython %s)" % (uf2, _RELEASE[0]) if uf2 else None


_ORDER = ("pico-se", "pico-balanced")


def pytest_collection_modifyitems(config, items):
    # Board by board (file order within a board): one emulated board runs at a time.
    def key(item):
        m = item.get_closest_marker("xdist_group")
        group = m.args[0] if m is not None and m.args else None
        return _ORDER.index(group) + 1 if group in _ORDER else 0
    items.sort(key=key)


@pytest.fixture(scope="session")
def uf2(pytestconfig):
    path = pytestconfig.getoption("uf2")
    if not path:
        pytest.skip(HOWTO)
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def tier(uf2, tmp_path_factory):
    from .rp2kit import Tier
    t = Tier(uf2, str(tmp_path_factory.mktemp("rp2tier")))
    yield t
    t.close()


@pytest.fixture(autouse=True)
def parts_not_misused(request):
    """A part's model that found its bus misused (the display's controller, the PGA2311
    chain) fails the test that was running, whatever it asserts itself."""
    yield
    tier = request.node.funcargs.get("tier")
    if tier is None:
        return
    new = []
    for name, live in list(tier.boards.items()):
        faults = list(live.board.faults)
        new += ["%s at %.3f ms: %s" % (name, t / 1000, m) for t, m in faults[live.faults_seen:]]
        live.faults_seen = len(faults)
    if new:
        pytest.fail("a part was misused on the emulated board:\n" + "\n".join(new), pytrace=False)


@pytest.fixture
def report(record_property):
    """report(name, **figures): one line of the tier's figures."""
    def rec(name, **figures):
        record_property("rp2", dict(name=name, **figures))
    return rec


def pytest_runtest_logreport(report):
    if report.when == "call":
        for key, value in report.user_properties:
            if key == "rp2":
                _FIGURES.append(dict(value, micropython=_RELEASE[0],
                                     test=report.nodeid.split("::")[-1],
                                     outcome="xfail" if hasattr(report, "wasxfail")
                                     else report.outcome))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    uf2 = config.getoption("uf2", default=None)
    if uf2 is not None and not uf2:
        terminalreporter.write_sep("=", "rp2 tier skipped")
        terminalreporter.write_line(HOWTO)
        return
    if not _FIGURES:
        return
    release = _RELEASE[0]
    terminalreporter.write_sep("=", "rp2 tier: measured on the emulated board, MicroPython %s "
                               "(µs/ms of emulated time)" % release)
    for f in sorted(_FIGURES, key=lambda f: (f["name"], f["test"])):
        rest = {k: v for k, v in f.items() if k not in ("name", "test", "outcome")}
        terminalreporter.write_line("%-7s %s: %s" % (f["outcome"], f["name"], json.dumps(rest)))
    out = os.path.join(REPO, "build", "rp2tier")
    os.makedirs(out, exist_ok=True)
    # One file per release, so the figures of both releases stand side by side.
    name = "figures-%s.json" % release
    with open(os.path.join(out, name), "w") as fh:
        json.dump(sorted(_FIGURES, key=lambda f: (f["name"], f["test"])), fh, indent=1)
    terminalreporter.write_line("(also in build/rp2tier/%s)" % name)
