"""`python -m components.attention` (README): the CLI of components.explain."""
import sys

from components.explain import attention_main

if __name__ == "__main__":
    sys.exit(attention_main())
