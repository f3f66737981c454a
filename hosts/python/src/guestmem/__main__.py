"""``python -m guestmem describe FILE.wasm``."""

import sys

from .describe import main

sys.exit(main())
