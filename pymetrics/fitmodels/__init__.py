"""Job-fit models: training, the registry, bias audits, A/B tests, anomaly review."""
