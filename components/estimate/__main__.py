"""`python -m components.estimate`: see README."""
import sys

from components.estimate import main

sys.exit(main())
