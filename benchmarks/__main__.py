"""`python -m benchmarks [--quick]`: see README.md."""

import sys

from .runner import main

sys.exit(main())
