package redisstore

import (
	"context"
	"time"
)

// FoldAll folds the pending deltas of every listed hour, as retention does
// for hours no writer folded (and, as retention, goes past an hour a key of
// which holds another program's value).
func (s *Store) FoldAll(ctx context.Context) error {
	hs, err := s.usage(ctx)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.pending > 0 {
			if err := s.fold(ctx, h.hour); err != nil && !isForeign(err) {
				return err
			}
		}
	}
	return nil
}

// Pending returns the number of deltas not folded, over every hour.
func (s *Store) Pending(ctx context.Context) (int64, error) {
	hs, err := s.usage(ctx)
	var n int64
	for _, h := range hs {
		n += h.pending
	}
	return n, err
}

// SetMaxValue sets the size over which a value the store reads is taken
// for another program's and left in Redis, and over which Write refuses a
// record.
func (s *Store) SetMaxValue(n int64) { s.maxValue = n }

// RepairHours repairs the hours list now if a read or write found it
// damaged, as the fold loop does in the background.
func (s *Store) RepairHours(ctx context.Context) error { return s.repairIfDamaged(ctx) }

// SetReprobe sets how often a store whose user was refused the channel
// asks again.
func (s *Store) SetReprobe(d time.Duration) { s.reprobe.Store(int64(d)) }

// SetBeforeUnwrite sets a function a write calls before it undoes what it
// stored of records it dropped (see unwrite).
func (s *Store) SetBeforeUnwrite(fn func()) { s.beforeUnwrite = fn }

// AllocSize is what MaxBytes counts for a value of n bytes.
func AllocSize(n int64) int64 { return allocSize(n) }

// SetCleanIDsHook sets a function retention calls after it has found
// entries of the ids hash whose hour is gone (and checked that the hour
// holds no record of theirs) and before it deletes them.
func (s *Store) SetCleanIDsHook(fn func()) { s.cleanIDsHook = fn }

// SetSettleHook sets a function a write settling IDs moved to another
// hour calls with "read" before it reads where their versions are, and
// with "delete" before it deletes the old versions.
func (s *Store) SetSettleHook(fn func(stage string)) { s.settleHook = fn }

// SetWriteHook sets a function a write calls with "listed" once its
// pipeline (the hours listed, the ids hash read or named) has returned,
// and with "tx" before each hour's transaction.
func (s *Store) SetWriteHook(fn func(stage string)) { s.writeHook = fn }

// SingleServer reports whether the store takes the writes whose
// transactions span several slots (a *redis.Client whose server said
// cluster_enabled:0).
func (s *Store) SingleServer() bool { return s.single }

// CheckEvictions reads Redis's INFO for evictions now, as the fold loop
// does every evictEvery.
func (s *Store) CheckEvictions(ctx context.Context) { s.checkEvictions(ctx) }

// SetDownUntil sets when the backoff after a failed write ends (writes are
// dropped at once until then, as after the failure): a test holds the
// backoff for as long as its checks take, however slow the machine, then
// ends it.
func (s *Store) SetDownUntil(t time.Time) {
	s.omu.Lock()
	s.downUntil = t
	s.omu.Unlock()
}
