"""`python -m components.report`: see README."""
import sys

from components.report import main

sys.exit(main())
