import sys

from spectrostyle.cli import main

sys.exit(main())
