"""Bulk export of a synced resource: every row the paged API would list for the same filters, streamed as NDJSON
or CSV in one response, ending with the changes-feed position to follow from (see ``views.ExportMixin``)."""
