-- Images of an uploaded (uncompressed) tar stay inside it: object_key names the archive and the file is the
-- size_bytes bytes from byte_offset. NULL: the file is the whole object.
ALTER TABLE files ADD COLUMN byte_offset bigint;
