# Runs at power-on: the Headroom firmware (board.json and settings.json live beside it).
from headroom_fw.app import main

main()
