"""Simulated devices that speak the building contract over a real broker (demo, tests, technicians).

One module per kind (`door`, `locker`, `health`) on a shared base (`base`), and `runner`, which
builds a whole building from command-line options and injects faults.
"""
