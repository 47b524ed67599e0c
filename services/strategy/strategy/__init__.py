"""The strategy service: the cross-silo view a Chief Community Officer steers by."""
