"""Notes for the Lava tests (the leftover-process fixture lives in ``tests/conftest.py``).

This folder has no ``__init__.py`` on purpose: as a package named ``lava`` it would
shadow the ``lava`` namespace package of lava-nc once ``tests/`` is on ``sys.path``.
"""
