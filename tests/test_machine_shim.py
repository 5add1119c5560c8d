"""The simulated `machine` module: Pin, SPI, WDT, and its conformance to the rp2 stubs."""
import ast
import inspect
import os
import sysconfig

import machine
import micropython
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim import world
from headroom.sim.models.pga2311 import PGA2311Chain
from headroom.sim.shims import machine as shim
from headroom.sim.world import MCU_BOOT_US, SimFault

from simkit import bare_sim, records

Pin = machine.Pin


def test_machine_is_the_shim():
    assert machine is shim
    assert micropython.schedule.__module__ == "headroom.sim.cpython_micropython"


# ======================================================================== Pin

def test_same_gpio_number_is_the_same_pin(sim):
    a = Pin(5, Pin.OUT, value=0)
    b = Pin(5)
    c = Pin("GP5")
    assert a == b == c and hash(a) == hash(c)
    a.value(1)
    assert b.value() == 1 and c() == 1
    b.off()
    assert a.value() == 0
    assert sim.gpio[5].mode == Pin.OUT  # b never set a mode: the state lives on the GPIO


def test_init_without_pull_clears_the_pull_and_keeps_the_mode(sim):
    p = Pin(6, Pin.IN, Pin.PULL_UP)
    assert sim.gpio[6].pull == Pin.PULL_UP and p.value() == 1
    Pin(6)                                     # no arguments: nothing changes
    assert sim.gpio[6].pull == Pin.PULL_UP
    p.init(Pin.IN)                             # rp2: pull left out means no pull
    assert sim.gpio[6].pull is None
    with pytest.raises(SimFault, match="floating"):
        p.value()
    p.init(pull=Pin.PULL_DOWN)                 # mode left out stays
    assert sim.gpio[6].mode == Pin.IN and p.value() == 0


@pytest.mark.parametrize("call", [
    lambda: Pin(7, Pin.OUT, drive=1),
    lambda: Pin(7).mode(),
    lambda: Pin(7).pull(),
    lambda: Pin(7, Pin.IN, Pin.PULL_UP).irq(lambda p: None, priority=2),
    lambda: Pin(7, Pin.IN, Pin.PULL_UP).irq(lambda p: None, wake=1),
])
def test_what_the_rp2_pin_does_not_have_is_refused(sim, call):
    with pytest.raises((TypeError, AttributeError)):
        call()


def test_pin_from_pin_object_and_names(sim):
    assert Pin(Pin(7)).id == 7
    assert Pin("LED").id == 25
    with pytest.raises(ValueError):
        Pin(30)
    with pytest.raises(ValueError):
        Pin("D5")


def test_output_readback(sim):
    p = Pin(3, Pin.OUT, value=1)
    assert p.value() == 1
    p.off()
    assert p() == 0
    p.on()
    assert p.value() == 1
    p.toggle()
    assert p.value() == 0
    p.high()
    assert p.value() == 1
    p.low()
    assert p.value() == 0
    p(1)
    assert sim.gpio[3].level == 1


def test_output_changes_are_traced(sim):
    p = Pin(3, Pin.OUT, value=0)
    p.value(1)
    p.value(1)  # no change, no record
    p.value(0)
    assert [r["level"] for r in records(sim, "pin", pin=3)] == [0, 1, 0]


def test_input_with_pull_up_reads_1(sim):
    assert Pin(6, Pin.IN, Pin.PULL_UP).value() == 1


def test_input_with_pull_down_reads_0(sim):
    assert Pin(6, Pin.IN, Pin.PULL_DOWN).value() == 0


def test_floating_input_read_is_a_fault(sim):
    p = Pin(7, Pin.IN)
    with pytest.raises(SimFault, match="GP7 read while floating"):
        p.value()
    assert records(sim, "fault")[-1]["message"].startswith("GP7 read while floating")
    assert sim.faults and "GP7" in sim.faults[-1][1]


def test_closed_contact_reads_0(sim):
    p = Pin(6, Pin.IN, Pin.PULL_UP)
    sim.gpio[6].drive("x", 0)
    assert p.value() == 0
    sim.gpio[6].drive("x", None)
    assert p.value() == 1


def test_output_fighting_an_external_driver_is_a_fault(sim):
    sim.gpio[6].drive("x", 0)
    with pytest.raises(SimFault, match="short circuit"):
        Pin(6, Pin.OUT, value=1)


def _edges(trigger, hard=True):
    """Drive GP6 through falling, rising, falling, rising; return the handler's calls."""
    calls = []
    p = Pin(6, Pin.IN, Pin.PULL_UP)
    p.irq(lambda pin: calls.append((pin, pin.value())), trigger, hard=hard)
    g = world.running.gpio[6]
    for lv in (0, None, 0, None):
        g.drive("x", lv)
    return calls


def test_hard_irq_rising():
    bare_sim()
    calls = _edges(Pin.IRQ_RISING)
    assert Pin.IRQ_RISING == 8
    assert calls == [(Pin(6), 1), (Pin(6), 1)]


def test_hard_irq_falling():
    bare_sim()
    calls = _edges(Pin.IRQ_FALLING)
    assert Pin.IRQ_FALLING == 4
    assert calls == [(Pin(6), 0), (Pin(6), 0)]


def test_hard_irq_both_edges():
    bare_sim()
    calls = _edges(Pin.IRQ_FALLING | Pin.IRQ_RISING)
    assert [v for _, v in calls] == [0, 1, 0, 1]


def test_irq_removed_with_none_handler(sim):
    calls = []
    p = Pin(6, Pin.IN, Pin.PULL_UP)
    p.irq(calls.append, Pin.IRQ_FALLING, hard=True)
    p.irq(None)
    sim.gpio[6].drive("x", 0)
    assert calls == []


def test_irq_bad_trigger(sim):
    with pytest.raises(ValueError):
        Pin(6, Pin.IN, Pin.PULL_UP).irq(lambda p: None, 16)


def test_output_edges_trigger_irq_too(sim):
    calls = []
    p = Pin(4, Pin.OUT, value=0)
    p.irq(calls.append, Pin.IRQ_RISING, hard=True)
    p.value(1)
    assert calls == [Pin(4)]


def test_soft_irq_is_scheduled_and_runs_later(sim):
    calls = []
    p = Pin(6, Pin.IN, Pin.PULL_UP)
    p.irq(lambda pin: calls.append((sim.now(), pin)), Pin.IRQ_FALLING)  # hard=False
    seen_in_event = []

    def press(_):
        sim.gpio[6].drive("x", 0)
        seen_in_event.append((list(calls), len(sim.scheduled)))

    sim.clock.after(1000, press)
    sim.run_for(5000)
    assert seen_in_event == [([], 1)]       # not run inside the edge: queued
    assert calls == [(1000, Pin(6))]        # run right after that event, on the virtual clock
    assert sim.scheduled == []


def test_soft_irq_waits_while_the_mcu_is_not_running_python():
    sim = bare_sim(app=False)
    calls = []
    Pin(6, Pin.IN, Pin.PULL_UP).irq(calls.append, Pin.IRQ_FALLING)
    sim.clock.after(10, lambda _: sim.gpio[6].drive("x", 0))
    sim.run_for(100)
    assert calls == [] and len(sim.scheduled) == 1


def test_schedule_queue_full_raises(sim):
    ran = []
    assert sim.schedule_depth == 8  # MICROPY_SCHEDULER_DEPTH on rp2
    for i in range(8):
        micropython.schedule(ran.append, i)
    with pytest.raises(RuntimeError, match="schedule queue full"):
        micropython.schedule(ran.append, 99)
    sim.clock.after(10, lambda _: None)
    sim.run_for(100)
    assert ran == list(range(8))
    micropython.schedule(ran.append, 8)  # room again


def test_soft_irq_with_full_queue_is_dropped_not_raised(sim):
    for i in range(sim.schedule_depth):
        micropython.schedule(lambda a: None, i)
    calls = []
    Pin(6, Pin.IN, Pin.PULL_UP).irq(calls.append, Pin.IRQ_FALLING)
    sim.gpio[6].drive("x", 0)  # must not raise into whatever drove the pin
    assert len(sim.scheduled) == sim.schedule_depth


def test_disable_irq_defers_until_enable(sim):
    calls = []
    Pin(6, Pin.IN, Pin.PULL_UP).irq(calls.append, Pin.IRQ_FALLING, hard=True)
    state = machine.disable_irq()
    sim.gpio[6].drive("x", 0)
    assert calls == []
    machine.enable_irq(state)
    assert calls == [Pin(6)]


def test_nested_disable_irq(sim):
    calls = []
    Pin(6, Pin.IN, Pin.PULL_UP).irq(calls.append, Pin.IRQ_FALLING, hard=True)
    s1 = machine.disable_irq()
    s2 = machine.disable_irq()
    sim.gpio[6].drive("x", 0)
    machine.enable_irq(s2)
    assert calls == []          # still inside the outer critical section
    machine.enable_irq(s1)
    assert calls == [Pin(6)]


def test_pending_edges_of_one_pin_coalesce(sim):
    calls = []
    Pin(6, Pin.IN, Pin.PULL_UP).irq(calls.append, Pin.IRQ_FALLING, hard=True)
    st_ = machine.disable_irq()
    for lv in (0, None, 0):
        sim.gpio[6].drive("x", lv)
    machine.enable_irq(st_)
    assert calls == [Pin(6)]    # one interrupt flag per pin, as on the RP2040


def test_pending_irq_after_handler_removed(sim):
    p = Pin(6, Pin.IN, Pin.PULL_UP)
    p.irq(lambda pin: None, Pin.IRQ_FALLING, hard=True)
    s = machine.disable_irq()
    sim.gpio[6].drive("x", 0)
    p.irq(None)
    machine.enable_irq(s)
    sim.clock.after(10, lambda _: None)
    sim.run_for(100)   # TypeError: 'NoneType' object is not callable, from run_scheduled
    assert sim.scheduled == []


# ======================================================================== SPI

ROLE = {"sck": 2, "mosi": 3, "miso": 0}


@pytest.mark.parametrize("spi_id", [0, 1])
@pytest.mark.parametrize("role", ["sck", "mosi", "miso"])
def test_spi_pin_validation(spi_id, role):
    for n in range(world.N_GPIO):
        bare_sim()
        ok = (n & 3) == ROLE[role] and (n >> 3) & 1 == spi_id
        if ok:
            s = machine.SPI(spi_id, **{role: Pin(n)})
            assert getattr(s, role) == n
        else:
            with pytest.raises(ValueError, match="bad %s pin" % role.upper()):
                machine.SPI(spi_id, **{role: n})


def test_spi0_sck_pins_are_2_6_18_22():
    good = []
    for n in range(world.N_GPIO):
        bare_sim()
        try:
            machine.SPI(0, sck=n)
            good.append(n)
        except ValueError:
            pass
    assert good == [2, 6, 18, 22]


def test_spi_default_pins():
    bare_sim()
    s0 = machine.SPI(0)
    assert (s0.sck, s0.mosi, s0.miso) == (18, 19, 16)
    bare_sim()
    s1 = machine.SPI(1)
    assert (s1.sck, s1.mosi, s1.miso) == (10, 11, 8)


def test_spi_bad_id():
    bare_sim()
    with pytest.raises(ValueError):
        machine.SPI(2)


def test_spi_lsb_first_not_implemented(sim):
    with pytest.raises(NotImplementedError):
        machine.SPI(0, firstbit=machine.SPI.LSB)


# clk_peri is 48 MHz since MicroPython 1.24 (ports/rp2: clocks from the USB PLL): 1 MHz
# is exact there, where 125 MHz gave 992,063 Hz; the PGA2311's 6.25 MHz becomes 6 MHz.
@pytest.mark.parametrize("want,got", [
    (1000000, 1000000),
    (6250000, 6000000),
    (6500000, 6000000),
    (8000000, 8000000),
    (10000000, 8000000),
    (2000000, 2000000),
    (400000, 400000),
    (62500000, 24000000),
    (50000000, 24000000),
    (7000000, 6000000),
])
def test_spi_actual_baudrate(sim, want, got):
    s = machine.SPI(0, want)
    assert s.baudrate == got
    assert "baudrate=%d" % got in repr(s)


@given(st.integers(93750, 62500000))
def test_spi_actual_baudrate_never_above_request(want):
    got = shim._spi_baudrate(want)
    assert 0 < got <= want
    # from 93,750 Hz up the prescaler is 2: the best 48 MHz/(2*n) not above the request
    best = max([48000000 // (2 * n) for n in range(1, 257) if 48000000 // (2 * n) <= want])
    assert got == best


def test_spi_miso_none_takes_the_default_pin_before_1_25_and_none_after(sim):
    assert machine.SPI(0, miso=None).miso == 16          # 1.24.1, the rp2 tier's UF2
    assert sim.spi_pins[16] == (0, "MISO")
    sim.spi_pins.clear()
    sim.micropython = (1, 25, 0)
    s = machine.SPI(0, miso=None)
    assert s.miso is None and 16 not in sim.spi_pins and repr(s).endswith("miso=None)")
    assert machine.SPI(1).miso == 8                     # left out: the default pin


# ====================================================== Timer, by release

def test_timer_hard_is_refused_before_1_26_and_soft_is_the_default(sim):
    with pytest.raises(TypeError):                        # 1.24.1: no such keyword
        machine.Timer(mode=machine.Timer.ONE_SHOT, period=1, callback=print, hard=False)
    seen = []
    machine.Timer(mode=machine.Timer.ONE_SHOT, period=1, callback=seen.append)
    sim.run_for(1000)
    assert len(seen) == 1 and not sim.in_irq and sim.scheduled == []   # it was scheduled


def test_timer_hard_callback_runs_in_the_interrupt_from_1_26(sim):
    sim.micropython = (1, 26, 1)
    seen = []
    t = machine.Timer(mode=machine.Timer.PERIODIC, period=2,
                      callback=lambda tm: seen.append((sim.now(), sim.in_irq)), hard=True)
    t0 = sim.now()
    sim.run_for(5000)
    t.deinit()
    assert [(at - t0, irq) for at, irq in seen] == [(2000, True), (4000, True)]
    assert sim.scheduled == []                            # nothing went through schedule


def test_timer_hard_callback_that_raises_is_dropped_and_the_program_goes_on(sim):
    sim.micropython = (1, 26, 1)
    calls = []

    def cb(t):
        calls.append(sim.now())
        raise ValueError("boom")
    t = machine.Timer(mode=machine.Timer.PERIODIC, period=1, callback=cb, hard=True)
    sim.run_for(3500)
    t.deinit()
    assert len(calls) == 1 and isinstance(sim.irq_exceptions[0][2], ValueError)


@pytest.mark.parametrize("want", [100000, 150000, 200000, 10000])
def test_spi_slow_baudrate_never_above_request(want):
    got = shim._spi_baudrate(want)
    assert got <= want


def test_spi_init_keeps_what_it_is_not_given(sim):
    s = machine.SPI(0, 4000000, polarity=1, phase=1)
    s.init(bits=8)
    assert s.baudrate == 4000000
    assert (s.polarity, s.phase) == (1, 1)


def test_spi_claiming_an_output_as_miso_is_a_fault(sim):
    Pin(16, Pin.OUT, value=0)
    with pytest.raises(SimFault, match="GP16 was configured as an output; SPI0 took it as MISO"):
        machine.SPI(0)


def test_spi_write_without_chip_select_is_a_fault_and_traced(sim):
    sim.add_part(PGA2311Chain(sim, 0, 17, 20, 21, 1))
    Pin(17, Pin.OUT, value=1)
    s = machine.SPI(0, 1000000)
    with pytest.raises(SimFault, match="no chip select low"):
        s.write(b"\x12\x34")
    rec = records(sim, "spi")[-1]
    assert rec["cs"] is None
    assert rec["data"] == "1234"
    assert rec["bus"] == 0 and rec["baudrate"] == 1000000


def test_spi_write_after_pin_taken_back_is_a_fault(sim):
    sim.add_part(PGA2311Chain(sim, 0, 17, 20, 21, 1))
    cs = Pin(17, Pin.OUT, value=1)
    s = machine.SPI(0)
    Pin(19, Pin.OUT, value=0)   # MOSI back to GPIO
    cs(0)
    with pytest.raises(SimFault, match="MOSI GP19 is no longer an SPI pin"):
        s.write(b"\x00")


def test_spi_write_readinto_length_mismatch(sim):
    s = machine.SPI(0)
    with pytest.raises(ValueError):
        s.write_readinto(b"\x00\x00", bytearray(1))


# ======================================================================== I2C

def test_i2c_scan_of_an_empty_bus(sim):
    assert machine.I2C(0).scan() == []


def test_i2c_no_device_is_eio(sim):
    with pytest.raises(OSError):
        machine.I2C(0).writeto(0x3C, b"\x00")


class _Reg:
    """An I2C chip that echoes its register pointer."""

    def __init__(self):
        self.got = []

    def i2c_write(self, data):
        self.got.append(bytes(data))

    def i2c_read(self, n):
        return bytes([self.got[-1][0]]) * n


def test_observers_see_the_bus_and_pin_traffic_the_chips_get(sim):
    """world.Sim.observe: what goes over SPI and I2C and what the MCU drives, seen without
    touching a chip; unobserve stops it."""
    seen = []
    sim.add_part(PGA2311Chain(sim, 0, 17, 20, 21, 1))
    chip = _Reg()
    sim.add_i2c_device(0, 0x4C, chip)
    for kind in ("spi", "i2c", "pin"):
        sim.observe(kind, lambda *a, k=kind: seen.append((k,) + a))
    cs = Pin(17, Pin.OUT, value=1)
    spi = machine.SPI(0)
    cs(0)
    spi.write(b"\x12\x34")
    i2c = machine.I2C(0)
    i2c.writeto_mem(0x4C, 0x03, b"\x11")
    assert i2c.readfrom_mem(0x4C, 0x05, 1) == b"\x05"
    assert chip.got == [b"\x03\x11", b"\x05"]
    assert seen == [("pin", 17, 1), ("pin", 17, 0), ("spi", 0, 17, b"\x12\x34", b"\x00\x00"),
                    ("i2c", 0, 0x4C, "write", b"\x03\x11"), ("i2c", 0, 0x4C, "write", b"\x05"),
                    ("i2c", 0, 0x4C, "read", b"\x05")]
    sim.unobserve("pin", sim.pin_observers[0])
    cs(1)
    assert seen[-1][0] == "i2c"


def test_i2c_writevto_is_one_transaction_charged_for_all_its_bytes():
    """micropython-lib's ssd1306 sends its frame as writevto(addr, [b"\x40", buf]): the
    chip gets one write, the bytes joined, and the wire time is that of writeto."""
    from headroom.sim.cost import CostModel

    from simkit import bare_sim
    s = bare_sim(cost=CostModel())
    s.in_firmware = True
    chip = _Reg()
    s.add_i2c_device(0, 0x3C, chip)
    i2c = machine.I2C(0, freq=400000)
    t0 = s.now()
    assert i2c.writevto(0x3C, [b"\x40", bytearray(b"\x01\x02"), memoryview(b"\x03")]) == 4
    t1 = s.now()
    i2c.writeto(0x3C, b"\x40\x01\x02\x03")
    assert chip.got == [b"\x40\x01\x02\x03"] * 2
    assert t1 - t0 == s.now() - t1 > 0


# ======================================================================== WDT

def test_wdt_timeout_limit(sim):
    with pytest.raises(ValueError):
        machine.WDT(timeout=8389)
    machine.WDT(timeout=8388)


class _FeedingApp:
    waker = None

    def __init__(self, timeout_ms):
        self.wdt = machine.WDT(timeout=timeout_ms)
        self.feeding = True
        self.steps = 0

    def step(self):
        self.steps += 1
        if self.feeding:
            self.wdt.feed()
        return 10


def _wdt_board(timeout_ms=100):
    sim = bare_sim(powered=False)
    apps = []
    sim.firmware = lambda s: apps.append(_FeedingApp(timeout_ms)) or apps[-1]
    sim.power(True)
    sim.run_for(MCU_BOOT_US + 1000)
    assert len(apps) == 1
    return sim, apps


def test_wdt_fed_keeps_the_board_running():
    sim, apps = _wdt_board()
    sim.run_for(1000000)
    assert sim.resets == 0 and len(apps) == 1
    assert apps[0].steps > 90
    assert machine.reset_cause() == machine.PWRON_RESET


def test_wdt_not_fed_resets_the_board():
    sim, apps = _wdt_board(100)
    sim.run_for(200000)
    apps[0].feeding = False
    t_stop = sim.now()
    sim.run_for(90000)
    assert sim.resets == 0
    sim.run_for(20000)
    assert sim.resets == 1
    reset = records(sim, "reset")
    assert [r["cause"] for r in reset] == ["watchdog"]
    assert t_stop < reset[0]["t_us"] <= t_stop + 100000
    assert sim.app is None and not sim.mcu_powered
    sim.run_for(MCU_BOOT_US + 1000)
    assert len(apps) == 2 and sim.app is apps[1]   # main.py started again
    assert machine.reset_cause() == machine.WDT_RESET


def test_ticks_restart_from_zero_at_every_reset():
    import time
    sim, apps = _wdt_board(100)
    assert MCU_BOOT_US // 1000 <= time.ticks_ms() <= MCU_BOOT_US // 1000 + 1
    sim.run_for(5000000)
    assert time.ticks_ms() >= 5000
    apps[0].feeding = False
    sim.run_for(110000 + MCU_BOOT_US + 1000)                  # the watchdog resets the MCU
    assert len(apps) == 2
    assert time.ticks_ms() <= 100 + MCU_BOOT_US // 1000 + 2   # counted from the reset
    t = time.ticks_us()
    sim.power(False)
    sim.run_for(1000000)
    sim.power(True)
    sim.run_for(MCU_BOOT_US + 1000)
    assert time.ticks_us() <= MCU_BOOT_US + 1000 < t          # and from the power-on


def test_firmware_that_stops_feeding_is_reset_by_the_watchdog():
    from helpers import booted
    b = booted(ms=3000)
    sim = b.sim
    assert sim.resets == 0 and sim.app is not None
    timeout_ms = sim.wdt_timeout_ms
    assert 0 < timeout_ms <= 8388
    b.app.wdt.feed = lambda: None            # main loop keeps running, stops feeding
    expiry = sim.wdt_event.t_us - sim.clock.origin_us
    assert sim.now() < expiry <= sim.now() + timeout_ms * 1000
    # A pass running when the time-out falls due may carry the clock past it (its calls
    # cost time): the reset is checked at its recorded time, not by stopping just before.
    sim.run_until(expiry + 100)
    assert sim.resets == 1
    reset = records(sim, "reset")[-1]
    assert reset["cause"] == "watchdog" and reset["t_us"] == expiry
    b.run_ms(3000)                            # boots again and feeds again
    assert sim.app is not None and sim.resets == 1


def test_reset_cause_after_power_cycle():
    sim, apps = _wdt_board(100)
    apps[0].feeding = False
    sim.run_for(200000)
    assert sim.resets == 1
    sim.power(False)
    sim.run_for(1000)
    sim.power(True)
    sim.run_for(MCU_BOOT_US + 1000)
    assert machine.reset_cause() == machine.PWRON_RESET


def test_machine_reset_restarts_the_mcu():
    sim, apps = _wdt_board()
    with pytest.raises(world.PowerLost):
        machine.reset()
    assert records(sim, "reset")[-1]["cause"] == "machine.reset"
    sim.run_for(MCU_BOOT_US + 1000)
    assert len(apps) == 2


# The RP2040's WATCHDOG_CTRL through machine.mem32: the one register the simulator models
# (headroom_fw/watchdog.py clears its ENABLE bit; rp2's WDT has no way to stop).
_CTRL, _ENABLE = 0x40058000, 1 << 30


def test_wdt_id_other_than_0_is_refused(sim):
    with pytest.raises(ValueError, match="WDT.1. doesn't exist"):
        machine.WDT(1, timeout=100)


def test_mem32_models_watchdog_ctrl_and_refuses_anything_else(sim):
    assert machine.mem32[_CTRL] == 0x07000000        # reset value: PAUSE_* set, off
    with pytest.raises(world.SimFault, match="WATCHDOG_CTRL"):
        machine.mem32[0x40014000] = 1                 # IO_BANK0: not modelled, loudly
    with pytest.raises(world.SimFault, match="WATCHDOG_CTRL"):
        machine.mem32[0x40058004]                     # LOAD neither
    with pytest.raises(ValueError, match="aligned"):
        machine.mem32[_CTRL + 2]
    with pytest.raises(world.SimFault, match="nothing loaded"):
        machine.mem32[_CTRL + 0x2000] = _ENABLE       # enabled without machine.WDT()


def test_clearing_enable_stops_the_watchdog_and_feed_does_not_start_it():
    sim, apps = _wdt_board(100)
    ctrl = machine.mem32[_CTRL]
    assert ctrl & _ENABLE and ctrl & 0x07000000 == 0  # watchdog_enable(t, false)
    assert 0 < ctrl & 0xFFFFFF <= 200000              # TIME: 2 counts per µs left
    machine.mem32[_CTRL + 0x3000] = _ENABLE           # the atomic clear alias
    assert not machine.mem32[_CTRL] & _ENABLE
    sim.run_for(1000000)                              # still fed: feed() reloads only
    apps[0].feeding = False
    sim.run_for(10000000)
    assert sim.resets == 0 and sim.wdt_event is None
    machine.WDT(timeout=100)                          # a new WDT enables it again
    sim.run_for(110000)
    assert sim.resets == 1
    assert not machine.mem32[_CTRL] & _ENABLE         # a reset leaves it off


def test_a_stopped_count_goes_on_from_where_it_stood():
    sim, apps = _wdt_board(100)
    apps[0].feeding = False
    sim.run_for(60000)
    machine.mem32[_CTRL] = machine.mem32[_CTRL] & ~_ENABLE   # read, modify, write
    sim.run_for(1000000)
    machine.mem32[_CTRL + 0x2000] = _ENABLE                   # the set alias
    sim.run_for(35000)
    assert sim.resets == 0
    sim.run_for(10000)
    assert sim.resets == 1


def test_trigger_resets_at_once():
    sim, apps = _wdt_board(100)
    with pytest.raises(world.PowerLost):
        machine.mem32[_CTRL + 0x2000] = 1 << 31
    assert records(sim, "reset")[-1]["cause"] == "watchdog"


def test_the_watchdog_counts_across_a_soft_reset():
    """rp2's soft reset (main.c) leaves the watchdog alone: with nothing to stop it
    (no boot.py), the raw REPL is reset the timeout after the last feed."""
    sim, apps = _wdt_board(100)
    sim.run_for(50000)
    apps[0].feeding = False
    t = sim.now()
    sim.soft_reset(main=False)
    sim.run_for(200000)
    reset = records(sim, "reset", cause="watchdog")
    assert len(reset) == 1 and t < reset[0]["t_us"] <= t + 100000


def test_a_soft_reset_snapshot_carries_the_watchdog():
    """The virtual board starts a new VM at a soft reset: the watchdog's state goes with
    the pins (snapshot/restore)."""
    sim, apps = _wdt_board(100)
    apps[0].feeding = False
    snap = sim.snapshot()
    sim2 = bare_sim(powered=True)
    sim2.restore(snap)
    assert machine.mem32[_CTRL] & _ENABLE
    sim2.run_for(110000)
    assert sim2.resets == 1
    sim.cpu_enter()
    machine.mem32[_CTRL + 0x3000] = _ENABLE
    sim3 = bare_sim(powered=True)
    sim3.restore(sim.snapshot())
    assert not machine.mem32[_CTRL] & _ENABLE and sim3.wdt_event is None


# ======================================================================== stubs

STUB = os.path.join(sysconfig.get_paths()["purelib"], "machine.pyi")


def _stub_tree():
    with open(STUB) as f:
        return ast.parse(f.read())


_TREE = _stub_tree() if os.path.exists(STUB) else None
CLASSES = ["Pin", "SPI", "I2C", "Timer", "WDT", "I2S"]


def _stub_class(name):
    for node in _TREE.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise AssertionError("stub has no class %s" % name)


def _stub_functions(body):
    """name -> list of FunctionDef (every @overload variant)."""
    out = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.setdefault(node.name, []).append(node)
    return out


def _stub_constants(cls):
    out = {}
    for node in cls.body:
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and node.value is not None and "Final" in ast.unparse(node.annotation)):
            out[node.target.id] = ast.literal_eval(node.value)
    return out


def _accepts(fdef, param, index):
    """Does the stub signature `fdef` accept our parameter (name, kind, position)?"""
    a = fdef.args
    positional = [x.arg for x in a.posonlyargs + a.args]
    keyword = [x.arg for x in a.args + a.kwonlyargs]
    if param.kind == inspect.Parameter.KEYWORD_ONLY:
        return param.name in keyword or a.kwarg is not None
    # positional-or-keyword: the stub must know the name, or take that position
    if param.name in positional or param.name in keyword:
        return True
    return a.vararg is not None or index < len(positional)


def _our_methods(cls):
    for name, fn in vars(cls).items():
        if not inspect.isfunction(fn):
            continue
        if name.startswith("_") and name not in ("__init__", "__call__"):
            continue
        yield name, fn


def _check_params(fn, variants, where):
    """Problems with our function's parameters: each must be accepted by some stub variant."""
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    problems = []
    for i, p in enumerate(params):
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        ok = False
        for v in variants:
            pos = v.args.posonlyargs + v.args.args
            stub_self = 1 if pos and pos[0].arg == "self" else 0
            if _accepts(v, p, i + stub_self):
                ok = True
                break
        if not ok:
            problems.append("%s: parameter %r (%s) is in no stub overload"
                            % (where, p.name, p.kind.description))
    return problems


needs_stub = pytest.mark.skipif(_TREE is None, reason="micropython-rp2 stubs not installed")


@needs_stub
@pytest.mark.parametrize("clsname", CLASSES)
def test_shim_methods_exist_in_stub(clsname):
    stub = _stub_functions(_stub_class(clsname).body)
    ours = dict(_our_methods(getattr(shim, clsname)))
    assert ours, clsname
    missing = sorted(set(ours) - set(stub))
    assert missing == [], "%s methods not in the rp2 stub: %s" % (clsname, missing)


@needs_stub
@pytest.mark.parametrize("clsname", CLASSES)
def test_shim_parameters_accepted_by_stub(clsname):
    stub = _stub_functions(_stub_class(clsname).body)
    problems = []
    for name, fn in _our_methods(getattr(shim, clsname)):
        if name in stub:
            problems += _check_params(fn, stub[name], "%s.%s" % (clsname, name))
    assert problems == []


@needs_stub
@pytest.mark.parametrize("clsname,const", [
    ("Pin", "IN"), ("Pin", "OUT"), ("Pin", "OPEN_DRAIN"), ("Pin", "PULL_UP"),
    ("Pin", "PULL_DOWN"), ("Pin", "IRQ_RISING"), ("Pin", "IRQ_FALLING"),
    ("SPI", "MSB"), ("SPI", "LSB"),
    ("Timer", "ONE_SHOT"), ("Timer", "PERIODIC"),
    ("I2S", "RX"), ("I2S", "TX"), ("I2S", "MONO"), ("I2S", "STEREO"),
])
def test_constants_match_stub(clsname, const):
    stub = _stub_constants(_stub_class(clsname))
    assert const in stub
    assert getattr(getattr(shim, clsname), const) == stub[const]


@needs_stub
@pytest.mark.parametrize("clsname", CLASSES)
def test_every_shim_constant_the_stub_defines_matches(clsname):
    stub = _stub_constants(_stub_class(clsname))
    ours = {k: v for k, v in vars(getattr(shim, clsname)).items()
            if k.isupper() and isinstance(v, int)}
    wrong = {k: (v, stub[k]) for k, v in ours.items() if k in stub and stub[k] != v}
    assert wrong == {}


@needs_stub
def test_module_constants_match_stub():
    consts = {}
    for node in _TREE.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.target, ast.Name):
            consts[node.target.id] = node.value.value
    assert shim.PWRON_RESET == consts["PWRON_RESET"]
    assert shim.WDT_RESET == consts["WDT_RESET"]


@needs_stub
@pytest.mark.parametrize("fname", ["disable_irq", "enable_irq", "reset", "reset_cause", "freq",
                                   "unique_id", "idle"])
def test_module_functions_exist_in_stub(fname):
    stub = _stub_functions(_TREE.body)
    assert fname in stub
    assert callable(getattr(shim, fname))
    assert _check_params(getattr(shim, fname), stub[fname], fname) == []


@needs_stub
def test_every_public_shim_function_is_in_stub():
    stub = _stub_functions(_TREE.body)
    ours = [n for n, f in vars(shim).items()
            if inspect.isfunction(f) and not n.startswith("_") and f.__module__ == shim.__name__]
    assert sorted(set(ours) - set(stub)) == []
    problems = []
    for n in ours:
        problems += _check_params(getattr(shim, n), stub[n], n)
    assert problems == []


def test_conformance_checker_catches_a_wrong_name():
    """The checker itself must be able to fail."""
    if _TREE is None:
        pytest.skip("no stubs")
    stub = _stub_functions(_stub_class("SPI").body)

    def write(self, buffer):  # the stub calls it `buf`, positional-only
        pass

    def init(self, baudrate=1, *, clock=0):
        pass

    assert _check_params(write, stub["write"], "SPI.write") == []   # positional: position ok
    assert _check_params(init, stub["init"], "SPI.init") != []      # keyword `clock` unknown


# ======================================================================== MCU power life cycle

class _Idle:
    waker = None

    def step(self):
        return 10


def test_mcu_boots_the_boot_time_after_power_on():
    sim = bare_sim(powered=False)
    sim.firmware = lambda s: _Idle()
    sim.power(True)
    sim.run_for(MCU_BOOT_US - 1)
    assert not sim.mcu_powered and sim.app is None
    sim.run_for(1)
    assert sim.mcu_powered and isinstance(sim.app, _Idle)
    assert [r["t_us"] for r in records(sim, "boot")] == [MCU_BOOT_US]


def test_boot_time_counts_from_the_last_power_on():
    sim = bare_sim(powered=False)
    sim.firmware = lambda s: _Idle()
    sim.power(True)
    sim.run_for(50000)
    sim.power(False)
    sim.run_for(10000)
    sim.power(True)
    sim.run_for(MCU_BOOT_US - 1)
    assert not sim.mcu_powered
    sim.run_for(1)
    assert [r["t_us"] for r in records(sim, "boot")] == [60000 + MCU_BOOT_US]
