"""The board's flash filesystem, as the firmware uses it: one small seam.

On the board this is MicroPython's own `open` and `os` on littlefs. The simulator
hands the firmware its own Files (the same calls on a folder of the desktop), which
also charge what a write costs: littlefs programs and erases the Pico's flash with
interrupts off (ports/rp2/rp2_flash.c).
"""
import os


class Files:
    def open(self, path, mode="r"):
        return open(path, mode)

    def rename(self, old, new):
        os.rename(old, new)

    def remove(self, path):
        os.remove(path)

    def size(self, path):
        """Bytes in the file; OSError when there is none."""
        return os.stat(path)[6]
