"""Automatic model tuning: ranges, validation, the request, its cost, and watching the children.

Plain Python over boto3; the Tune screen and the sandbox use these pieces, never the other way round.
"""
