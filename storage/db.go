package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-faster/city"
)

// Options configure a DB.
type Options struct {
	// Database holds Veille's tables (default "veille").
	Database string
	// TextRetention is how long raw text (text, html, cues) is kept; 0
	// keeps it forever. Applied as a column TTL where the engine has one.
	TextRetention time.Duration
}

// DefaultDatabase is the database used when Options.Database is empty.
const DefaultDatabase = "veille"

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// DB is the Store over one backend connection. It is safe for concurrent use
// as far as its Conn is.
type DB struct {
	c      Conn
	db     string
	opts   Options
	caps   caps
	closed atomic.Bool

	// pubs caches first publication times of items stored by this process,
	// so that a batch of flags rarely needs a look-up.
	pubMu sync.Mutex
	pubs  map[string]time.Time

	// setMu guards setFrom: the zero time until this DB saw the item_ids
	// set filled, then the publication time from which the set holds every
	// stored item (see fillSet).
	setMu   sync.Mutex
	setFrom time.Time
}

// maxPubs bounds the publication-time cache; it is emptied when full.
const maxPubs = 500_000

// rememberPublished caches the publication times first holds for ids (the
// ids the cache did not hold yet).
func (d *DB) rememberPublished(first map[string]time.Time, ids []string) {
	d.pubMu.Lock()
	defer d.pubMu.Unlock()
	if d.pubs == nil || len(d.pubs)+len(ids) > maxPubs {
		d.pubs = make(map[string]time.Time, len(ids))
	}
	for _, id := range ids {
		if t, ok := first[id]; ok {
			d.pubs[id] = t
		}
	}
}

var _ Store = (*DB)(nil)

// New wraps a backend connection and applies pending migrations. The DB owns
// c and closes it on Close.
func New(ctx context.Context, c Conn, opts Options) (*DB, error) {
	if opts.Database == "" {
		opts.Database = DefaultDatabase
	}
	if !identRe.MatchString(opts.Database) {
		return nil, fmt.Errorf("%w: database name %q: want letters, digits and _", ErrBadQuery, opts.Database)
	}
	d := &DB{c: c, db: opts.Database, opts: opts, caps: capsOf(c.Version())}
	d.caps.memSet = c.Name() == "chdb"
	if err := d.Migrate(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Database returns the name of the database holding the tables.
func (d *DB) Database() string { return d.db }

// EngineIDHash asks the engine for cityHash64(id), which IDHash must equal
// for the item_ids set to be filled from stored items.
func (d *DB) EngineIDHash(ctx context.Context, id string) (uint64, error) {
	rows, err := d.c.Query(ctx, "SELECT cityHash64("+Quote(id)+")")
	if err != nil {
		return 0, fmt.Errorf("storage: cityHash64: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("storage: cityHash64: %d rows", len(rows))
	}
	h, err := strconv.ParseUint(rows[0][0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("storage: cityHash64: %w", err)
	}
	return h, nil
}

// Backend names the backend and its version, e.g. "chdb 26.5.1.1".
func (d *DB) Backend() string { return d.c.Name() + " " + d.c.Version() }

// Close closes the backend connection.
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	return d.c.Close()
}

func (d *DB) t(table string) string { return d.db + "." + table }

// query runs a SELECT. Reads with FINAL are told to merge within partitions
// only where the engine can: rows of one key always share a partition
// (published is fixed at an item's first sight, see firstPublished), and a
// partition already merged to one part is then read without merging.
func (d *DB) query(ctx context.Context, sql string) ([][]string, error) {
	return d.c.Query(ctx, d.settings(sql))
}

func (d *DB) settings(sql string) string {
	if d.caps.finalPerPartition && strings.Contains(sql, " FINAL") {
		sql += " SETTINGS do_not_merge_across_partitions_select_final = 1"
	}
	return sql
}

// RepublishWindow bounds how far from its first publication time a
// re-polled item is looked for: the look-up reads only the partitions within
// it, so that its cost does not grow with the stored history. An item
// re-polled with a date moved further than this would be stored twice.
const RepublishWindow = 62 * 24 * time.Hour

// firstPublished returns the stored publication time of those of ids that
// are already stored, searching within RepublishWindow of pubs (the times
// the batch carries). An item keeps the time it was first stored with, so
// that all rows of an item and of its flags stay in one partition whatever a
// re-polled feed says later.
//
// Where the engine has the item_ids set (hashes of every stored item id, in
// memory), it is asked first: only ids whose hash it holds are looked for in
// items, so a batch of new items costs one hash look-up rather than a read
// of the ids of every partition within the window. firstPublished also
// returns the distinct ids the cache lacked and, with unseen set, the hashes
// of the ids the set lacks (cached ids included), for InsertItems to add.
func (d *DB) firstPublished(ctx context.Context, ids []string, pubs []time.Time, unseen bool) (first map[string]time.Time, uncached []string, missing []uint64, err error) {
	out := make(map[string]time.Time)
	var lo, hi time.Time
	for i, p := range pubs {
		p = DBTime(p)
		if i == 0 || p.Before(lo) {
			lo = p
		}
		if i == 0 || p.After(hi) {
			hi = p
		}
	}
	window := " AND published >= " + Time(lo.Add(-RepublishWindow)) + " AND published <= " + Time(hi.Add(RepublishWindow))
	var ask []string
	seen := make(map[string]bool, len(ids))
	d.pubMu.Lock()
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if t, ok := d.pubs[id]; ok {
			out[id] = t
		} else {
			uncached = append(uncached, id)
		}
	}
	d.pubMu.Unlock()
	uniq := uncached
	if d.caps.memSet {
		from, err := d.fillSet(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		// The set answers for the batch only when it holds every item the
		// look-up could find, those published within the window.
		covered := !lo.Add(-RepublishWindow).Before(from)
		if unseen {
			ask = make([]string, 0, len(seen))
			for id := range seen {
				ask = append(ask, id)
			}
		} else {
			ask = uncached
		}
		held, err := d.heldHashes(ctx, ask)
		if err != nil {
			return nil, nil, nil, err
		}
		if unseen {
			for _, id := range ask {
				if h := IDHash(id); !held[h] {
					missing = append(missing, h)
				}
			}
		}
		if covered {
			uniq = nil
			for _, id := range uncached {
				if held[IDHash(id)] {
					uniq = append(uniq, id)
				}
			}
		}
	}
	for len(uniq) > 0 {
		// Stay well under max_query_size (256 KiB by default).
		n, size := 0, 0
		for n < len(uniq) && size < 150_000 {
			size += len(uniq[n]) + 4
			n++
		}
		chunk := uniq[:n]
		uniq = uniq[n:]
		rows, err := d.c.Query(ctx, "SELECT id, min(published) FROM "+d.t("items")+" WHERE "+inSet("id", chunk)+window+" GROUP BY id")
		if err != nil {
			return nil, nil, nil, fmt.Errorf("storage: stored publication times: %w", err)
		}
		for _, r := range rows {
			out[r[0]] = DBTime(parseTime(r[1]))
		}
	}
	return out, uncached, missing, nil
}

// SetHorizon is how far back in publication time the item_ids set holds
// the stored items when a process fills it: memory and the time to fill it
// stay bounded whatever the history. Batches dated earlier than the horizon
// plus RepublishWindow look for stored times directly, as servers do.
const SetHorizon = 3 * RepublishWindow

// fillSet fills the item_ids set, once per process, with the stored items
// published within SetHorizon, and returns the publication time from which
// the set holds every stored item: it lives in memory, so it is empty when
// the process starts, and from then on every new item id is added to it.
// Every call into chDB is serialised, so no insert runs while the set is
// filled, and an id held twice is harmless. A DB that finds the set filled
// by another DB of the process takes its own horizon, which is no earlier.
func (d *DB) fillSet(ctx context.Context) (time.Time, error) {
	d.setMu.Lock()
	defer d.setMu.Unlock()
	if !d.setFrom.IsZero() {
		return d.setFrom, nil
	}
	from := DBTime(time.Now().Add(-SetHorizon))
	rows, err := d.c.Query(ctx, "SELECT total_rows FROM system.tables WHERE database = "+Quote(d.db)+" AND name = 'item_ids'")
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: item ids: %w", err)
	}
	if len(rows) == 0 || parseInt(rows[0][0]) == 0 {
		start := time.Now()
		if err := d.c.Exec(ctx, "INSERT INTO "+d.t("item_ids")+" SELECT cityHash64(id) FROM "+d.t("items")+" WHERE published >= "+Time(from)); err != nil {
			return time.Time{}, fmt.Errorf("storage: fill item ids: %w", err)
		}
		slog.Debug("storage: item ids filled", "database", d.db, "from", from, "took", time.Since(start))
	}
	d.setFrom = from
	return from, nil
}

// IDHash is the hash of an item id that the item_ids set holds: ClickHouse's
// cityHash64 of the id.
func IDHash(id string) uint64 { return city.CH64([]byte(id)) }

// heldHashes returns which of the hashes of ids the item_ids set holds.
func (d *DB) heldHashes(ctx context.Context, ids []string) (map[uint64]bool, error) {
	held := make(map[uint64]bool)
	if len(ids) == 0 {
		return held, nil
	}
	hashes := make([]uint64, len(ids))
	for i, id := range ids {
		hashes[i] = IDHash(id)
	}
	mark := func(rows [][]string) {
		for _, r := range rows {
			h, _ := strconv.ParseUint(r[0], 10, 64)
			held[h] = true
		}
	}
	if hq, ok := d.c.(HashQuerier); ok {
		rows, err := hq.QueryHashes(ctx, "SELECT h FROM {hashes} WHERE h IN "+d.t("item_ids"), hashes)
		if err != nil {
			return nil, fmt.Errorf("storage: stored item ids: %w", err)
		}
		mark(rows)
		return held, nil
	}
	for len(hashes) > 0 {
		// A hash is at most 20 digits: 5000 of them stay well under
		// max_query_size.
		n := min(len(hashes), 5000)
		var b strings.Builder
		b.Grow(n * 21)
		b.WriteString("SELECT h FROM (SELECT toUInt64(arrayJoin([")
		for i, h := range hashes[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatUint(h, 10))
		}
		b.WriteString("])) AS h) WHERE h IN ")
		b.WriteString(d.t("item_ids"))
		hashes = hashes[n:]
		rows, err := d.c.Query(ctx, b.String())
		if err != nil {
			return nil, fmt.Errorf("storage: stored item ids: %w", err)
		}
		mark(rows)
	}
	return held, nil
}

// version is the ReplacingMergeTree version of rows written now: the latest
// write of a key wins.
func version() uint64 { return uint64(time.Now().UnixNano()) }

var itemCols = []string{"id", "content_hash", "source", "kind", "url", "title", "text", "html",
	"lang", "mission", "station", "cues", "published", "fetched", "ingested", "ver", "author", "meta"}

// InsertItems stores items; an item stored again (same id) replaces the
// earlier row and is counted once.
func (d *DB) InsertItems(ctx context.Context, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	if d.closed.Load() {
		return ErrClosed
	}
	ids := make([]string, len(items))
	pubs := make([]time.Time, len(items))
	for i, it := range items {
		if it.ID == "" {
			return fmt.Errorf("%w: item %d has no id", ErrBadQuery, i)
		}
		ids[i], pubs[i] = it.ID, it.Published
	}
	first, uncached, missing, err := d.firstPublished(ctx, ids, pubs, true)
	if err != nil {
		return err
	}
	// The ids go into the set before the items go in: an id in the set
	// whose item is missing costs a look-up, an item missing from the set
	// would not be found again.
	if len(missing) > 0 {
		hashes := make([][]any, len(missing))
		for i, h := range missing {
			hashes[i] = []any{h}
		}
		if err := d.c.Insert(ctx, d.t("item_ids"), []string{"h"}, hashes); err != nil {
			return fmt.Errorf("storage: insert %d item ids: %w", len(missing), err)
		}
	}
	now, ver := DBTime(time.Now()), version()
	rows := make([][]any, len(items))
	for i, it := range items {
		pub, ok := first[it.ID]
		if !ok {
			pub = DBTime(it.Published)
			first[it.ID] = pub // a repeat within the batch too
		}
		cues := ""
		if len(it.Cues) > 0 {
			b, err := json.Marshal(it.Cues)
			if err != nil {
				return fmt.Errorf("storage: item %s: cues: %w", it.ID, err)
			}
			cues = string(b)
		}
		meta := ""
		if len(it.Meta) > 0 {
			b, err := json.Marshal(it.Meta)
			if err != nil {
				return fmt.Errorf("storage: item %s: meta: %w", it.ID, err)
			}
			meta = string(b)
		}
		rows[i] = []any{it.ID, it.ContentHash, it.Source, it.Kind, it.URL, it.Title, it.Text, it.HTML,
			it.Lang, it.Mission, it.Station, cues, pub, DBTime(it.Fetched), now, ver, it.Author, meta}
	}
	if err := d.c.Insert(ctx, d.t("items"), itemCols, rows); err != nil {
		return fmt.Errorf("storage: insert %d items: %w", len(items), err)
	}
	d.rememberPublished(first, uncached)
	return nil
}

var flagCols = []string{"item_id", "narrative", "stance", "score", "evidence", "terms", "entities",
	"classifier_version", "source", "lang", "mission", "published", "ingested", "ver"}

// InsertFlags stores flags; a flag stored again (same item, narrative and
// stance) replaces the earlier row and is counted once.
func (d *DB) InsertFlags(ctx context.Context, flags []Flag) error {
	return d.insertFlags(ctx, flags, false)
}

// insertFlags stores flags, as retracted ones when retract is set.
func (d *DB) insertFlags(ctx context.Context, flags []Flag, retract bool) error {
	if len(flags) == 0 {
		return nil
	}
	if d.closed.Load() {
		return ErrClosed
	}
	ids := make([]string, len(flags))
	pubs := make([]time.Time, len(flags))
	for i, f := range flags {
		if f.ItemID == "" || f.Narrative == "" {
			return fmt.Errorf("%w: flag %d has no item id or narrative", ErrBadQuery, i)
		}
		ids[i], pubs[i] = f.ItemID, f.Published
	}
	first, uncached, _, err := d.firstPublished(ctx, ids, pubs, false)
	if err != nil {
		return err
	}
	now, ver := DBTime(time.Now()), version()
	// Evidence and entities of the whole batch are encoded into one buffer
	// and cut from one string: two allocations rather than two per flag.
	var buf []byte
	ends := make([]int, 2*len(flags))
	for i, f := range flags {
		buf = appendEvidenceJSON(buf, f.Evidence)
		ends[2*i] = len(buf)
		buf = appendStringsJSON(buf, f.Entities)
		ends[2*i+1] = len(buf)
	}
	enc := string(buf)
	cols := flagCols
	if retract {
		cols = append(append([]string(nil), flagCols...), "retracted")
	}
	rows := make([][]any, len(flags))
	cells := make([]any, len(flags)*len(cols))
	var texts []string
	for i, f := range flags {
		pub, ok := first[f.ItemID]
		if !ok {
			pub = DBTime(f.Published)
			first[f.ItemID] = pub
		}
		from := 0
		if i > 0 {
			from = ends[2*i-1]
		}
		texts = texts[:0]
		for _, e := range f.Evidence {
			texts = append(texts, e.Text)
		}
		score := f.Score
		if score != score || score > 1e300 || score < -1e300 { // NaN or Inf
			score = 0
		}
		row := cells[i*len(cols) : (i+1)*len(cols) : (i+1)*len(cols)]
		row[0], row[1], row[2], row[3] = f.ItemID, f.Narrative, f.Stance, score
		row[4], row[5], row[6] = enc[from:ends[2*i]], Terms(texts...), enc[ends[2*i]:ends[2*i+1]]
		row[7], row[8], row[9], row[10] = f.ClassifierVersion, f.Source, f.Lang, f.Mission
		row[11], row[12], row[13] = pub, now, ver
		if retract {
			row[14] = uint8(1)
		}
		rows[i] = row
	}
	if err := d.c.Insert(ctx, d.t("flags"), cols, rows); err != nil {
		return fmt.Errorf("storage: insert %d flags: %w", len(flags), err)
	}
	d.rememberPublished(first, uncached)
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var reviewCols = []string{"id", "item_id", "narrative", "stance", "decision", "reviewer", "note", "at", "at_ms"}

// Review decisions.
const (
	DecisionConfirm       = "confirm"
	DecisionFalsePositive = "false_positive"
	DecisionNeedsResponse = "needs_response"
)

// InsertReviews appends review decisions. A review without an ID gets a
// random one (and a retried insert of it would then count twice: callers
// that retry should set IDs); a zero At is now.
func (d *DB) InsertReviews(ctx context.Context, reviews []Review) error {
	if len(reviews) == 0 {
		return nil
	}
	if d.closed.Load() {
		return ErrClosed
	}
	rows := make([][]any, len(reviews))
	for i, r := range reviews {
		if r.ItemID == "" || r.Narrative == "" || r.Stance == "" {
			return fmt.Errorf("%w: review %d has no item id, narrative or stance: a review decides one flag", ErrBadQuery, i)
		}
		switch r.Decision {
		case DecisionConfirm, DecisionFalsePositive, DecisionNeedsResponse:
		default:
			return fmt.Errorf("%w: review %d: decision %q: want confirm, false_positive or needs_response", ErrBadQuery, i, r.Decision)
		}
		if r.ID == "" {
			r.ID = randomID()
		}
		if r.At.IsZero() {
			r.At = time.Now()
		}
		ms := r.At.UnixMilli()
		if ms < 0 {
			ms = 0
		}
		rows[i] = []any{r.ID, r.ItemID, r.Narrative, r.Stance, r.Decision, r.Reviewer, r.Note, DBTime(r.At), uint64(ms)}
	}
	if err := d.c.Insert(ctx, d.t("reviews"), reviewCols, rows); err != nil {
		return fmt.Errorf("storage: insert %d reviews: %w", len(reviews), err)
	}
	return nil
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func bool8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// PutUser creates or replaces a user.
func (d *DB) PutUser(ctx context.Context, u User) error {
	if u.Name == "" {
		return fmt.Errorf("%w: user has no name", ErrBadQuery)
	}
	if u.Created.IsZero() {
		u.Created = time.Now()
	}
	row := []any{u.Name, u.Role, u.Lang, u.ResponseLang, u.Mission, bool8(u.Disabled), DBTime(u.Created), version()}
	if err := d.c.Insert(ctx, d.t("users"), []string{"name", "role", "lang", "response_lang", "mission", "disabled", "created", "ver"}, [][]any{row}); err != nil {
		return fmt.Errorf("storage: put user %q: %w", u.Name, err)
	}
	return nil
}

// Users lists users by name.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.query(ctx, "SELECT name, role, lang, response_lang, mission, disabled, created FROM "+d.t("users")+" FINAL ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("storage: users: %w", err)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = User{Name: r[0], Role: r[1], Lang: r[2], ResponseLang: r[3], Mission: r[4], Disabled: r[5] == "1", Created: parseTime(r[6])}
	}
	return out, nil
}

// PutToken creates or replaces a token, keyed by its hash.
func (d *DB) PutToken(ctx context.Context, t Token) error {
	if t.Hash == "" {
		return fmt.Errorf("%w: token has no hash", ErrBadQuery)
	}
	if t.Created.IsZero() {
		t.Created = time.Now()
	}
	row := []any{t.Hash, t.ID, t.User, bool8(t.Revoked), DBTime(t.Created), DBTime(t.Expires), version()}
	if err := d.c.Insert(ctx, d.t("tokens"), []string{"hash", "id", "user_name", "revoked", "created", "expires", "ver"}, [][]any{row}); err != nil {
		return fmt.Errorf("storage: put token %s: %w", t.ID, err)
	}
	return nil
}

// TokenByHash returns the token with this hash, or ErrNotFound.
func (d *DB) TokenByHash(ctx context.Context, hash string) (Token, error) {
	rows, err := d.query(ctx, "SELECT hash, id, user_name, revoked, created, expires FROM "+d.t("tokens")+
		" FINAL WHERE hash = "+Quote(hash)+" LIMIT 1")
	if err != nil {
		return Token{}, fmt.Errorf("storage: token: %w", err)
	}
	if len(rows) == 0 {
		return Token{}, ErrNotFound
	}
	r := rows[0]
	return Token{Hash: r[0], ID: r[1], User: r[2], Revoked: r[3] == "1", Created: parseTime(r[4]), Expires: parseTime(r[5])}, nil
}
