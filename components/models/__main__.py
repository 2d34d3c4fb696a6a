"""`python -m components.models`: see README."""
import sys

from components.models import main

sys.exit(main())
