"""The listening service: what the outside says (mentions, sentiment, e-reputation) and the FAQ."""
