"""Media: find recordings, read their metadata, decode their audio and frames with ffmpeg."""
