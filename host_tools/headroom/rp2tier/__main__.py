"""An emulated board behind a serial port, for trying things by hand.

    python -m headroom.rp2tier UF2 [--board boards/pico-se.json] [--image flash.img] [--no-dac]

Prints the port's path (a link to a pseudo-terminal that goes away at every reset and
comes back, as a Pico's /dev/ttyACM0 does), then runs until Ctrl-C. In another terminal:
`headroom flash --board B --port PORT`,
`headroom status --port PORT`, `mpremote connect PORT`. The board runs up to 2-4
times slower than a Pico (rp2040py 1.0; 0.3.6: 12-30 times). `--image` loads a littlefs
image (made with `--save`, or an erased flash when missing), `--save FILE` writes the
flash back at exit.
"""
import argparse
import os
import signal
import sys
import tempfile
import threading

from .board import Rp2Board

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m headroom.rp2tier",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("uf2", help="MicroPython's RPI_PICO UF2 (1.24.1 or 1.26.1)")
    ap.add_argument("--board", default=os.path.join(REPO, "boards", "pico-se.json"))
    ap.add_argument("--image", help="littlefs image to boot from (default: an erased flash)")
    ap.add_argument("--save", help="write the flash image here at exit")
    ap.add_argument("--no-dac", action="store_true", help="no PCM5122 answering on I2C")
    a = ap.parse_args(argv)
    d = tempfile.mkdtemp(prefix="headroom-rp2-")
    link = os.path.join(d, "ttyACM0")
    image = a.image if a.image and os.path.exists(a.image) else None
    b = Rp2Board(a.uf2, a.board, image=image, port_link=link, dac=not a.no_dac).start()
    print(link, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while b.alive() and not done.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if a.save and b.alive():
            b.dump_image(a.save)
        b.stop()
        try:
            os.rmdir(d)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
