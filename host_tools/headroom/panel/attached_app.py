"""The front panel on a running virtual board (`headroom panel --attach PORT`), in Textual:
the simulated panel's keys (app.py's actions), sent to the board (attached.py); on the
screen what the board's firmware reports, and a log of the inputs and the changes.

    AttachedApp(Attached("/tmp/.../ttyACM0")).run()

Time is the board's own (it runs in real time): no pause, speed or save here.
"""
from rich.text import Text
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.widgets import Footer, RichLog, Static

from ..readable import balance_text, state_line
from .app import LOG_LINES, PanelApp

TICK_S = 1 / 20
_TIME_ONLY = ("pause", "speed", "step", "save")


def board_changes(states, last):
    """The log lines ("board: ...") for the states the firmware reported, `(t, state)`,
    and the last line: a state that reads as the line before it is not logged again (a
    gain switch goes through five phases that all read "switching (muted)")."""
    out = []
    for t, state in states:
        text = "board: %s" % state_line(state)
        if text != last:
            out.append((t, text))
            last = text
    return out, last


class AttachedApp(App):
    TITLE = "Headroom front panel (attached)"
    CSS = """
    Screen { layout: vertical; }
    #title { height: 1; background: $primary-background; }
    .box { border: round $secondary; padding: 0 1; height: auto; }
    #note { height: auto; padding: 0 1; }
    #session { height: 1; padding: 0 1; }
    #log { border: round $secondary; height: 1fr; min-height: 5; overflow-x: hidden; }
    """
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [b for b in PanelApp.BINDINGS if b.action.split("(")[0] not in _TIME_ONLY]

    # The hands: the simulated panel's own actions, on `self.session` (an Attached here).
    _hands = PanelApp._hands
    action_turn = PanelApp.action_turn
    action_spin = PanelApp.action_spin
    on_mouse_scroll_up = PanelApp.on_mouse_scroll_up
    on_mouse_scroll_down = PanelApp.on_mouse_scroll_down
    action_click = PanelApp.action_click
    action_long_press = PanelApp.action_long_press
    action_button = PanelApp.action_button
    action_toggle = PanelApp.action_toggle
    action_power = PanelApp.action_power
    action_dip = PanelApp.action_dip
    action_remote = PanelApp.action_remote
    action_music = PanelApp.action_music

    def __init__(self, hands, live=True):
        App.__init__(self)
        self.session = hands
        self.live = live
        self.message = ""
        self.t0 = hands.wall()

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="board", classes="box")
        yield Static(id="note")
        log = RichLog(id="log", max_lines=LOG_LINES, wrap=False, markup=False)
        log.can_focus = False
        yield log
        yield Static(id="session")
        yield Footer(compact=True)

    def on_mount(self):
        self.query_one("#log", RichLog).border_title = "inputs sent, and the board's changes"
        self.session.watcher.start()
        self.timer = self.set_interval(TICK_S, self._tick) if self.live else None
        self.refresh_panel()

    def on_unmount(self):
        if self.timer is not None:
            self.timer.stop()
        self.session.close()

    def _tick(self):
        try:
            self.refresh_panel()
        except NoMatches:
            pass   # a tick while the screen is being taken down

    def _t(self, t):
        return "%7.3f s" % (t - self.t0)

    def refresh_panel(self):
        h = self.session
        refused = h.poll()
        if refused:
            self.message = refused[-1]
        w = h.watcher
        self.query_one("#title", Static).update(Text.assemble(
            ("Headroom front panel", "bold"), "  attached to the virtual board on %s" % h.port))
        self.query_one("#board", Static).update(self.board_text(w.state, w.problem, w.relayed))
        self.query_one("#note", Static).update(Text(
            "What its firmware reports over the control protocol (status, then its monitor "
            "events), not the hardware: the jack, the PGA2311 codes and the relays are in the "
            "virtual board's trace (--trace). Time is the board's: real time.", style="dim"))
        sess = Text("Inputs in flight: %d" % len(h.in_flight))
        if h.in_flight:
            sess.append("  now: %s" % h.in_flight[0])
        if self.message:
            sess.append("  " + self.message, style="yellow")
        self.query_one("#session", Static).update(sess)
        log = self.query_one("#log", RichLog)
        lines = [(t, "input %-22s %s" % (line, "done" if answer == "ok" else answer))
                 for t, line, answer in h.take_done()]
        board, self._last_board = board_changes(w.take(), getattr(self, "_last_board", None))
        lines += board
        for t, text in sorted(lines, key=lambda x: x[0]):
            log.write("%s  %s" % (self._t(t), text))

    @staticmethod
    def board_text(s, problem, relayed):
        out = Text.assemble(("The board", "bold"), "  (its firmware's status%s)\n"
                            % (", through the monitor holding the port" if relayed else ""))
        if s is None:
            out.append(" %s" % (problem or "no state yet"), style="yellow")
            return out
        if "volume" in s:
            out.append(" volume  %+.1f dBV" % s["volume"], style="bold")
            out.append("   %s\n" % ("MUTED" if s.get("mute") else "playing" if s.get("phase") ==
                                    "playing" else s.get("phase", "")))
            out.append(" balance %s · gain %s · output %s · limit %+.1f dBV\n" % (
                balance_text(s.get("balance", 0)), s.get("gain"),
                "SE" if s.get("output") == "se" else s.get("output"), s.get("limit", 0)))
            out.append(" the knob sets the %s" % s.get("mode", "volume"))
        else:
            out.append(" %s" % state_line(s), style="red")
        for f in s.get("faults", ()):
            out.append("\n fault: %s" % f, style="red")
        return out
