"""The demo directory that `seed_demo` (and so `make run`) loads."""
