"""The Library tab: files, drop zone, runs, search, document details and watched folders."""
