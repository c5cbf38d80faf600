"""Real retail markets: Dominick's orange juice (loader, baselines, metrics, the agent model's
fit and the held-out comparison behind ``campaign-lab validate-real``)."""
