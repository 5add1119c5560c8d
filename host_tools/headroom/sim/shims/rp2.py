"""Drop-in `rp2` placeholder: the PIO and the rest arrive with the PIO issue."""


def bootsel_button():
    return 0


class PIO:
    def __init__(self, id):
        raise NotImplementedError("rp2.PIO is not simulated yet")


class StateMachine:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("rp2.StateMachine is not simulated yet")


def asm_pio(*args, **kwargs):
    raise NotImplementedError("rp2.asm_pio is not simulated yet")
