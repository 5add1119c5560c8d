"""The trace checker's rules (headroom.sim.invariants) on short hand-made traces: each
rule refuses a trace that breaks it and lets the same trace, mended, through."""
import json

from headroom.sim.invariants import Checker
from headroom_fw import board as boardfile

from helpers import SE, board_variant, until_playing

B = boardfile.load(SE)
XSMT, PGA_MUTE, MUTE_RELAY = B.dac_xsmt, B.pga_mute, B.mute_relay.pin
HOLDUP_US = B.holdup_ms * 1000


def jack(t, left, right=None, dac="on"):
    right = left if right is None else right
    return {"t_us": t, "kind": "chip", "chip": "jack",
            "state": {"output": "se", "left": left, "right": right, "dac": dac}}


def host(t, line):
    return {"t_us": t, "kind": "serial", "dir": "in", "data": line + "\n"}


def reply(t, **fields):
    return {"t_us": t, "kind": "serial", "dir": "out", "line": json.dumps(dict(ok=True, **fields))}


def error(t, text):
    return {"t_us": t, "kind": "serial", "dir": "out", "line": json.dumps({"ok": False,
                                                                          "error": text})}


def pin(t, n, level):
    return {"t_us": t, "kind": "pin", "pin": n, "level": level}


def rec(t, kind, **fields):
    return dict({"t_us": t, "kind": kind}, **fields)


def turn(t, detents, us=100000):
    return rec(t, "input", what="turn", detents=detents, us=us)


FLOOR = (B.path_cdb(0, 0) - 9550) / 100   # dBV at the PGA2311's lowest gain


def playing(t0=0, level=-30.0):
    """A boot and a fade from the floor to `level` in ramp steps (2 dB, 20 ms apart)."""
    out = [rec(t0, "power", on=True), rec(t0 + 1, "boot"), turn(t0 + 2, 40, 10)]
    out.append(jack(t0 + 3, level))          # the user's turn explains the level
    return out


def rules(records, end=None):
    c = Checker(B)
    for r in records:
        c.feed(r)
    c.finish(end if end is not None else records[-1]["t_us"])
    return {v[1] for v in c.violations}


def test_a_lowered_limit_holds_from_40_ms_after_the_reply():
    t = 3000000
    base = playing() + [host(t, "set limit -40"), reply(t + 500, limit=-40.0)]
    assert "limit" in rules(base + [rec(t + 41000, "input", what="button", closed=True)])
    assert "limit" not in rules(base + [jack(t + 20000, -40.5)], end=t + 100000)
    # A level above the old limit is refused whatever the host said.
    assert "limit" in rules(playing(level=6.5))


def test_a_raised_limit_needs_the_long_press():
    t = 3000000
    low = playing() + [host(t, "set limit -40"), reply(t + 500, limit=-40.0),
                       jack(t + 20000, -40.5)]
    ask = low + [host(t + 100000, "set limit 0"),
                 error(t + 100500, "raising the limit to 0.0 dBV needs a long press on the "
                                   "board within 10 s")]
    press = ask + [rec(t + 200000, "input", what="button", closed=True)]
    up = [turn(t + 1200000, 10, 10), jack(t + 1200001, -39.0)]
    assert "limit" not in rules(press + up)
    assert "limit" in rules(ask + up)                                  # no press at all
    short = ask + [rec(t + 200000, "input", what="button", closed=True),
                   rec(t + 300000, "input", what="button", closed=False)]
    assert "limit" in rules(short + up)                                # let go too soon


def test_the_saved_limit_comes_back_after_a_power_cycle_and_a_damaged_copy_gives_the_one_before():
    t = 3000000
    low = playing() + [host(t, "set limit -40"), reply(t + 500, limit=-40.0),
                       jack(t + 20000, -40.5), rec(t + 3100000, "flash", file="settings-b.json",
                                                   bytes=100)]
    cycle = [rec(t + 4000000, "power", on=False), rec(t + 4020000, "off"),
             rec(t + 5000000, "power", on=True), rec(t + 5300000, "boot"),
             turn(t + 7000000, 10, 10), jack(t + 7000001, -38.0)]
    assert "limit" in rules(low + cycle)
    # The newest copy damaged while off: the board restarts with the one before (none
    # here: the board's limit), so the same level is within it.
    damaged = cycle[:2] + [rec(t + 4500000, "input", what="settings", lost=1)] + cycle[2:]
    assert "limit" not in rules(low + damaged)


def test_the_start_up_cap_holds_after_a_boot_until_the_knob_turns_up():
    t = 1000000
    boot = [rec(0, "power", on=True), rec(1, "boot")]
    assert "startup-cap" in rules(boot + [jack(t, -19.5)])
    assert "startup-cap" not in rules(boot + [jack(t, -20.0)])
    assert "startup-cap" not in rules(boot + [turn(t - 10, 1), jack(t, -19.5)])
    assert "startup-cap" not in rules(boot + [host(t - 10, "set volume -10"),
                                              reply(t - 5, volume=-10.0), jack(t, -19.5)])


def test_rises_are_the_users_turn_or_ramp_steps():
    t = 3000000
    base = playing()
    # Ramp steps: 2 dB, 20 ms apart.
    steps = [jack(t + 20000 * (i + 1), -30.0 + 2 * (i + 1)) for i in range(3)]
    assert rules(base + steps) & {"ramp-step", "ramp-interval", "turn-rise"} == set()
    assert "ramp-step" in rules(base + [jack(t, -27.0)])                # 3 dB at once
    assert "ramp-interval" in rules(base + [jack(t, -28.0), jack(t + 5000, -26.0)])
    # A turn of 2 detents: at most 2 x 2 dB, plus one ramp step.
    assert "turn-rise" not in rules(base + [turn(t, 2), jack(t + 1000, -24.0)])
    assert "turn-rise" in rules(base + [turn(t, 2), jack(t + 1000, -23.0)])


def test_left_and_right_follow_volume_and_balance_once_settled():
    t = 3000000
    st = [host(t, "status"), reply(t + 500, volume=-30.0, balance=1.0, mute=False,
                                   phase="playing")]
    end = t + 2000000
    assert "balance" not in rules(playing() + [jack(t - 100000, -31.0, -30.0)] + st, end)
    assert "balance" in rules(playing() + st, end)                     # no trim at all
    assert "balance" in rules(playing() + [jack(t - 100000, -30.0, -31.0)] + st, end)  # wrong side
    # Muted: silence.
    mute = [host(t, "status"), reply(t + 500, volume=-30.0, balance=0.0, mute=True,
                                     phase="playing")]
    assert "balance" in rules(playing() + mute, end)
    assert "balance" not in rules(playing() + mute + [jack(t + 10000, None)], end)


def test_every_stage_is_quiet_before_the_hold_up_ends():
    t = 3000000
    loud = playing() + [pin(10, XSMT, 1), pin(11, PGA_MUTE, 1), pin(12, MUTE_RELAY, 1)]
    off = [rec(t, "power", on=False)]
    quiet = [pin(t + 100, XSMT, 0), jack(t + 2300, None), pin(t + 2400, PGA_MUTE, 0),
             pin(t + 2500, MUTE_RELAY, 0)]
    died = [rec(t + HOLDUP_US, "off")]
    assert "off-sequence" not in rules(loud + off + quiet + died)
    assert "off-sequence" in rules(loud + off + quiet[:3] + died)      # the relay still held
    late = quiet[:3] + [pin(t + HOLDUP_US + 1, MUTE_RELAY, 0)]
    assert "off-sequence" in rules(loud + off + late)


def test_no_settings_write_while_the_supply_fails_and_one_per_pause():
    t = 3000000
    w = rec(t + 10, "flash", file="settings.json", bytes=100)
    assert "save-while-failing" in rules(playing() + [rec(t, "power", on=False), w])
    assert "save-while-failing" not in rules(playing() + [w])
    w2 = rec(t + 5000000, "flash", file="settings-b.json", bytes=100)
    assert "save-per-pause" in rules(playing() + [w, w2])
    assert "save-per-pause" not in rules(playing() + [w, turn(t + 100, -1), w2])
    assert "save-per-pause" not in rules(playing() + [w, host(t + 100, "set balance 1"), w2])
    assert "save-per-pause" in rules(playing() + [w, host(t + 100, "status"), w2])


def test_a_save_already_due_when_a_turn_came_is_the_pause_befores():
    """`make sim`, a gain switch, then a turn 4 ms before the switch's save falls due:
    that save, then the turn's - one each. A third with nothing touched is one too many,
    and so is a second in a pause that had its own."""
    t = 3000000
    sw = rec(t, "input", what="gain", to="high")
    due = t + B.save_delay_ms * 1000
    knob = turn(due - 4000, 1, 50000)
    first = rec(due + 2000, "flash", file="settings.json", bytes=100)
    second = rec(due + 2000 + B.save_delay_ms * 1000, "flash", file="settings-b.json", bytes=100)
    assert "save-per-pause" not in rules(playing() + [sw, knob, first, second])
    third = rec(second["t_us"] + 5000000, "flash", file="settings.json", bytes=100)
    c = Checker(B)
    for r in playing() + [sw, knob, first, second, third]:
        c.feed(r)
    assert [v[1] for v in c.violations] == ["save-per-pause"]
    assert "saved again (settings.json; settings-b.json at %.1f ms) with nothing touched " \
           "since: one save per pause" % (second["t_us"] / 1000) in c.violations[0][2]
    # The switch's pause had its save before the turn: the turn's pause gets one.
    early = rec(due - 10000, "flash", file="settings-b.json", bytes=100)
    assert "save-per-pause" in rules(playing() + [sw, early, knob, first, second])
    # A save after the turn reached the firmware is the turn's own: a second is too many.
    late = rec(due + 400000 + 2 * 50000 + 40000 + 500000, "flash", file="settings.json", bytes=100)
    assert "save-per-pause" in rules(playing() + [sw, knob, late, second])
    # Two saves, nothing touched between them or since the last pause's save: broken.
    assert "save-per-pause" in rules(playing() + [sw, first, second])


def _limit_example(lower):
    t = 3000000
    out = playing(level=-35.0) + [host(t, "set limit -20"), reply(t + 500, limit=-20.0),
                                  host(t + 100000, "set limit -10"),
                                  error(t + 100500, "raising the limit to -10.0 dBV needs a long "
                                                    "press on the board within 10 s")]
    if lower:
        out += [host(t + 200000, "set limit -30"), reply(t + 200500, limit=-30.0)]
    press = t + 300000
    out += [rec(press, "input", what="button", closed=True),
            rec(press + B.long_press_ms * 1000 + 100000, "input", what="button", closed=False),
            # what the firmware says its limit is does not count
            reply(press + B.long_press_ms * 1000 + 200000, limit=-10.0),
            turn(t + 2000000, 20, 10), jack(t + 2000001, -10.0)]
    return out


def test_a_lowered_volume_limit_drops_a_raise_still_waiting_for_its_long_press():
    # limit -20, ask -10 (refused: needs the long press), set -30, long press: -10 at the
    # jack breaks the -30 limit.
    assert "limit" in rules(_limit_example(lower=True))
    assert "limit" not in rules(_limit_example(lower=False))    # the raise confirmed


SE215 = "set headphone 17 107 dB/mW Shure SE215"


def _level_for_spl(spl_db):
    """dBV at pico-se's jack that gives `spl_db` with the SE215 (its own figures)."""
    import math
    z, zo = 17.0, B.output_stage[0].z_out_ohm
    db_v = 107 + 10 * math.log10(1000 / z)
    return round(spl_db - db_v - 20 * math.log10(z / (z + zo)), 2)


def _spl_example(lower):
    t = 3000000
    out = playing(level=-40.0) + [host(t, SE215), reply(t + 500, headphone=None),
                                  host(t + 100000, "set spl_limit 110"),
                                  error(t + 100500, "raising the SPL limit to 110.0 dB SPL needs "
                                                    "a long press on the board within 10 s")]
    if lower:
        out += [host(t + 200000, "set spl_limit 85"), reply(t + 200500, spl_limit=85.0)]
    press = t + 300000
    out += [rec(press, "input", what="button", closed=True),
            rec(press + B.long_press_ms * 1000 + 100000, "input", what="button", closed=False),
            {"t_us": press + B.long_press_ms * 1000 + 200000, "kind": "serial", "dir": "out",
             "line": json.dumps({"event": "state", "spl_limit": 110.0})},
            turn(t + 2000000, 20, 10), jack(t + 2000001, _level_for_spl(109.8))]
    return out


def test_a_lowered_spl_limit_drops_a_raise_still_waiting_and_reports_do_not_count():
    # 109.8 dB SPL over an 85 dB limit: the firmware reporting 110 does not bless it.
    assert "spl-limit" in rules(_spl_example(lower=True))
    assert "spl-limit" not in rules(_spl_example(lower=False))   # the raise confirmed
    # Without the long press the limit stays at the default, 100 dB SPL.
    no_press = [r for r in _spl_example(lower=False) if r.get("what") != "button"]
    assert "spl-limit" in rules(no_press)


def test_the_stages_mute_dac_pga_relay_and_open_the_other_way_round():
    t = 3000000
    boot = [rec(0, "power", on=True), rec(1, "boot"), pin(2, XSMT, 0), pin(3, PGA_MUTE, 0),
            pin(4, MUTE_RELAY, 0)]
    up = [pin(t, MUTE_RELAY, 1), pin(t + 10, PGA_MUTE, 1), pin(t + 20, XSMT, 1)]
    down = [pin(t + 100, XSMT, 0), pin(t + 110, PGA_MUTE, 0), pin(t + 120, MUTE_RELAY, 0)]
    assert "mute-order" not in rules(boot + up + down)
    # The DAC opened before the PGA2311, or before the relay.
    assert "mute-order" in rules(boot + [up[0], up[2], up[1]] + down)
    assert "mute-order" in rules(boot + [up[2], up[0], up[1]] + down)
    assert "mute-order" in rules(boot + [up[1], up[0], up[2]] + down)   # PGA before relay
    # Going quiet (an exception, Ctrl-C, the supply): the relay before the PGA2311, the
    # PGA2311 before the DAC.
    assert "mute-order" in rules(boot + up + [down[0], down[2], down[1]])
    assert "mute-order" in rules(boot + up + [down[1], down[0], down[2]])
    # A user's mute: the DAC, then the PGA2311, the relay stays closed; and back.
    user = [pin(t + 100, XSMT, 0), pin(t + 200, PGA_MUTE, 0), pin(t + 300, PGA_MUTE, 1),
            pin(t + 301, XSMT, 1)]
    assert "mute-order" not in rules(boot + up + user)


def _run(mutate, script, path=SE, monkeypatch=None):
    """The firmware, broken by `mutate(controller_module)`, through `script(board)`: the
    checker's rules broken (a set of names)."""
    from headroom.sim.simboard import SimBoard
    b = SimBoard(path)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    b.power(True)
    b.run_ms(3000)
    if mutate is not None:   # the firmware is imported afresh at each boot: patch this one
        import headroom_fw.controller as ctl_mod
        mutate(ctl_mod, monkeypatch)
    script(b)
    c.finish(b.now_us())
    b.close()
    return {v[1] for v in c.violations}


def _save_falls_due_in_the_hold_up(b):
    t0 = b.now_us()
    d = b.turn(3, rate=5)
    last = t0 + d - 200000 // (2 * b.board.edges_per_detent)   # the last detent's edge
    b.run_until(last + b.board.save_delay_ms * 1000 - 3000)
    b.power(False)
    b.run_ms(100)


def test_a_firmware_saving_while_the_supply_fails_is_caught(monkeypatch):
    assert _run(None, _save_falls_due_in_the_hold_up) == set()

    def ignore_power_fail(m, mp):
        mp.setattr(m.Controller, "save_due", lambda self, now: self._dirty and
                   m.ticks_diff(now, self._changed_ms) >= self.b.save_delay_ms)

    assert "save-while-failing" in _run(ignore_power_fail, _save_falls_due_in_the_hold_up,
                                        monkeypatch=monkeypatch)


def test_a_firmware_jumping_to_a_hosts_volume_is_caught(monkeypatch):
    def script(b):
        b.console.send("set volume 0\n")
        b.run_ms(1500)

    assert _run(None, script) == set()

    def no_fade(m, mp):
        def host_volume(self, hdb, now):
            self.volume = hdb
            self._touched(now)
        mp.setattr(m.Controller, "host_volume", host_volume)

    assert "ramp-step" in _run(no_fade, script, monkeypatch=monkeypatch)


def test_a_firmware_ignoring_a_lowered_limit_is_caught(monkeypatch):
    def script(b):
        b.console.send("set limit -40\n")
        b.run_ms(500)

    assert _run(None, script) == set()

    def no_clamp(m, mp):
        def host_limit(self, hdb, now):
            self.limit = min(self.limit, hdb)
            self._touched(now)
        mp.setattr(m.Controller, "host_limit", host_limit)

    assert "limit" in _run(no_clamp, script, monkeypatch=monkeypatch)


def _run_app(mutate, script, path=SE):
    """The firmware running on a simulated board, its running App broken by
    `mutate(app)` (None: as it is) once it plays, through `script(board)`: the rules
    the checker says were broken (a set of names)."""
    from headroom.sim.simboard import SimBoard
    b = SimBoard(path)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    b.power(True)
    until_playing(b)
    if mutate is not None:
        mutate(b.app)
    script(b)
    c.finish(b.now_us())
    b.close()
    return {v[1] for v in c.violations}


def _send(b, *lines):
    for line in lines:
        b.console.send(line + "\n")
        b.run_ms(100)


def _hold_then_turn_up(b):
    b.press(True)
    b.run_ms(b.board.long_press_ms + 300)
    b.press(False)
    b.run_ms(200)
    b.run_us(b.turn(30, rate=10))
    b.run_ms(1000)


def _keeps_the_raise(app, which):
    """A firmware where lowering `which` ("limit" or "spl") leaves a raise of it pending."""
    from headroom_fw import controller as C
    kind = C._ASK_LIMIT if which == "limit" else C._ASK_SPL
    drop = app.ctl._drop_pending
    app.ctl._drop_pending = lambda what: None if what == kind else drop(what)


def test_a_firmware_keeping_a_volume_limit_raise_after_a_lowering_is_caught():
    def script(b):
        _send(b, "set volume -35", "set limit -20", "set limit -10", "set limit -30")
        _hold_then_turn_up(b)

    assert _run_app(None, script) == set()
    assert "limit" in _run_app(lambda app: _keeps_the_raise(app, "limit"), script)


def test_a_firmware_keeping_an_spl_limit_raise_after_a_lowering_is_caught():
    def script(b):
        _send(b, "monitor on", SE215, "set spl_limit 110", "set spl_limit 85")
        _hold_then_turn_up(b)

    assert _run_app(None, script) == set()
    assert "spl-limit" in _run_app(lambda app: _keeps_the_raise(app, "spl"), script)


def test_a_firmware_opening_the_dac_before_the_pga2311_and_the_relay_is_caught():
    def script(b):
        _send(b, "set mute on")
        b.run_ms(500)
        _send(b, "set mute off")
        b.set_gain("high")
        b.run_ms(1500)

    def dac_first(app):
        write = app._write

        def early():
            if not app.ctl.dac_mute and app.xsmt is not None and app.xsmt.muted:
                app.xsmt.mute(False)
            write()
        app._write = early

    assert _run_app(None, script) == set()
    assert "mute-order" in _run_app(dac_first, script)


NO_HW_MUTE = board_variant(SE, lambda d: d["power_sense"].update(hardware_mute=False))


def test_a_supply_fail_isr_leaving_the_pga2311_to_others_is_caught():
    """On a board without the hardware mute path only the IRQ mutes the PGA2311."""
    def script(b):
        b.power(False)
        b.run_ms(100)

    def isr_skips_the_pga(app):
        mute = app.pga.mute
        app.pga.mute = lambda on: None if on and not app.power_ok else mute(on)

    assert _run_app(None, script, NO_HW_MUTE) == set()
    assert "mute-order" in _run_app(isr_skips_the_pga, script, NO_HW_MUTE)


def test_a_firmware_going_quiet_out_of_order_on_ctrl_c_is_caught():
    """Ctrl-C (an exception alike): `quiet` mutes the DAC, the PGA2311, then opens the
    relay; the relay first is caught by the checker itself, not only end to end."""
    def ctrl_c(b):
        b.interrupt()
        b.run_ms(100)

    def relay_first(app):
        seq = app.ctl.quiet_sequence()
        app.ctl.quiet_sequence = lambda: tuple(reversed(seq))

    assert _run_app(None, ctrl_c) == set()
    assert "mute-order" in _run_app(relay_first, ctrl_c)


def test_with_zcen_tied_low_any_fall_over_3_db_clicks_and_a_lowered_limit_waits_for_the_walk():
    """ZCEN tied low: a gain change goes in at once, so a fall of more than 3 dB in one
    frame is a click even with no MUTE pin or relay cutting (with ZCEN high the zero
    crossing makes it click-free); the firmware walks a lowered limit down, so the limit
    binds once the walk (a ramp interval and a pass per 2 dB step) can have ended."""
    from helpers import ZCEN_LOW
    zb = boardfile.load(ZCEN_LOW)

    def on(board, records, end=None):
        c = Checker(board)
        for r in records:
            c.feed(r)
        c.finish(end if end is not None else records[-1]["t_us"])
        return {v[1] for v in c.violations}

    t = 3000000
    jump = playing() + [jack(t, -34.0)]
    assert "click" in on(zb, jump)
    assert "click" not in on(B, jump)
    walk = playing() + [jack(t + i * 21000, -30.0 - 2 * (i + 1)) for i in range(2)]
    assert "click" not in on(zb, walk)
    # set limit -60 from -30: 15 steps of 2 dB, each within 20 + 10 ms, plus the 40 ms.
    low = playing() + [host(t, "set limit -60"), reply(t + 500, limit=-60.0)]
    late = [rec(t + 200000, "input", what="button", closed=True)]
    assert "limit" in on(B, low + late)
    assert "limit" not in on(zb, low + late)
    after_walk = [rec(t + 500 + 40000 + 15 * 30000 + 1000, "input", what="button", closed=True)]
    assert "limit" in on(zb, low + after_walk)
    # A turn meanwhile slows every pass (its IRQ storm): the walk gets twice its length more.
    assert "limit" not in on(zb, low + [turn(t + 1000, -1, us=100000)] + after_walk)
    assert "limit" in on(zb, low + [turn(t + 1000, -1, us=100000)] + [
        rec(after_walk[0]["t_us"] + 200000, "input", what="button", closed=True)])
