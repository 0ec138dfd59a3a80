package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/redact"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
)

// ErrUnavailable is wrapped by the error of a Write that dropped its
// records because Redis did not answer, or failed (refused the write:
// full, say), or because an earlier Write found it so less than a backoff
// ago. It wraps [store.ErrUnavailable], as the error of a read that found
// Redis away does, so that a caller that knows only the [store.Store]
// interface can tell an outage from other errors.
var ErrUnavailable error = sentinel{"redisstore: redis unavailable, records dropped", store.ErrUnavailable}

// A sentinel is an error value of this package that wraps one of package
// store's, and reads as its own message alone.
type sentinel struct {
	msg   string
	wraps error
}

func (e sentinel) Error() string { return e.msg }
func (e sentinel) Unwrap() error { return e.wraps }

// Store is a [store.Store] in Redis or a Redis Cluster, shared by every
// process that opens it with the same prefix. Its methods are safe for
// concurrent use.
type Store struct {
	rdb redis.UniversalClient
	// given is the client given to New (or Open's): rdb, or the client
	// whose bounded clone rdb is.
	given redis.UniversalClient
	own   bool // Close closes rdb
	// single: rdb is a *redis.Client whose server said it is no node
	// of a Redis Cluster (cluster_enabled:0), decided once at Open or
	// New. Only then do a write's transactions and scripts use keys of
	// different slots; every other client (a *redis.ClusterClient, a
	// *redis.Ring, a server that was not asked or did not answer) keeps
	// each transaction and script within one slot.
	single bool
	opts   Options
	k      keys
	log    *convention.Logger
	token  string // this store's lease value
	lua    readScripts
	// rewrite cleans up after records written again (see rewrite.go).
	rewrite rewriteScripts

	// mu guards rdb against Close: every operation holds it shared.
	mu     sync.RWMutex
	closed bool

	// Writing and outages.
	// Values longer than maxValue are another program's: reads leave
	// them in Redis (see maxValue, the default).
	maxValue int64

	omu       sync.Mutex
	downUntil time.Time // writes are dropped until then
	backoff   time.Duration
	lastErr   error
	failing   bool      // the last write that tried Redis failed
	failGen   uint64    // failed writes, so that a probe knows none came since it began
	okAt      time.Time // when a write last succeeded
	retrying  int       // writes trying Redis again after a failure, in flight
	written   atomic.Uint64
	dropped   atomic.Uint64
	failures  atomic.Uint64
	ahead     atomic.Uint64

	// Redis's clock: redis = local - clockOff, if clockKnown; TIME was
	// last asked at clockAt (local).
	clockMu    sync.Mutex
	clockAt    time.Time
	clockOff   time.Duration
	clockKnown bool

	// Entries found damaged (see damaged).
	skipped     atomic.Uint64
	damagedMu   sync.Mutex
	damagedKeys map[uint64]struct{}
	hoursBad    atomic.Bool // the hours list needs repairHours
	repairMu    sync.Mutex  // held by repairIfDamaged: one repair at a time
	idsSeen     atomic.Bool // the ids hash existed at the last write (or none yet): writes read it

	// The ACL user may not publish, or subscribe, to the channel (as Redis
	// last said: both are asked again every reprobe, a duration in ns).
	noPublish, noSubscribe atomic.Bool
	reprobe                atomic.Int64
	subMu                  sync.Mutex
	subErrs                map[*subState]subFailure // why each failing Subscribe's receive last failed, until it succeeds or ends
	probeMu                sync.Mutex
	pubProbeAt             time.Time // when publishing was last tried, while refused

	// dirty holds the hours this store wrote to since it last folded them.
	dmu    sync.Mutex
	dirty  map[int64]bool
	listed map[int64]bool // hours this store's writes listed (see relisted)

	foldNow   chan struct{}
	repairNow chan struct{} // wakes the fold loop to repair the hours list
	probeNow  chan struct{} // wakes the fold loop to probe writing after a failed write
	evictMu   sync.Mutex
	evictBase int64       // Redis's evicted_keys when first read (-1: not yet)
	evictN    int64       // keys Redis evicted since
	evictPol  string      // Redis's maxmemory_policy, where it evicts
	noInfo    atomic.Bool // the user may not run INFO: evictions are not watched
	stop      chan struct{}
	bg        context.Context // cancelled by Close, for background work
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	once      sync.Once
	err       error

	beforeUnwrite func()             // tests: called before a write's unwrite
	cleanIDsHook  func()             // tests: called by cleanIDs before its deletes
	writeHook     func(stage string) // tests: called by a write, "listed" after its pipeline, "tx" before each transaction
	settleHook    func(stage string) // tests: called by settleLocked, "read" first, "delete" before its deletes
}

var _ store.Store = (*Store)(nil)

// Open connects to the Redis at rawURL and opens the store in it.
//
// The URL is what go-redis parses ([redis.ParseURL]):
// redis://[user:password@]host:port[/db][?options] or rediss:// for TLS,
// with AUTH from the user info. A Redis Cluster is detected by asking the
// server (INFO cluster, or CLUSTER INFO for an ACL user refused INFO), so
// the address of any node will do; more seed
// nodes can be given with addr= options ([redis.ParseClusterURL]), and
// cluster=true skips the detection. A prefix= option sets [Options.Prefix]
// (so a URL alone can name a service's records in a shared Redis). Open fails, with the URL's password
// redacted, if the URL is malformed, or the server refuses the user, or
// does not answer PING before ctx ends: a store opened successfully
// survives later outages. Open also asks whether the user may publish and
// subscribe to the store's channel (prefix:events): a user who may not
// has the store's records but no live updates, which [Store.Health] and
// the log say.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	rawURL, prefix, err := cutPrefix(rawURL)
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		if opts.Prefix != "" && opts.Prefix != prefix {
			return nil, fmt.Errorf("redisstore: the URL says prefix=%q, the options %q", prefix, opts.Prefix)
		}
		opts.Prefix = prefix
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rdb, err := dial(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	pubErr, subErr, err := checkChannel(ctx, rdb, keys{o.Prefix}.events())
	if err != nil {
		rdb.Close()
		return nil, dialError(redact.URL(rawURL), err)
	}
	_, single := rdb.(*redis.Client) // dial's: not a cluster node
	s := newStore(rdb, o, single)
	if pubErr != nil {
		s.refusedPublish(pubErr)
	}
	if subErr != nil {
		s.refusedSubscribe(subErr)
	}
	s.own = true
	return s, nil
}

// New opens the store in the Redis that rdb talks to (a *redis.Client, a
// *redis.ClusterClient, a *redis.Ring, or any other
// [redis.UniversalClient]). The store does not close rdb.
//
// The store bounds every round trip it sends: a Write, and each
// background operation (folds, retention, the probe, the eviction check),
// by [Options.WriteTimeout], so that a Redis that stops answering holds
// neither a Write nor Close for longer (plus, for a connection being
// dialled, rdb's DialTimeout); a read by its context. With
// ContextTimeoutEnabled in rdb's options (as Open sets it), go-redis
// takes those deadlines from the contexts. A *redis.Client without it
// leaves contexts' deadlines out of its commands, waiting for its own read
// timeout instead: the store then sends everything through a clone of rdb
// made by its WithTimeout, with WriteTimeout as its read and write
// timeouts (it shares rdb's pool, but runs none of rdb's hooks, and a read
// longer than WriteTimeout fails; a context ending early does not cut a
// command short). A *redis.ClusterClient or *redis.Ring has no such
// clone: New refuses one without ContextTimeoutEnabled, naming the
// option. Set it, and the store's commands run rdb's hooks.
//
// For a *redis.Client, New asks the server once, within
// [Options.WriteTimeout], whether it is a node of a
// Redis Cluster (as Open does): only a server that says it is not
// (cluster_enabled:0) gets the writes whose transactions span several
// slots (see the package doc, "One server or a cluster"). Every other
// client, and a server that does not answer then, gets the writes that
// keep to one slot, which are correct on any server. New does not fail
// for an unanswered question; it logs it at Warn ([Options.Logger]).
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		if !c.Options().ContextTimeoutEnabled {
			return nil, errUnbounded("*redis.ClusterClient")
		}
	case *redis.Ring:
		if !c.Options().ContextTimeoutEnabled {
			return nil, errUnbounded("*redis.Ring")
		}
	}
	use := rdb
	single := false
	var unanswered error
	if c, ok := rdb.(*redis.Client); ok {
		// A client whose options leave contexts' deadlines out of its
		// commands (ContextTimeoutEnabled false) is used through a clone
		// with WriteTimeout as its read and write timeouts (it shares
		// c's pool; go-redis gives it none of c's hooks).
		if !c.Options().ContextTimeoutEnabled {
			c = c.WithTimeout(o.WriteTimeout)
			use = c
		}
		ctx, cancel := context.WithTimeout(context.Background(), o.WriteTimeout)
		isCluster, err := clusterNode(ctx, c)
		cancel()
		single = err == nil && !isCluster
		unanswered = err
	}
	s := newStore(use, o, single)
	s.given = rdb
	if unanswered != nil {
		s.log.Warn("redisstore: the server did not answer whether it is a cluster node: the store takes the writes that keep to one slot", "error", unanswered, "write_timeout", o.WriteTimeout)
	}
	return s, nil
}

// errUnbounded is New's refusal of a client of type what (which has no
// WithTimeout) whose options leave contexts' deadlines out of its
// commands.
func errUnbounded(what string) error {
	return fmt.Errorf("redisstore: New: a %s without ContextTimeoutEnabled: the store's deadlines would not bound its commands, and a node that stops answering would hold writes and Close for the client's read timeout; set ContextTimeoutEnabled in its options", what)
}

func newStore(rdb redis.UniversalClient, o Options, single bool) *Store {
	var tok [12]byte
	rand.Read(tok[:])
	bg, cancel := context.WithCancel(context.Background())
	s := &Store{
		rdb: rdb, given: rdb, opts: o, k: keys{o.Prefix}, single: single,
		log:       convention.NewLogger(o.Logger, convention.LogInterval),
		token:     hex.EncodeToString(tok[:]),
		lua:       newReadScripts(),
		rewrite:   newRewriteScripts(),
		maxValue:  maxValue,
		dirty:     make(map[int64]bool),
		listed:    make(map[int64]bool),
		foldNow:   make(chan struct{}, 1),
		repairNow: make(chan struct{}, 1),
		probeNow:  make(chan struct{}, 1),
		evictBase: -1,
		stop:      make(chan struct{}),
		bg:        bg,
		cancel:    cancel,
	}
	s.reprobe.Store(int64(reprobeInterval))
	s.idsSeen.Store(true)
	s.wg.Add(2)
	go s.foldLoop()
	go s.retentionLoop()
	return s
}

// cutPrefix takes the prefix= option, which is this package's, not
// go-redis's, out of a URL.
func cutPrefix(rawURL string) (string, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !u.Query().Has("prefix") {
		return rawURL, "", nil // dial explains a bad URL
	}
	q := u.Query()
	prefix := q.Get("prefix")
	if prefix == "" {
		return "", "", fmt.Errorf("redisstore: %s: an empty prefix=", redact.URL(rawURL))
	}
	q.Del("prefix")
	u.RawQuery = q.Encode()
	return u.String(), prefix, nil
}

// dial parses rawURL, connects, and returns a cluster client if the server
// is a cluster node.
func dial(ctx context.Context, rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return nil, fmt.Errorf("redisstore: %q is not a redis:// or rediss:// URL (redis://[user:password@]host:port[/db])", redact.URL(rawURL))
	}
	shown := redact.URL(rawURL)
	if u.User == nil && redact.CutUser(rawURL) {
		// Dialing would send the user name to DNS, and go-redis's errors
		// would show the rest of the password as options or a database.
		return nil, fmt.Errorf("redisstore: %s: an '@' after the host: percent-encode '#', '?', '/' and '@' in the user name, password and options", shown)
	}
	q := u.Query()
	cluster := q.Has("addr")
	if v := q.Get("cluster"); v != "" {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			cluster = true
		case "0", "false", "no":
		default:
			return nil, fmt.Errorf("redisstore: %s: cluster=%q: want true or false", shown, v)
		}
		q.Del("cluster")
		u.RawQuery = q.Encode()
	}
	var rdb redis.UniversalClient
	if cluster {
		// go-redis's cluster URL ignores a database: name it an error,
		// as the detection below does, rather than use database 0.
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return nil, fmt.Errorf("redisstore: %s: a Redis Cluster has no database %s", shown, db)
		}
		co, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redisstore: %s: %w", shown, err)
		}
		co.ContextTimeoutEnabled = true
		rdb = redis.NewClusterClient(co)
	} else {
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redisstore: %s: %w", shown, err)
		}
		o.ContextTimeoutEnabled = true
		c := redis.NewClient(o)
		isCluster, err := clusterNode(ctx, c)
		if err != nil {
			c.Close()
			return nil, dialError(shown, err)
		}
		if !isCluster {
			return c, nil
		}
		c.Close()
		if o.DB != 0 {
			return nil, fmt.Errorf("redisstore: %s: a Redis Cluster has no database %d", shown, o.DB)
		}
		rdb = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: []string{o.Addr}, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
			Protocol: o.Protocol, ClientName: o.ClientName, DialTimeout: o.DialTimeout,
			ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, PoolSize: o.PoolSize,
			MaxRetries: o.MaxRetries, ContextTimeoutEnabled: true,
		})
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, dialError(shown, err)
	}
	return rdb, nil
}

// clusterNode reports whether the server c talks to is a node of a Redis
// Cluster: INFO says so; for an ACL user without @dangerous (INFO's
// category) CLUSTER INFO does, which answers a single server with an error
// (cluster support disabled); a user refused that too is taken for a
// single server, once PING shows that it may connect.
func clusterNode(ctx context.Context, c *redis.Client) (bool, error) {
	info, err := c.Info(ctx, "cluster").Result()
	if err == nil {
		return strings.Contains(info, "cluster_enabled:1"), nil
	}
	if !noPerm(err) {
		return false, err
	}
	err = c.ClusterInfo(ctx).Err()
	if err == nil {
		return true, nil
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return false, err
	}
	// Refused, or cluster support disabled.
	return false, c.Ping(ctx).Err()
}

// checkChannel asks whether the user may publish and subscribe to the
// store's channel (Redis 7 gives a new ACL user no channel): publishing an
// empty message, which subscribers ignore, and subscribing once tell. It
// returns Redis's refusals, and the error of a failed round trip.
func checkChannel(ctx context.Context, rdb redis.UniversalClient, channel string) (pub, sub, err error) {
	if err := rdb.Publish(ctx, channel, "").Err(); err != nil {
		if !noPerm(err) {
			return nil, nil, err
		}
		pub = err
	}
	ps := rdb.Subscribe(ctx)
	defer ps.Close()
	if err := ps.Subscribe(ctx, channel); err != nil {
		return nil, nil, err
	}
	// The first reply confirms the subscription, or refuses it.
	if _, err := ps.Receive(ctx); err != nil {
		if !noPerm(err) {
			return nil, nil, err
		}
		sub = err
	}
	return pub, sub, nil
}

// refusedPublish notes that the user may not publish to the store's
// channel: writes leave their announcement out from now on (else Redis
// would refuse their transactions whole), and Health and the log say that
// dashboards do not refresh live.
func (s *Store) refusedPublish(err error) {
	s.probeMu.Lock()
	s.pubProbeAt = time.Now()
	s.probeMu.Unlock()
	if s.noPublish.Swap(true) {
		return
	}
	s.log.Warn("redisstore: writes are not announced, dashboards do not refresh live: the user may not publish to the channel",
		"channel", s.k.events(), "err", err)
}

// reprobeInterval is how often a store whose user was refused the channel
// asks again (the ACL may have been granted since): a write announces
// itself again (if Redis refuses, the write is made again without it), and
// Subscribe subscribes again.
const reprobeInterval = 5 * time.Minute

// mayPublish reports whether a write is to announce itself: yes unless the
// user was refused the channel less than a reprobe ago.
func (s *Store) mayPublish() bool {
	if !s.noPublish.Load() {
		return true
	}
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	if time.Since(s.pubProbeAt) < time.Duration(s.reprobe.Load()) {
		return false
	}
	s.pubProbeAt = time.Now()
	return true
}

// published notes that Redis took a write's announcement: if the user was
// refused the channel, it has been granted it.
func (s *Store) published() {
	if s.noPublish.Swap(false) {
		s.log.Warn("redisstore: writes are announced again: the user may publish to the channel", "channel", s.k.events())
	}
}

// refusedSubscribe notes that the user may not subscribe to the store's
// channel, for Health and the log.
func (s *Store) refusedSubscribe(err error) {
	if s.noSubscribe.Swap(true) {
		return
	}
	s.log.Warn("redisstore: no live updates: the user may not subscribe to the channel", "channel", s.k.events(), "err", err)
}

// dialError says why the server at shown (a redacted URL) could not be
// used: it did not answer, or it refused (a wrong password, a user
// without the permission).
func dialError(shown string, err error) error {
	var re redis.Error
	if errors.As(err, &re) {
		return fmt.Errorf("redisstore: %s refused: %w", shown, err)
	}
	return fmt.Errorf("redisstore: %s is unreachable: %w", shown, err)
}

// noPerm reports whether err is Redis refusing a command the ACL user may
// not run.
func noPerm(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "NOPERM ")
}

// Client returns the Redis client given to [New], or the one Open made.
func (s *Store) Client() redis.UniversalClient { return s.given }

// rlock takes s.mu shared, or returns ErrClosed once the store is closed.
func (s *Store) rlock() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

// joinDistinct joins errs as [errors.Join] does, leaving out nil errors
// and any whose message an earlier one has: the round trips of one write
// that fail together fail alike, and an operator reads why once.
func joinDistinct(errs ...error) error {
	seen := make(map[string]bool, len(errs))
	kept := errs[:0:0]
	for _, err := range errs {
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			kept = append(kept, err)
		}
	}
	return errors.Join(kept...)
}

// wrap adds what failed to a Redis error, makes a closed client's error
// [store.ErrClosed], and marks the error of a Redis that did not answer
// or refused the connection [store.ErrUnavailable].
func wrap(what string, err error) error {
	if errors.Is(err, redis.ErrClosed) {
		err = store.ErrClosed
	} else if unreachable(err) {
		err = unavailableError{err}
	}
	return fmt.Errorf("redisstore: %s: %w", what, err)
}

// unreachable reports whether err says that Redis is away rather than
// that it answered: a failed dial or connection, a timeout, no connection
// free in time, or a server not serving yet or any more (loading its
// data, a replica without its master, a cluster down), or refusing this
// user (a password changed).
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's: said as such
	}
	var re redis.Error
	if errors.As(err, &re) {
		for _, p := range []string{"LOADING ", "MASTERDOWN ", "CLUSTERDOWN ", "TRYAGAIN ", "NOAUTH ", "WRONGPASS "} {
			if strings.HasPrefix(re.Error(), p) {
				return true
			}
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, syscall.ECONNRESET)
}

// An unavailableError is a Redis error that says Redis is away: it reads
// as the error, and is [store.ErrUnavailable] too.
type unavailableError struct{ err error }

func (e unavailableError) Error() string { return e.err.Error() }
func (e unavailableError) Unwrap() error { return e.err }

// Is makes the error [store.ErrUnavailable].
func (e unavailableError) Is(target error) bool { return target == store.ErrUnavailable }

var _ store.HealthReporter = (*Store)(nil)

// WriteStats says how writing to Redis has gone since the store was opened.
type WriteStats struct {
	Written   uint64 // records stored
	Dropped   uint64 // records lost: Redis was unreachable, slow or failing, a key of their hour held another program's value, or a record was larger than the store reads back (records of a Write that timed out after sending its transaction are counted, though a Redis that was only slow stores them when it gets to them)
	Failures  uint64 // Write calls that lost records
	Ahead     uint64 // records shifted back to Redis's clock (and stored) for starting more than MaxAhead after it
	Down      bool   // writes are being dropped until the backoff ends
	Failing   bool   // the last write that tried Redis failed, and neither a write nor the background probe has succeeded since
	Retrying  bool   // a write is trying Redis again after a failed one (and may be waiting for it)
	LastError string // the last write error, if any
}

// WriteStats returns the store's write counters.
func (s *Store) WriteStats() WriteStats {
	s.omu.Lock()
	defer s.omu.Unlock()
	h := WriteStats{
		Written: s.written.Load(), Dropped: s.dropped.Load(), Failures: s.failures.Load(), Ahead: s.ahead.Load(),
		Down: time.Now().Before(s.downUntil), Failing: s.failing, Retrying: s.retrying > 0,
	}
	if s.lastErr != nil {
		h.LastError = s.lastErr.Error()
	}
	return h
}

// Health reports the store's condition for the dashboard and api/health,
// without asking Redis: [store.StateUnavailable] from a failed write until
// a write succeeds — while writes back off after the failure, while a
// write tries Redis again, and between, when no write has come since the
// backoff ended (Detail says which, and Redis's error), until Redis takes
// the probe the store sends in the background when a backoff ends and no
// write has come — the records dropped and the damaged
// entries skipped since Open, and MaxBytes. While writing is ok, Detail
// says when records from the future were stored shifted back to Redis's
// clock (naming this host's clock's lead on Redis's), when Redis has
// evicted keys since the store opened (read from INFO in the background,
// every few seconds), and when live
// updates are off (an ACL user refused the channel, or a Subscribe's
// subscription failing, with Redis's error: then the state is
// [store.StateUnavailable] too, unless a write has succeeded since the
// subscription began failing — Redis being away or refusing this user,
// which a store that only reads, as appstats serve's, learns no other
// way). A Redis store has no disk of its own: DiskBytes is 0 and
// DiskFree -1 (unknown).
func (s *Store) Health() store.Health {
	ws := s.WriteStats()
	h := store.Health{State: store.StateOK, Dropped: ws.Dropped, Skipped: s.skipped.Load(), DiskFree: -1, MaxBytes: max(s.opts.MaxBytes, 0)}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	switch {
	case closed:
		h.State = store.StateClosed
	case ws.Down:
		h.State = store.StateUnavailable
		h.Detail = "writing to Redis failed, records are dropped until a write succeeds again (Redis down, or refusing the writes: the error says which): " + ws.LastError
	case ws.Retrying:
		h.State = store.StateUnavailable
		h.Detail = "writing to Redis failed, a write is trying it again (its records are dropped if it fails too): " + ws.LastError
	case ws.Failing:
		h.State = store.StateUnavailable
		h.Detail = "writing to Redis failed, and no write has succeeded since (the next one tries it again): " + ws.LastError
	}
	if h.State != store.StateOK {
		return h
	}
	var details []string
	if ws.Ahead > 0 {
		s.clockMu.Lock()
		off := s.clockOff
		s.clockMu.Unlock()
		details = append(details, fmt.Sprintf("%d records started more than %v after Redis's clock and were stored shifted back to it (this host's clock is %v ahead of Redis's)", ws.Ahead, MaxAhead, off.Round(time.Second)))
	}
	if s.noPublish.Load() || s.noSubscribe.Load() {
		what := "publish or subscribe"
		switch {
		case !s.noSubscribe.Load():
			what = "publish"
		case !s.noPublish.Load():
			what = "subscribe"
		}
		details = append(details, "no live updates: the Redis user may not "+what+" to the channel "+s.k.events()+" (grant it with &"+s.k.events()+")")
	}
	s.evictMu.Lock()
	evicted, policy := s.evictN, s.evictPol
	s.evictMu.Unlock()
	if evicted > 0 {
		details = append(details, fmt.Sprintf("Redis evicted %d keys since this store opened (maxmemory-policy %s): records, summaries or rollups of this store may be among them, lost without an error; set maxmemory-policy noeviction to have writes fail and be counted instead", evicted, policy))
	}
	if subErr, since := s.subErr(); subErr != "" {
		// Redis away, or refusing this user: a store that only reads
		// (appstats serve's) has no write to fail, and would be "ok"
		// while every read fails. A write that succeeded since the
		// subscription began failing says Redis is back (the
		// subscription follows after its backoff).
		s.omu.Lock()
		okAt := s.okAt
		s.omu.Unlock()
		if !okAt.After(since) {
			h.State = store.StateUnavailable
		}
		details = append(details, "no live updates: subscribing to the channel "+s.k.events()+" fails, retrying: "+subErr)
	}
	h.Detail = strings.Join(details, "; ")
	return h
}

// maxDamagedKeys bounds the set of damaged entries the store remembers, so
// that an entry read again is not counted again; past it, every read of a
// damaged entry counts.
const maxDamagedKeys = 4096

// damaged notes that an entry of hour h (a record, summary, rollup or
// delta: what) could not be decoded from b: it is counted once in Health's
// Skipped, and logged at most every few seconds.
func (s *Store) damaged(what string, h int64, b []byte, err error) {
	f := fnv.New64a()
	f.Write([]byte(what))
	f.Write(binary.AppendVarint(nil, h))
	f.Write(b)
	key := f.Sum64()
	s.damagedMu.Lock()
	_, seen := s.damagedKeys[key]
	if !seen && len(s.damagedKeys) < maxDamagedKeys {
		if s.damagedKeys == nil {
			s.damagedKeys = make(map[uint64]struct{})
		}
		s.damagedKeys[key] = struct{}{}
	}
	s.damagedMu.Unlock()
	if seen {
		return
	}
	s.skipped.Add(1)
	if errors.Is(err, codec.ErrNewerVersion) {
		s.log.Warn("redisstore: skipping a "+what+" written by a newer version of appstats (upgrade this instance)", "hour", h, "err", err)
		return
	}
	if h == noHour {
		s.log.Warn("redisstore: skipping a damaged "+what, "key", string(b), "err", err)
		return
	}
	s.log.Warn("redisstore: skipping a damaged "+what, "hour", h, "err", err)
}

// noHour is the hour damaged is given for an entry of a key of no hour
// (the hours list); b is then the key.
const noHour = -1 << 63

// maxValue bounds the values the store reads and writes: Write refuses a
// record whose encoding (or summary's) is longer than 64 MiB (dropped and
// counted), so a record or summary longer than that is another program's;
// so is a rollup or delta (one that would be longer has its least busy
// keys folded into store.Other as it is written: see fitRollup). Such a value is
// left in Redis, counted in Health's Skipped and read as absent, so that a hostile value of up to 512 MB cannot make a reader
// allocate as much. (Redis itself copies a list's elements into the read
// script's memory to measure them; lengths of hash fields and of strings
// are read without copying.)
const maxValue = 64 << 20

// errTooLong is what damaged counts for a value over maxValue.
var errTooLong = errors.New("longer than any value the store writes (another program's?)")

// errWrongType is what damaged counts for a key of the store that holds a
// value of another type than the store keeps there: another program's.
var errWrongType = errors.New("the key holds a value of another type (another program's?)")

// damagedKey notes that key, of hour h, holds a value of another type:
// counted once however many reads meet it.
func (s *Store) damagedKey(h int64, key string) {
	s.damaged("key", h, []byte(key), errWrongType)
}

// isWrongType reports whether err is Redis refusing a command on a key
// that holds a value of another type.
func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE ")
}

// isForeign reports whether err is Redis refusing a command because of the
// value at its key: of another type, or a counter (INCRBY) that holds no
// integer.
func isForeign(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	m := re.Error()
	return strings.HasPrefix(m, "WRONGTYPE ") || strings.HasPrefix(m, "ERR value is not an integer") ||
		strings.HasPrefix(m, "ERR increment or decrement would overflow")
}

// Backoff bounds of writes after a failure.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// admit returns an error wrapping ErrUnavailable while writes back off,
// and reports whether the write it admits tries Redis again after a
// failure (then the write calls retried when it ends).
func (s *Store) admit() (retry bool, err error) {
	s.omu.Lock()
	defer s.omu.Unlock()
	if wait := time.Until(s.downUntil); wait > 0 {
		return false, fmt.Errorf("%w (retrying in %v after: %v)", ErrUnavailable, wait.Round(time.Millisecond), s.lastErr)
	}
	if s.failing {
		s.retrying++
	}
	return s.failing, nil
}

// retried ends a write that admit said tries Redis again.
func (s *Store) retried() {
	s.omu.Lock()
	s.retrying--
	s.omu.Unlock()
}

// outcome records a write's result: a failure starts or doubles the
// backoff.
func (s *Store) outcome(err error) {
	s.omu.Lock()
	defer s.omu.Unlock()
	s.failing = err != nil
	if err == nil {
		s.backoff = 0
		s.okAt = time.Now()
		return
	}
	s.lastErr = err
	s.failGen++
	s.backoff = min(max(2*s.backoff, minBackoff), maxBackoff)
	s.downUntil = time.Now().Add(s.backoff)
	select {
	case s.probeNow <- struct{}{}:
	default:
	}
}

// probeScript may write (a script with flags and no no-writes), so Redis
// refuses it where it refuses writes: out of memory under a noeviction
// policy (no allow-oom), a read-only replica. It writes nothing.
const probeScript = "#!lua flags=\nreturn 1"

// probe asks Redis, off the request path, whether it takes writes again
// after a failed write, when the backoff has ended and no write has come
// (an app that records nothing more would otherwise show "unavailable"
// until its next write). It returns how long to wait before probing
// again: 0 when writing is no longer failing.
func (s *Store) probe(ctx context.Context) time.Duration {
	s.omu.Lock()
	wait, gen, failing := time.Until(s.downUntil), s.failGen, s.failing && s.retrying == 0
	s.omu.Unlock()
	if !failing {
		return 0
	}
	if wait > 0 {
		return wait
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	err := s.rdb.Eval(ctx, probeScript, nil).Err()
	cancel()
	s.omu.Lock()
	defer s.omu.Unlock()
	if s.failGen != gen || !s.failing {
		return 0 // a write came since: it decides, and wakes the probe if it failed
	}
	if err != nil {
		return maxBackoff // Health goes on naming the write's error
	}
	s.failing = false
	s.backoff = 0
	s.okAt = time.Now()
	return 0
}

// Close stops the background work, folds the rollup deltas this store
// wrote (for up to WriteTimeout), and closes the client if Open made it.
// Calling it again returns the first call's result.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.stop)
		s.cancel()
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
		err := s.foldDirty(ctx)
		cancel()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if s.own {
			err = errors.Join(err, s.rdb.Close())
		}
		if err != nil {
			s.err = fmt.Errorf("redisstore: close: %w", err)
		}
	})
	return s.err
}

// Clear deletes every key of the store (under its prefix), on every node of
// a cluster, and tells subscribers.
func (s *Store) Clear(ctx context.Context) error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	var dels []string
	flush := func(ctx context.Context, c redis.Cmdable) error {
		if len(dels) == 0 {
			return nil
		}
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range dels {
				p.Unlink(ctx, k) // one key per command: keys of several slots
			}
			return nil
		})
		dels = dels[:0]
		return err
	}
	err := s.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		for _, pattern := range []string{"{" + s.k.prefix + ":*", s.k.prefix + ":*"} {
			it := c.Scan(ctx, 0, pattern, 1000).Iterator()
			for it.Next(ctx) {
				dels = append(dels, it.Val())
				if len(dels) == 1000 {
					if err := flush(ctx, s.rdb); err != nil {
						return err
					}
				}
			}
			if err := it.Err(); err != nil {
				return err
			}
		}
		return flush(ctx, s.rdb)
	})
	if err != nil {
		return wrap("clear", err)
	}
	s.dmu.Lock()
	clear(s.dirty)
	clear(s.listed)
	s.dmu.Unlock()
	if err := s.rdb.Publish(ctx, s.k.events(), "0").Err(); err != nil {
		return wrap("clear", err)
	}
	return nil
}

// eachNode calls fn for every master of a cluster, or every shard of a
// Ring, one at a time, or for the one server.
func (s *Store) eachNode(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		var mu sync.Mutex // ForEachMaster runs fn concurrently
		return c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(ctx, n)
		})
	case *redis.Ring:
		var mu sync.Mutex // ForEachShard runs fn concurrently
		return c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(ctx, n)
		})
	case *redis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("clients of type %T are not supported for this operation", s.rdb)
}

// GoRedisLogger adapts l to go-redis's logger interface, for programs that
// want go-redis's own messages (failed dials while Redis is away, cluster
// changes) in their structured log at the given level rather than on the
// standard logger, go-redis's default:
//
//	redis.SetLogger(redisstore.GoRedisLogger(logger, slog.LevelDebug))
//
// go-redis's logger is global to the process, so this package never sets
// it; a main program may.
func GoRedisLogger(l *slog.Logger, level slog.Level) interface {
	Printf(ctx context.Context, format string, v ...any)
} {
	return goRedisLogger{l, level}
}

type goRedisLogger struct {
	l     *slog.Logger
	level slog.Level
}

// Printf logs one of go-redis's messages.
func (g goRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	if g.l.Enabled(ctx, g.level) {
		g.l.Log(ctx, g.level, fmt.Sprintf(format, v...), "component", "go-redis")
	}
}

// evictEvery is how often the fold loop reads Redis's INFO for evictions.
const evictEvery = 5 * time.Second

// checkEvictions reads, off the request path, Redis's maxmemory_policy and
// evicted_keys (summed over a cluster's or ring's nodes), for Health: a
// full Redis whose policy evicts deletes the store's keys without an
// error. The count is Redis's, of every key: it includes other programs'.
// A user that may not run INFO is not asked again; while Redis is known to
// be away (writes failing, or a subscription failing with no write
// succeeding since), it is not asked.
func (s *Store) checkEvictions(ctx context.Context) {
	s.omu.Lock()
	failing, okAt := s.failing, s.okAt
	s.omu.Unlock()
	if failing || s.noInfo.Load() {
		return // Redis away: not dialed once more (go-redis logs each failed dial)
	}
	if msg, since := s.subErr(); msg != "" && !okAt.After(since) {
		// A subscription finds Redis away (or refusing), and no write
		// has succeeded since: a store that only reads has nothing else
		// to go by. The subscription's retries find when it is back.
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	defer cancel()
	var evicted int64
	policy := ""
	err := s.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "memory", "stats").Result()
		if err != nil {
			return err
		}
		for _, l := range strings.Split(info, "\n") {
			l = strings.TrimSpace(l)
			if v, ok := strings.CutPrefix(l, "evicted_keys:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				evicted += n
			} else if v, ok := strings.CutPrefix(l, "maxmemory_policy:"); ok && v != "noeviction" && policy == "" {
				policy = v
			}
		}
		return nil
	})
	if noPerm(err) {
		s.noInfo.Store(true)
		return
	}
	if err != nil {
		return // Redis away: said by writes and subscriptions
	}
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	if s.evictBase < 0 || evicted < s.evictBase+s.evictN {
		// The first reading, or Redis restarted (its counts start again):
		// count from here, keeping what was counted.
		s.evictBase = evicted - s.evictN
	}
	s.evictN = evicted - s.evictBase
	if policy != "" {
		s.evictPol = policy
	} else if s.evictPol == "" {
		s.evictPol = "noeviction now"
	}
}
