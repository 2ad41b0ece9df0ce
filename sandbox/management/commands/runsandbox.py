"""``manage.py runsandbox [--port 8100] [--events N] [--products ...]``: the provider sandbox server.

Registered apps use the portal's local client ids/secrets/signature key (read from settings at start-up);
webhooks go to settings.BASE_URL. Tokens persist under VAR_DIR/sandbox/ so a restart keeps local connections.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from sandbox.changes import EventGenerator, default_account
from sandbox.data import Sizes
from sandbox.server import SandboxServer
from sandbox.state import PROVIDERS, SandboxConfig


class Command(BaseCommand):
    help = "Run the local provider sandbox (Square, Shopify, NetSuite stand-ins)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--events", type=float, default=0.0, help="random data changes (webhooks) per second")
        parser.add_argument("--products", type=int, default=Sizes.products)
        parser.add_argument("--locations", type=int, default=Sizes.locations)
        parser.add_argument("--orders", type=int, default=Sizes.orders)
        parser.add_argument("--seed", default="shelfops")
        parser.add_argument("--duplicates", type=float, default=0.05, help="probability of a duplicate delivery")
        parser.add_argument("--retailer", default="",
                            help="make the default Square, Shopify and NetSuite accounts one retailer's systems, "
                                 "drawing from this seed's ground-truth catalog (sandbox/catalog.py)")
        parser.add_argument("--retry-scale", type=float, default=1.0,
                            help="multiply the providers' webhook retry schedules (e.g. 0.01 for demos)")

    def handle(self, *args, **opts):
        config = SandboxConfig.from_django_settings(
            seed=opts["seed"], sizes=Sizes(products=opts["products"], locations=opts["locations"],
                                           orders=opts["orders"]),
            duplicate_webhook_probability=opts["duplicates"], webhook_retry_scale=opts["retry_scale"],
            persist_dir=str(settings.VAR_DIR / "sandbox"),
        )
        server = SandboxServer(config, host=opts["host"], port=opts["port"])
        if opts["retailer"]:
            server.state.add_retailer(opts["retailer"], {p: default_account(server.state, p) for p in PROVIDERS})
        generator = EventGenerator(server.app, opts["events"]).start() if opts["events"] > 0 else None
        self.stdout.write(f"Provider sandbox on {server.url} (webhooks to {config.portal_base_url}); Ctrl-C stops.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if generator:
                generator.stop()
