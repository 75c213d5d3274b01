"""Keep the few test items that matter for a report (highest loss, lowest IoU) while streaming."""
from __future__ import annotations

import heapq
from itertools import count


class TopItems:
    """The `k` items with the highest score seen so far; a payload is built only for an item that enters."""

    def __init__(self, k: int):
        self.k, self.heap, self.tiebreak = k, [], count()

    def add(self, score: float, make):
        """Offer an item scored `score`; `make()` builds what is kept for it (e.g. a copy of its image)."""
        if len(self.heap) < self.k:
            heapq.heappush(self.heap, (score, -next(self.tiebreak), make()))
        elif score > self.heap[0][0]:
            heapq.heapreplace(self.heap, (score, -next(self.tiebreak), make()))

    def items(self) -> list:
        """The kept payloads, highest score first (earlier items first among equal scores)."""
        return [payload for _, _, payload in sorted(self.heap, key=lambda e: (e[0], e[1]), reverse=True)]
