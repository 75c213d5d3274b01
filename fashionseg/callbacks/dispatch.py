"""fastai's Learner with a cheaper per-batch event dispatch. fastai calls every callback for every event, and a
callback without a handler for it answers through a missed attribute lookup forwarded to the learner
(`GetAttr`): eight events a batch times a dozen callbacks, most of them with nothing to do. This Learner calls,
for the per-batch events, only the callbacks that handle the event, in fastai's order, through fastai's own
`Callback.__call__` (so `run`, `run_train`, `run_valid` and the exception wrapping are unchanged)."""
from __future__ import annotations

import fastai.learner

# fastai's inner-loop events (fastai.callback.core._inner_loop): called once or more per batch
PER_BATCH = frozenset({"before_batch", "after_pred", "after_loss", "before_backward", "after_cancel_backward",
                       "after_backward", "before_step", "after_step", "after_cancel_batch", "after_batch"})


def handles(cb, event_name: str) -> bool:
    """Whether `cb` has its own handler for `event_name` (on its class or set on it), not one found through
    `GetAttr`'s forwarding to the learner."""
    return event_name in vars(cb) or any(event_name in vars(klass) for klass in type(cb).__mro__)


class Learner(fastai.learner.Learner):
    """fastai's Learner; per-batch events go only to the callbacks that handle them (see the module)."""

    def __call__(self, event_name):
        for name in (event_name,) if isinstance(event_name, str) else event_name:
            self._call_one(name)

    def _call_one(self, event_name):
        if event_name not in PER_BATCH:
            return super()._call_one(event_name)
        cbs = self.cbs
        key = (event_name, *map(id, cbs))  # the callbacks as they are now: any added or removed changes it
        cache = self.__dict__.setdefault("_handlers", {})
        entry = cache.get(key)
        if entry is None:
            if len(cache) > 256:  # callbacks added and removed many times (e.g. repeated fits): start afresh
                cache.clear()
            # the entry keeps its callbacks alive, so no other object can take one's id while it is cached
            entry = cache[key] = (tuple(cbs), [cb for cb in cbs.sorted("order") if handles(cb, event_name)])
        for cb in entry[1]:
            cb(event_name)

    def __getstate__(self):
        return {k: v for k, v in super().__getstate__().items() if k != "_handlers"}
