"""The firmware's version: `version` and `status` report it, `headroom flash` checks it."""
VERSION = "0.2.0"
