"""Staging: each stage plans from plain data (pure, tested with tables) and writes into a staging dir.

Stages never touch the source checkpoint and never touch the network.
"""
