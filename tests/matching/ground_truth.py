"""Scoring the portal's catalog against the sandbox's ground truth (sandbox.catalog.truth): precision of the
automatic matches, recall of true same-product/same-store pairs, and what suggestions cover."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from inventory.models import ProductMapping, StoreMapping


@dataclass
class Score:
    true_pairs: int = 0
    matched_pairs: int = 0  # true pairs whose two records point at one product/store
    wrong_pairs: int = 0  # pairs put together that the truth says differ
    together_pairs: int = 0
    unmatched_without_suggestion: list = field(default_factory=list)

    @property
    def precision(self) -> float:
        return 1.0 if not self.together_pairs else (self.together_pairs - self.wrong_pairs) / self.together_pairs

    @property
    def recall(self) -> float:
        return 1.0 if not self.true_pairs else self.matched_pairs / self.true_pairs


def score(truth: dict, kind: str, accounts: dict[str, str], retailer_id: int) -> Score:
    """``kind``: "items" or "locations". Only records the portal has stored are scored (all should be)."""
    model, target = (ProductMapping, "product") if kind == "items" else (StoreMapping, "store")
    records = {}  # (provider, external id) -> (target id, suggested id, automatic)
    rows = model.objects.filter(retailer_id=retailer_id).values_list(
        "provider", "external_id", f"{target}_id", f"suggested_{target}_id")
    for provider, external_id, target_id, suggested in rows:
        records[(provider, external_id)] = (target_id, suggested)
    by_truth = defaultdict(list)
    for provider, ids in truth[kind].items():
        for external_id, true_id in ids.items():
            assert (provider, external_id) in records, f"{provider} {external_id} never reached the portal"
            by_truth[true_id].append((provider, external_id))
    result = Score()
    for members in by_truth.values():
        for a, b in combinations(members, 2):
            result.true_pairs += 1
            (ta, sa), (tb, sb) = records[a], records[b]
            if ta is not None and ta == tb:
                result.matched_pairs += 1
            elif not ((ta is None and sa is not None and sa == tb) or (tb is None and sb is not None and sb == ta)
                      or (ta is None and tb is None and sa is not None and sa == sb)):
                result.unmatched_without_suggestion.append((a, b, records[a], records[b]))
    truth_of = {(p, e): t for p, ids in truth[kind].items() for e, t in ids.items()}
    by_target = defaultdict(list)
    for key, (target_id, _) in records.items():
        if target_id is not None and key in truth_of:
            by_target[target_id].append(truth_of[key])
    for truths in by_target.values():
        for x, y in combinations(truths, 2):
            result.together_pairs += 1
            result.wrong_pairs += x != y
    return result
