"""Tests of kim."""
