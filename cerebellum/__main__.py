"""``python -m cerebellum`` is the ``cerebellar-sdm`` command."""

import sys

from cerebellum.cli import main

if __name__ == "__main__":
    sys.exit(main())
