"""Runtime: process-level plumbing every layer may use.

The CPR log mask and the private state folder for the embedded SQLite files.

May import: nothing else of borgersag.
"""
