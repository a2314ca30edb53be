"""When `oms dev` restarts a part of the stack that died, and when it gives up.

A pure rule, so it is tested without processes: the delay before a restart doubles
with each death still inside the window (0.5 s, 1 s, 2 s … up to a cap); the
`limit`-th death inside the window ends the stack instead."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class RestartPolicy:
    first_delay: float = 0.5
    max_delay: float = 10.0
    limit: int = 5  # this many deaths within `window` seconds: give up
    window: float = 60.0

    def delay(self, recent_deaths: int) -> float:
        """Seconds to wait before a restart, given the deaths inside the window
        (this one included)."""
        return min(self.max_delay, self.first_delay * 2.0 ** max(0, recent_deaths - 1))


@dataclass(frozen=True, kw_only=True)
class Restart:
    delay: float
    count: int  # restarts of this part so far, this one included


@dataclass(frozen=True, kw_only=True)
class GiveUp:
    deaths: int  # deaths inside the window, this one included
    window: float


@dataclass(kw_only=True)
class DeathRecord:
    """The deaths of one part; `died` says what follows each."""

    policy: RestartPolicy
    restarts: int = 0
    _deaths: list[float] = field(default_factory=list)

    def died(self, now: float) -> Restart | GiveUp:
        """`now` is a monotonic clock reading."""
        self._deaths = [t for t in self._deaths if now - t < self.policy.window] + [now]
        recent = len(self._deaths)
        if recent >= self.policy.limit:
            return GiveUp(deaths=recent, window=self.policy.window)
        self.restarts += 1
        return Restart(delay=self.policy.delay(recent), count=self.restarts)
