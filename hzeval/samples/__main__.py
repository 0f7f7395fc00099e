"""``python -m hzeval.samples``: write a sample drop."""

import sys

from hzeval.samples.generator import main

sys.exit(main())
