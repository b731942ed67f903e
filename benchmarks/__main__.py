"""``python -m benchmarks --list`` names every benchmark (used by ``make bench``)."""

import argparse

from benchmarks import NAMES

parser = argparse.ArgumentParser(prog="python -m benchmarks")
parser.add_argument("--list", action="store_true", help="print the benchmark names")
if parser.parse_args().list:
    print("\n".join(NAMES))
else:
    parser.print_help()
