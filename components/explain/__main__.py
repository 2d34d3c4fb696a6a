"""`python -m components.explain`: see README."""
import sys

from components.explain import main

sys.exit(main())
