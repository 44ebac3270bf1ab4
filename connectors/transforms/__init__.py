"""Transforms: the spec's `transform` rules applied to a stream of Arrow batches."""
