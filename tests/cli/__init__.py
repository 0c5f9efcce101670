"""Tests of the `keyguard` command (a package, so this folder's conftest has its own name)."""
