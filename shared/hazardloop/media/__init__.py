"""Photos and videos of hazards: stored by digest, stripped of metadata, refused in the reporter's words."""
