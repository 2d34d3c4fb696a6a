"""`python -m components.adapt`: see README."""
import sys

from components.adapt import main

sys.exit(main())
