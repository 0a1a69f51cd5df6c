"""`import`: JSON Lines files of operations, and files written by `export`."""
