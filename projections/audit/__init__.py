"""The audit: exports, signed checkpoints, proofs, diffs and the checks `verify` runs; the
standalone verifier an auditor copies alone."""
