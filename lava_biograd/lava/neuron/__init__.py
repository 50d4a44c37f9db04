"""Lava Process and ProcessModels of one lava_biograd component."""
