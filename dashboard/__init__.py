"""The labeling web app (Dash). Never imports JAX: training runs in dashboard.worker."""
