# APScheduler 3: only what `campus.scheduler` uses.
from collections.abc import Callable
from collections.abc import Iterable
from datetime import datetime

class BlockingScheduler:
    def __init__(self, *, timezone: str) -> None: ...
    @property
    def running(self) -> bool: ...
    def add_job(
        self,
        func: Callable[..., object],
        trigger: str,
        *,
        args: Iterable[object],
        seconds: int,
        next_run_time: datetime,
        max_instances: int,
        coalesce: bool,
    ) -> object: ...
    def start(self) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
