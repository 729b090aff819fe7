"""`python -m mamdl.sandbox --port N --catalogue FILE`."""

import sys

from mamdl.sandbox.cli import main

sys.exit(main())
