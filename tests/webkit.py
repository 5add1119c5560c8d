"""The web client for the simulated Pico W's remote, for the tests: host_tools'
headroom/sim/webclient.py (`make bench` uses the same)."""
from headroom.sim.webclient import Client, Reply, ask_wifi, join  # noqa: F401
