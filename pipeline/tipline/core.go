package tipline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults shared by both adapters.
const (
	defaultWorkers        = 4
	defaultQueueSize      = 256
	defaultHandlerTimeout = time.Minute
	defaultMaxBackoff     = time.Minute
	defaultMaxBody        = 1 << 20
	defaultDedupTTL       = 24 * time.Hour
	dedupMax              = 100_000
	sendAttempts          = 3
)

// common holds the settings both adapters share, after defaults.
type common struct {
	hashKey        []byte
	log            *slog.Logger
	msgs           Messages
	workers        int
	queueSize      int
	handlerTimeout time.Duration
	maxBackoff     time.Duration
	maxBody        int64
}

func newCommon(channel string, hashKey []byte, log *slog.Logger, msgs Messages, workers, queueSize int,
	handlerTimeout, maxBackoff time.Duration, maxBody int64) (common, error) {
	switch {
	case len(hashKey) == 0:
		return common{}, fmt.Errorf("%w: %s: HashKey is empty", ErrConfig, channel)
	case len(hashKey) < MinHashKeyLen:
		return common{}, fmt.Errorf("%w: %s: HashKey is %d bytes, want at least %d", ErrConfig, channel, len(hashKey), MinHashKeyLen)
	case workers < 0:
		return common{}, fmt.Errorf("%w: %s: Workers is negative", ErrConfig, channel)
	case queueSize < 0:
		return common{}, fmt.Errorf("%w: %s: QueueSize is negative", ErrConfig, channel)
	case handlerTimeout < 0:
		return common{}, fmt.Errorf("%w: %s: HandlerTimeout is negative", ErrConfig, channel)
	case maxBackoff < 0:
		return common{}, fmt.Errorf("%w: %s: MaxBackoff is negative", ErrConfig, channel)
	case maxBody < 0:
		return common{}, fmt.Errorf("%w: %s: MaxBodyBytes is negative", ErrConfig, channel)
	}
	c := common{
		hashKey:        append([]byte(nil), hashKey...),
		log:            log,
		msgs:           msgs.withDefaults(),
		workers:        or(workers, defaultWorkers),
		queueSize:      or(queueSize, defaultQueueSize),
		handlerTimeout: or(handlerTimeout, defaultHandlerTimeout),
		maxBackoff:     or(maxBackoff, defaultMaxBackoff),
		maxBody:        or(maxBody, defaultMaxBody),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// kind is what an incoming message calls for.
type kind int

const (
	kindIgnore   kind = iota // not for us: service message, status, other chat type
	kindTip                  // text for the Handler
	kindWelcome              // a greeting or help request
	kindNeedText             // content without text
)

// inbound is one incoming message, with what the adapter needs to answer it.
type inbound struct {
	kind    kind
	tip     Tip    // Channel, SenderHash, MessageID always set; the rest for kindTip
	chat    string // raw reply address; stays inside the adapter
	replyTo string // platform message id to reply to
	dedup   string // key for duplicate suppression, "" for none
}

// sendFunc sends one message of at most the platform's length to chat, as
// a reply to replyTo when it is not "".
type sendFunc func(ctx context.Context, chat, text, replyTo string) error

// answerer turns an inbound message into a reply.
type answerer struct {
	channel string
	common
	limit int
	send  sendFunc
}

// answer calls the Handler for a tip (or picks the fixed reply) and sends
// the reply. It logs failures with the channel and message id only.
func (a *answerer) answer(ctx context.Context, h Handler, in inbound) {
	if ctx.Err() != nil {
		return
	}
	var reply string
	switch in.kind {
	case kindWelcome:
		reply = a.msgs.Welcome
	case kindNeedText:
		reply = a.msgs.NeedText
	case kindTip:
		r, err := a.callHandler(ctx, h, in.tip)
		switch {
		case err != nil && ctx.Err() != nil:
			a.log.Info("tipline: handler interrupted by shutdown", "channel", a.channel, "message_id", in.tip.MessageID)
			return
		case err != nil:
			a.log.Error("tipline: handler failed", "channel", a.channel, "message_id", in.tip.MessageID, "err", err)
			reply = a.msgs.TryLater
		default:
			reply = r
		}
	default:
		return
	}
	if err := a.reply(ctx, in.chat, reply, in.replyTo); err != nil && ctx.Err() == nil {
		a.log.Warn("tipline: reply failed", "channel", a.channel, "message_id", in.tip.MessageID, "err", err)
	}
}

func (a *answerer) callHandler(ctx context.Context, h Handler, tip Tip) (reply string, err error) {
	ctx, cancel := context.WithTimeout(ctx, a.handlerTimeout)
	defer cancel()
	// A panic on one person's message must not take the tipline down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tipline: handler panicked: %v", r)
		}
	}()
	return h(ctx, tip)
}

// reply sends text, split to the platform's limit; only the first part is
// marked as a reply.
func (a *answerer) reply(ctx context.Context, chat, text, replyTo string) error {
	for i, part := range splitReply(text, a.limit, maxReplyParts) {
		if i > 0 {
			replyTo = ""
		}
		if err := a.send(ctx, chat, part, replyTo); err != nil {
			if i > 0 {
				return fmt.Errorf("%w (part %d of the reply)", err, i+1)
			}
			return err
		}
	}
	return nil
}

// dispatcher is the bounded queue between a webhook, which must answer the
// platform at once, and the workers that call the Handler. It also drops
// redeliveries of a message already accepted.
type dispatcher struct {
	channel string
	log     *slog.Logger
	queue   chan inbound
	seen    *dedup
	dropped atomic.Int64
}

func newDispatcher(channel string, log *slog.Logger, size int, ttl time.Duration) *dispatcher {
	return &dispatcher{channel: channel, log: log, queue: make(chan inbound, size), seen: newDedup(ttl, dedupMax)}
}

// offer queues in without blocking. A duplicate is ignored; when the queue
// is full the message is dropped, counted and logged, and forgotten by the
// duplicate filter so a redelivery may still get through.
func (d *dispatcher) offer(in inbound) {
	if in.dedup != "" && !d.seen.add(in.dedup, time.Now()) {
		d.log.Debug("tipline: duplicate message ignored", "channel", d.channel, "message_id", in.tip.MessageID)
		return
	}
	select {
	case d.queue <- in:
	default:
		d.seen.remove(in.dedup)
		n := d.dropped.Add(1)
		d.log.Warn("tipline: queue full, message dropped unanswered", "channel", d.channel, "message_id", in.tip.MessageID, "dropped_total", n)
	}
}

// run works the queue with n workers until ctx ends. Messages still queued
// then stay queued for a later run.
func (d *dispatcher) run(ctx context.Context, n int, work func(context.Context, inbound)) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case in := <-d.queue:
					work(ctx, in)
				}
			}
		})
	}
	wg.Wait()
	if left := len(d.queue); left > 0 {
		d.log.Warn("tipline: stopped with messages unanswered", "channel", d.channel, "queued", left)
	}
}

// dedup remembers keys for ttl, at most max of them (the oldest go first).
type dedup struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	at    map[string]time.Time
	order []dedupEntry
}

type dedupEntry struct {
	key string
	at  time.Time
}

func newDedup(ttl time.Duration, max int) *dedup {
	return &dedup{ttl: ttl, max: max, at: make(map[string]time.Time)}
}

// add records key and reports whether it was new.
func (d *dedup) add(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.order) > 0 && (now.Sub(d.order[0].at) >= d.ttl || len(d.at) >= d.max) {
		e := d.order[0]
		d.order = d.order[1:]
		if t, ok := d.at[e.key]; ok && t.Equal(e.at) {
			delete(d.at, e.key)
		}
	}
	if _, ok := d.at[key]; ok {
		return false
	}
	d.at[key] = now
	d.order = append(d.order, dedupEntry{key, now})
	return true
}

func (d *dedup) remove(key string) {
	d.mu.Lock()
	delete(d.at, key)
	d.mu.Unlock()
}

// backoff is the wait after n consecutive failures: 1 s doubling, capped,
// with jitter so restarted instances do not retry in step.
func backoff(n int, limit time.Duration) time.Duration {
	d := min(time.Second<<min(max(n-1, 0), 16), limit)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends, and reports whether it waited it all.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// redacted is an error whose text had a secret removed. It unwraps to the
// cause only when the cause's own text is clean, so no caller can print the
// secret by unwrapping; context errors stay matchable with errors.Is.
type redacted struct {
	msg   string
	cause error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.cause }

// scrub makes a transport error safe to return and log: a *url.Error (whose
// text holds the request URL, and so Telegram's token) is replaced by its
// cause, and any secret left in the text is cut out.
func scrub(err error, secrets ...string) error {
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err
	}
	msg := err.Error()
	dirty := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
			dirty = true
		}
	}
	if !dirty {
		return err
	}
	var cause error
	switch {
	case errors.Is(err, context.Canceled):
		cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		cause = context.DeadlineExceeded
	}
	return &redacted{msg: msg, cause: cause}
}

// readLimited reads at most limit bytes of r, failing past that.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("body over %d bytes", limit)
	}
	return b, nil
}

// readBody reads a webhook request body of at most limit bytes; a larger one
// answers 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read request body", http.StatusBadRequest)
		}
		return nil, false
	}
	return b, true
}
