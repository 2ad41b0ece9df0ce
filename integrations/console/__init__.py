"""The staff operations console: the admin home dashboard, its SVG charts, ``/metrics`` and structured logs."""
