# The virtual board's boot script, run by the MicroPython VM with -i (see vm.py):
# mount the flash image, power the simulated board, run boot.py and main.py; then
# MicroPython's own REPL. Its names are removed again, so the REPL starts as clean
# as the board's (main.py's globals stay, as they do on the board).
import sys as _vb_sys
import time as _vb_time  # the VM's own time, before the simulator's shadows it

_vb_sys.path.insert(0, _vb_sys.argv[0][:_vb_sys.argv[0].rfind("/headroom/vboard/")])
from headroom.vboard import vm as _vb_vm  # noqa: E402

_vb_vm.boot(_vb_sys.argv[1:], _vb_time, globals())
del _vb_sys, _vb_time, _vb_vm
