"""Run by test_vboard_interrupts.py on MicroPython's Unix port: vmpipes.Interrupts on the
pipe its argument names (inherited, non-blocking), taken in a loop as the firmware's
calls take it, while the host claims some Ctrl-Cs back. Prints "ready", then "k" for
every Ctrl-C taken, and "took N" at stdin's "end" line."""
import select
import sys
import time

sys.path.insert(0, sys.argv[1])
from headroom.vboard.vmpipes import Interrupts  # noqa: E402

intr = Interrupts(open(int(sys.argv[2]), "rb"), None, time)
stdin = select.poll()
stdin.register(sys.stdin, select.POLLIN)
took = 0
n = 0
print("ready")
while True:
    try:
        intr.take()
    except KeyboardInterrupt:
        took += 1
        print("k")
    n += 1
    if n % 64 == 0 and stdin.poll(0):
        break
    time.sleep_us(n % 37)
print("took", took)
