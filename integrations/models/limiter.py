from django.db import models


class ProviderAccountState(models.Model):
    """Rate budget, concurrency leases and circuit-breaker state of one provider account, shared by every
    process when there is no Redis (the embedded default). Keys: ``budget:<account>``, ``slots:<account>``,
    ``breaker:<account>``; ``data`` is the state dict of ``integrations.http.store.algorithms``."""

    key = models.CharField(max_length=255, unique=True)
    data = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "provider account limiter state"

    def __str__(self) -> str:
        return self.key
