"""What an evaluation set may hold: the limits on sets and their files, the file kinds, and the error a set
that breaks them raises."""
from __future__ import annotations

MAX_ZIP_BYTES = 200 * 2**20  # total uncompressed size
MAX_ZIP_RATIO = 100  # uncompressed / compressed, per member and overall
MAX_ZIP_FILES = 2000
ZIP_ENTRIES_PER_FILE = 3  # entries the end record may declare per allowed file (folders, macOS '._' files)
MAX_STREAMED_FILES = 50_000  # a folder or ZIP read from disk keeps only names, not samples
MAX_FILE_BYTES = 200 * 2**20  # one file of a set read from disk or one ZIP member (a playground upload's limit)
HEADER_BYTES = 64 * 2**10  # read of a streamed image to check its size (PNG/JPEG/GIF/WebP headers sit in the first KB)
MAX_CSV_ROWS = 10000
MAX_AUDIO_S = 3600.0  # total audio of a set (Compare uploads: decoded; Adapt sets: from the headers)
MAX_SET_PIXELS = 2_000_000_000  # total image pixels of an uploaded set, from the headers
ZIP_READ_CHUNK = 2**20  # ZIP members are inflated a chunk at a time (zipfile stops at the declared size)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


class DatasetError(ValueError):
    """The evaluation set cannot be used; the message (one line) says why."""


def check_file_size(size: int, name: str) -> None:
    """Refuse one file of a set (a file on disk, a ZIP member) larger than MAX_FILE_BYTES, before it is read."""
    if size > MAX_FILE_BYTES:
        raise DatasetError(f"'{name}' is {size / 2**20:,.0f} MB; one file of a set may be at most "
                           f"{MAX_FILE_BYTES / 2**20:.0f} MB")
