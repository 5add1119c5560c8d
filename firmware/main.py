# Runs at power-on: the Headroom firmware (board.json and settings.json live beside it).
from headroom_fw.lifecycle import main

main()
