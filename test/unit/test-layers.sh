#!/bin/bash
# The tree's shape (scripts/check-layers.py): no call cycles between
# modules, no oversized files or functions. Needs the objects of `make all`.
exec python3 "$(dirname "$0")/../../scripts/check-layers.py"
