"""What the remote's keys do, free of `machine`: the key map and a held key's speed.

A key is a decoded code (irdecode.code); the map gives each known code one function.
An unknown key does nothing. The defaults serve two remotes people have: the Apple
remote (white or aluminium; its up/down turn the level, play mutes, menu opens the knob
menu, left/right choose the input) and the 21-key remote of Arduino kits (VOL+/VOL-,
play mutes, FUNC opens the menu, |<< and >>| choose the input, POWER is standby).

Volume keys move the level through the same path as the knob (controller.turn: every
limit, the ramp's ceiling, balance mode), at a speed set by how long the key has been
held, not by the remote's repeat rate (NEC repeats every 108 ms, RC5 every 114, Sony
every 45): a press is one 0.5 dB step; held, 4 steps a second, 8 after 1.5 s, 16 after
3 s (2, 4 and 8 dB/s). The other functions act on a press, never on its repeats.
"""
from time import ticks_diff

from micropython import const

from .irdecode import APPLE_ADDR, NEC, REPEAT, code

VOLUME_UP = const(1)
VOLUME_DOWN = const(2)
MUTE = const(3)
MENU = const(4)
INPUT = const(5)
STANDBY = const(6)
NAMES = ("", "volume_up", "volume_down", "mute", "menu", "input", "standby")

_KIT21 = const(0x00)
DEFAULT_KEYS = (
    (code(NEC, APPLE_ADDR, 0x0B), VOLUME_UP), (code(NEC, APPLE_ADDR, 0x0D), VOLUME_DOWN),
    (code(NEC, APPLE_ADDR, 0x04), MUTE), (code(NEC, APPLE_ADDR, 0x02), MENU),
    (code(NEC, APPLE_ADDR, 0x08), INPUT), (code(NEC, APPLE_ADDR, 0x07), INPUT),
    (code(NEC, _KIT21, 0x46), VOLUME_UP), (code(NEC, _KIT21, 0x15), VOLUME_DOWN),
    (code(NEC, _KIT21, 0x40), MUTE), (code(NEC, _KIT21, 0x47), MENU),
    (code(NEC, _KIT21, 0x44), INPUT), (code(NEC, _KIT21, 0x43), INPUT),
    (code(NEC, _KIT21, 0x45), STANDBY),
)


def held_steps(held_ms):
    """0.5 dB steps due after a volume key has been held `held_ms`: 1 at the press, then
    4/s, 8/s after 1.5 s, 16/s after 3 s."""
    if held_ms < 1500:
        return 1 + held_ms * 4 // 1000
    if held_ms < 3000:
        return 7 + (held_ms - 1500) * 8 // 1000
    if held_ms > 600000:
        held_ms = 600000   # ten minutes of holding: the count stays a small int
    return 19 + (held_ms - 3000) * 16 // 1000


class Remote:
    def __init__(self, keys=DEFAULT_KEYS):
        self.keys = keys
        self.fn = 0           # the function of the key down now (0: none)
        self.down_ms = 0      # when it was pressed
        self.given = 0        # steps given for it so far
        self.unknown = 0      # codes that map to nothing (for `status`)
        self.steps = 0        # a volume key's signed steps, from event()

    def function(self, code_):
        """The function of key `code_` (REPEAT clear), or 0."""
        for k, f in self.keys:
            if k == code_:
                return f
        return 0

    def event(self, ev, now_ms):
        """A decoder event: the function to act on now (0: nothing), and for a volume
        key the signed steps in `steps`."""
        self.steps = 0
        fn = self.function(ev & ~REPEAT)
        if fn == 0:
            if not ev & REPEAT and self.unknown < 1000000:
                self.unknown += 1
            self.fn = 0
            return 0
        if not ev & REPEAT or fn != self.fn:
            self.fn = fn
            self.down_ms = now_ms
            self.given = 0
        elif fn != VOLUME_UP and fn != VOLUME_DOWN:
            return 0   # a held key's repeats act only for the volume
        if fn == VOLUME_UP or fn == VOLUME_DOWN:
            due = held_steps(ticks_diff(now_ms, self.down_ms))
            n = due - self.given
            self.given = due
            if n <= 0:
                return 0
            self.steps = n if fn == VOLUME_UP else -n
        return fn
