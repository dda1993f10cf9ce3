"""`hotline simulate`: a period of the seed's traffic played against the suite's public APIs."""
