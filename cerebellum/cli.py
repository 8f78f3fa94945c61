import sys


def main(argv=None) -> int:
    print("cerebellar-sdm: not yet", file=sys.stderr)
    return 2
