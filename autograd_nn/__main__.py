"""``python -m autograd_nn`` is the ``autograd-nn`` command."""

import sys

from .cli import main

sys.exit(main())
