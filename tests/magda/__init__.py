"""Tests of the MAGDA registry layer: messages, simulator, client and commands."""
