# Runs at power-on: the Headroom firmware (board.json and settings.json live beside it).
# The modules first, one at a time, the garbage collected between (preload.py).
from headroom_fw.preload import preload

preload()

from headroom_fw.lifecycle import main  # noqa: E402

main()
