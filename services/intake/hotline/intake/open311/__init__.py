"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) for the city's website, app and
WeChat account: the category catalogue as services, citizens' requests taken as tickets by the
ticket webhook's own rules, and their status read back. JSON only; errors as the spec writes
them (a list of `{code, description}`), not problem+json."""
