import sys

from spectrostyle.ui.cli.main import main

sys.exit(main())
