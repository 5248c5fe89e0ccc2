import sys

from devices.cli import main

sys.exit(main())
