"""``cscmining demo``: the main job on the bundled samples."""
