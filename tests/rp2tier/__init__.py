"""The rp2 tier's tests (`make test-rp2 UF2=FILE`); a package, so its conftest is not `conftest`."""
