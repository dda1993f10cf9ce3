"""`hotline province`: the provincial 12345 supervision platform's side of the exchange, run here
as a simulator so that tests, benchmarks and `make run` have a province to upload to.

It speaks `generic-v1` (`hotline.provincial_sync.adapters.generic_v1`) exactly as a province
would: signed uploads answered per record, spot checks (抽查) and data-quality findings pushed
back to provincial-sync. It keeps everything in memory — a restart forgets every record — and
an admin API makes it misbehave on purpose (down, slow, rate-limited, refusing, noisy).
"""
