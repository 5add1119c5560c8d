# Headroom: firmware, simulator and tests. `make sim` and `make test` do all set-up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BOARD ?= boards/pico-se.json

.PHONY: sim screenshot display-pictures web-pictures browser test lint reliability test-long test-board test-rp2 calibrate-rp2 realpico-rp2 golden mpy package bench flash uf2 clean

$(STAMP): requirements.txt requirements-nodeps.txt host_tools/pyproject.toml host_tools/setup.py \
		firmware/headroom_fw/version.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install -q --no-build-isolation --no-deps -e host_tools
	touch $(STAMP)

## Run the firmware on the simulated board: in a terminal its live front panel
## (headroom panel), else (or with SCRIPT=FILE) the scripted timeline (headroom sim).
sim: $(STAMP)
	$(PY) -m headroom $(if $(SCRIPT),sim --script $(SCRIPT),panel) --board $(BOARD)

## The front panel picture in the README and docs/panel.md: make screenshot [SHOT=docs/panel.svg]
SHOT ?= docs/panel.svg
screenshot: $(STAMP)
	$(PY) -m headroom.panel.screenshot $(SHOT)

## The display's pictures in the README and docs/display.md (the simulator's OLED model)
display-pictures: $(STAMP)
	$(PY) -m headroom.display_pictures docs/display

## The web page's pictures in the README and docs/web-remote.md: Chromium on the simulated
## Pico W's page (tests/test_web_browser.py, saving docs/web/pairing.png and main.png)
web-pictures: $(STAMP)
	HEADROOM_WEB_PICTURES=docs/web $(PY) -m pytest -q tests/test_web_browser.py

## Debian's Chromium for the page's browser tests (without it they skip, saying so); apt
## as root, else through sudo
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	$(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

## The whole test suite (fixed-seed hypothesis profile, as CI runs it), after the lint.
# The virtual-board end-to-end tests (real mpremote over a pseudo-terminal).
E2E := tests/test_vboard.py tests/test_vboard_inputs.py tests/test_vboard_web.py tests/test_flash.py tests/test_packaging.py

# Four workers on two cores: the end-to-end tests spend most of their time waiting for a
# board that runs in real time (a boot, a reset, seconds at its REPL), so more workers
# overlap that waiting with the simulator's CPU-bound tests; work stealing keeps the long
# ones from ending the run alone (2026-12-07, idle: 151 s with three, 144 s with three
# stealing, 134 s with four stealing).
test: lint
	$(PY) -m pytest -q -n 4 --dist worksteal -m "not board_only"

## Only the virtual board driven by the real mpremote: flash, copy, reset, power cuts, inputs.
# (Each run has its own temporary folder, build/pytest/<pid>: tests/conftest.py.)
test-board: $(STAMP)
	$(PY) -m pytest -q -n 2 $(E2E)

## The rp2 tier: the firmware on MicroPython's real rp2 port in an emulated RP2040 (rp2040py).
# UF2: MicroPython for the Raspberry Pi Pico (RPI_PICO, 1.24.1 or 1.26.1, from micropython.org).
# Without it the tier says where to get one and skips (exit 0). One emulator at a time: it
# is CPU-bound (a few minutes in all).
UF2 ?=
# UF2_W: MicroPython for the Raspberry Pi Pico W (RPI_PICO_W, 1.26.1), for the web remote's
# board (tests/rp2tier/test_pico_w.py); without it that test skips, saying where to get one.
UF2_W ?=

test-rp2: $(STAMP)
	mkdir -p build
	HEADROOM_UF2_W="$(UF2_W)" $(PY) -m pytest -q tests/rp2tier --uf2="$(UF2)" $(if $(K),-k "$(K)")

## Cost-model figures for the desktop simulator, measured on the emulated board (JSON).
calibrate-rp2: $(STAMP)
	@test -n "$(UF2)" || { echo "make calibrate-rp2 UF2=FILE: MicroPython's RPI_PICO UF2 (1.24.1 or 1.26.1), from https://micropython.org/download/RPI_PICO/"; exit 2; }
	mkdir -p build/rp2tier
	$(PY) -m headroom.rp2tier.calibrate "$(UF2)" > build/rp2tier/calibration.json
	cat build/rp2tier/calibration.json

## The emulated RP2040 against published real-Pico figures (JSON, and the table).
realpico-rp2: $(STAMP)
	@test -n "$(UF2)" || { echo "make realpico-rp2 UF2=FILE: MicroPython's RPI_PICO UF2 (1.24.1 or 1.26.1)"; exit 2; }
	mkdir -p build/rp2tier
	$(PY) -m headroom.rp2tier.realpico "$(UF2)" > build/rp2tier/realpico.json
	$(PY) -m headroom.rp2tier.realpico --table build/rp2tier/realpico.json

## mypy of firmware/ against the rp2 port's stubs, and ruff on all Python.
lint: $(STAMP)
	$(PY) -m headroom.lint

## Longer property runs: more examples, random seeds; the tests that take a minute of
## wall time (an mpremote session held a minute on the virtual board; `pip install
## ./host_tools` into a fresh venv and `headroom` run from outside the checkout).
test-long: $(STAMP)
	HYPOTHESIS_PROFILE=long $(PY) -m pytest -q tests/test_properties.py
	HEADROOM_LONG=1 $(PY) -m pytest -q tests/test_vboard.py -k plain_mpremote_session
	HEADROOM_LONG=1 $(PY) -m pytest -q tests/test_install.py -k pip_install

## The long runs of every safety check, and their table (docs/reliability.md):
## make reliability [EXAMPLES=100] [FUZZ=3000] [SAVES=200] [MISREADS=300]
# First every conformance case on all three legs (make test runs the .mpy leg on the
# golden cases only, and 6 of the 40 random scripts per board).
EXAMPLES ?= 100
FUZZ ?= 3000
SAVES ?= 200
MISREADS ?= 300
reliability: $(STAMP)
	mkdir -p build
	HEADROOM_CONFORMANCE=all $(PY) -m pytest -q -n 2 tests/test_conformance.py
	$(PY) -m headroom.reliability --examples $(EXAMPLES) --fuzz $(FUZZ) --saves $(SAVES) --misreads $(MISREADS) --json build/reliability.json

## Re-record the expected traces of the scenario files after an intended change.
golden: $(STAMP)
	$(PY) -m headroom.sim.golden --update

## Compile every firmware file with mpy-cross into build/mpy.
mpy: $(STAMP)
	$(PY) -m headroom.mpy build/mpy

## Write firmware/package.json (for mpremote mip install) from the firmware's files.
package: $(STAMP)
	$(PY) -m headroom.mpy --package

## Benchmarks on the MicroPython VM at a Pico's heap size: heap, allocations, CPU, flash writes.
bench: $(STAMP)
	$(PY) -m headroom.bench $(BOARD)

## Flash a Pico: make flash BOARD=boards/pico-se.json [PORT=/dev/ttyACM0]
flash: $(STAMP)
	$(PY) -m headroom flash --board $(BOARD) $(if $(PORT),--port $(PORT))

## One UF2 to drag onto a Pico in BOOTSEL mode (a first install: it erases a board's
## settings): make uf2 MICROPYTHON=RPI_PICO-....uf2 [BOARD=...] [OUT=file.uf2]
MICROPYTHON ?=
uf2: $(STAMP)
	@test -n "$(MICROPYTHON)" || { echo "make uf2 MICROPYTHON=FILE: MicroPython's RPI_PICO UF2 (1.24.x to 1.26.x), from https://micropython.org/download/RPI_PICO/"; exit 2; }
	$(PY) -m headroom uf2 --micropython "$(MICROPYTHON)" --board $(BOARD) $(if $(OUT),-o "$(OUT)")

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
