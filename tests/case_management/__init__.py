"""Tests of case management."""
