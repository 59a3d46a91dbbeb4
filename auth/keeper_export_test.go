package auth

import "time"

// SetIdleHook makes Run call f each time it is about to wait, with the time
// its wait was computed from and the number of refreshes in flight, so that
// tests on a fake clock know when the loop has caught up. Call before Run.
func SetIdleHook(k *Keeper, f func(now time.Time, inflight int)) { k.idle = f }
