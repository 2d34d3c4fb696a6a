"""`python -m components.bench` (README): the CLI of components.compare."""
import sys

from components.compare import main

if __name__ == "__main__":
    sys.exit(main())
