"""`python -m keyguard`: the same as the `keyguard` command."""

import sys

from keyguard.cli import main

sys.exit(main())
