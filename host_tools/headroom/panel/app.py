"""The front panel in the terminal (Textual): the knob, the button, the switches and the
power under the keys; what the simulated hardware does on the screen.

    PanelApp(Session("boards/pico-se.json")).run()

A timer lets virtual time follow the wall clock (`Session.tick`) and redraws. With
`live=False` (tests, the screenshot) there is no timer: the caller runs the session
(`session.step_ms`) and calls `refresh_panel()`.
"""
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, RichLog, Static

from .readout import BusLog, Readout
from .session import Refused

TICK_S = 1 / 30
LOG_LINES = 2000
SPIN = 6            # PgUp/PgDn: a quick spin of the knob, this many detents
SPIN_MHZ = 60000    # at 60/s: the firmware's fastest tier


class PanelApp(App):
    TITLE = "Headroom front panel"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    Screen { layout: vertical; }
    #title { height: 1; background: $primary-background; }
    #banner { display: none; height: auto; padding: 0 1; background: $error; color: $text; text-style: bold; }
    #banner.broken { display: block; }
    .box { border: round $secondary; padding: 0 1; height: auto; }
    #top, #middle { height: auto; }
    #jack { width: 2fr; }
    #controls { width: 46; }
    #oled { width: 68; }
    #pga, #relays { width: 1fr; }
    #safety { height: auto; padding: 0 1; }
    #session { height: 1; padding: 0 1; }
    #log { border: round $secondary; height: 1fr; min-height: 5; overflow-x: hidden; }
    """
    BINDINGS = [
        Binding("right", "turn(1)", "knob", key_display="←→"),
        Binding("left", "turn(-1)", "knob", show=False),
        Binding("up,plus,equals_sign", "turn(1)", "knob", show=False),
        Binding("down,minus", "turn(-1)", "knob", show=False),
        Binding("pageup", "spin(1)", "spin", key_display="PgUp/Dn"),
        Binding("pagedown", "spin(-1)", "spin", show=False),
        Binding("space", "click", "click"),
        Binding("shift+space,l", "long_press", "long", key_display="l"),
        Binding("b", "button", "hold"),
        Binding("r", "remote('up')", "remote", key_display="r/f/t/y"),
        Binding("f", "remote('down')", "remote down", show=False),
        Binding("t", "remote('play')", "remote play", show=False),
        Binding("y", "remote('menu')", "remote menu", show=False),
        Binding("m", "music", "music"),
        Binding("g", "toggle('gain')", "gain"),
        Binding("o", "toggle('output')", "output"),
        Binding("x", "power", "power"),
        Binding("d", "dip", "dip"),
        Binding("p", "pause", "pause"),
        Binding("left_square_bracket", "speed(-1)", "speed", key_display="[ ]"),
        Binding("right_square_bracket", "speed(1)", "faster", show=False),
        Binding("full_stop", "step", "+0.1 s", key_display=".", show=False),
        Binding("S", "save", "save"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, session, save_path=None, live=True):
        App.__init__(self)
        self.session = session
        self.save_path = save_path
        self.live = live
        self.readout = Readout(session)
        self.buslog = BusLog(session)
        self.message = ""

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="banner")   # a broken safety rule: shown at once, stays until quit
        with Horizontal(id="top"):
            yield Static(id="jack", classes="box")
            yield Static(id="controls", classes="box")
        with Horizontal(id="middle"):
            yield Static(id="pga", classes="box")
            yield Static(id="relays", classes="box")
            yield Static(id="oled", classes="box")
        yield Static(id="mutes", classes="box")
        yield Static(id="safety")
        log = RichLog(id="log", max_lines=LOG_LINES, wrap=False, markup=False)
        log.can_focus = False   # the keys are the panel's; the wheel over it scrolls it
        yield log
        yield Static(id="session")
        yield Footer(compact=True)

    def check_action(self, action, parameters):
        if action == "toggle" and parameters == ("output",):
            return self.session.board.output_switch is not None   # hidden where there is none
        return True

    def on_mount(self):
        self.query_one("#log", RichLog).border_title = "bus events (virtual time)"
        self.query_one("#oled", Static).border_title = "display"
        self.query_one("#oled", Static).display = self.readout.display() is not None
        if self.live:
            self.session.clock.rebase(self.session.board.now_us())
            self.set_interval(TICK_S, self._tick)
        self.refresh_panel()

    def _tick(self):
        self.session.tick()
        self.refresh_panel()

    def refresh_panel(self):
        r = self.readout
        for wid, text in (("title", r.title()), ("jack", r.jack()), ("controls", r.controls()),
                          ("pga", r.pga()), ("relays", r.relays()), ("mutes", r.mutes()),
                          ("safety", r.safety()), ("oled", r.display())):
            if text is not None:
                self.query_one("#" + wid, Static).update(text)
        sess = r.session()
        if self.message:
            sess.append("  " + self.message, style="yellow")
        self.query_one("#session", Static).update(sess)
        banner = r.banner()
        if banner is not None:
            b = self.query_one("#banner", Static)
            b.update(banner)
            b.add_class("broken")
        lines = self.buslog.take()
        if lines:
            log = self.query_one("#log", RichLog)
            for line in lines[-LOG_LINES:]:
                log.write(line)

    # ---- the hands
    def _hands(self, fn, *args):
        try:
            fn(*args)
            self.message = ""
        except Refused as e:
            self.message = str(e)
        self.refresh_panel()

    def action_turn(self, detents):
        self._hands(self.session.turn_now, detents)

    def action_spin(self, sign):
        self._hands(self.session.turn, sign * SPIN, SPIN_MHZ)

    def on_mouse_scroll_up(self, event):
        self.action_turn(1)

    def on_mouse_scroll_down(self, event):
        self.action_turn(-1)

    def action_click(self):
        self._hands(self.session.click)

    def action_long_press(self):
        self._hands(self.session.long_press)

    def action_button(self):
        s = self.session
        self._hands(s.release if s.button_down else s.press)

    def action_remote(self, key):
        """The Apple remote's up, down, play (mute) and menu keys."""
        self._hands(self.session.remote, key)

    def action_music(self):
        """The chosen input's music on or off, at an external source."""
        self._hands(self.session.music)

    def action_toggle(self, which):
        self._hands(self.session.toggle, which)

    def action_power(self):
        self._hands(self.session.power, not self.session.supply)

    def action_dip(self):
        self._hands(self.session.dip)

    # ---- time
    def action_pause(self):
        s = self.session
        s.pause(not s.clock.paused)
        self.refresh_panel()

    def action_speed(self, up):
        self.session.faster(up > 0)
        self.refresh_panel()

    def action_step(self):
        self.session.step_ms(100)
        self.refresh_panel()

    def action_save(self):
        if not self.save_path:
            self.message = "no file to save to: start with --save FILE"
        else:
            try:
                self.session.save(self.save_path)
                self.message = ""
            except OSError as e:
                self.message = "cannot save to %s: %s" % (self.save_path, e.strerror or e)
        self.refresh_panel()
