"""What every layer may use: atomic files (`files`), the rank-0 side-effect policy (`rank`),
multi-process training (`distributed`; fastai's data-parallel trainer for launched runs in `sharded`), the
compute device (`device`), and the allocator setting
(`allocator`)."""
