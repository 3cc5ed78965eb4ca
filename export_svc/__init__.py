"""Export: packs a finished processing stage into archives of a multipart output batch."""
