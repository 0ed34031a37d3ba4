import sys

from cardioscreen.cli import main

sys.exit(main())
