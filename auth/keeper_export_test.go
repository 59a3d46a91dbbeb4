package auth

import "time"

// SetIdleHook makes Run call f each time it is about to wait, with the time
// its wait was computed from and the number of refreshes in flight, so that
// tests on a fake clock know when the loop has caught up. Call before Run.
func SetIdleHook(k *Keeper, f func(now time.Time, inflight int)) { k.idle = f }

// Spread is how much earlier than its window a session's refresh is due
// (see Session.RefreshDue), for tests that check exact schedules.
func Spread(name string, d time.Duration) time.Duration { return spread(name, d) }
