package storage

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// caps are the features of the engine's version that the schema and the
// queries adapt to.
type caps struct {
	major, minor int
	// lowCardinality: LowCardinality(String) is stable (19.0+; experimental
	// in 18.x).
	lowCardinality bool
	// ttl: column TTL expressions (19.6+).
	ttl bool
	// finalPerPartition: the do_not_merge_across_partitions_select_final
	// setting (21+; older servers merge FINAL across the whole table).
	finalPerPartition bool
	// memSet: the item_ids set lives in memory only, filled from items once
	// per process. Only chDB: it locks its data directory, so one process
	// writes it; a server outlives its clients and serves several.
	memSet bool
}

func capsOf(version string) caps {
	var c caps
	parts := strings.SplitN(version, ".", 3)
	if len(parts) >= 2 {
		c.major, _ = strconv.Atoi(parts[0])
		c.minor, _ = strconv.Atoi(parts[1])
	}
	c.lowCardinality = c.major >= 19
	c.ttl = c.major > 19 || (c.major == 19 && c.minor >= 6)
	c.finalPerPartition = c.major >= 21
	return c
}

// migration is one schema version: idempotent statements applied in order,
// on engines where only says so (all when it is nil).
type migration struct {
	version int
	name    string
	stmts   []string
	// columns are added after stmts when missing (ADD COLUMN IF NOT EXISTS
	// is not in every supported engine, so the check is made here).
	columns []column
	only    func(caps) bool
}

// column is one column a migration adds to a table.
type column struct{ table, name, def string }

// migrations returns the schema history; {db} is the database and {lc} the
// type of short repeated strings (LowCardinality(String) where stable).
func migrations() []migration {
	return []migration{{
		version: 1,
		name:    "items, flags, reviews, users, tokens",
		stmts: []string{
			// One row per item id; a re-polled item replaces itself (the
			// highest ver wins) and queries read FINAL so that it counts once
			// before merges too.
			`CREATE TABLE IF NOT EXISTS {db}.items (
				id String,
				content_hash String,
				source {lc},
				kind {lc},
				url String,
				title String,
				text String,
				html String,
				lang {lc},
				mission {lc},
				station String,
				cues String,
				published DateTime('UTC'),
				fetched DateTime('UTC'),
				ingested DateTime('UTC'),
				ver UInt64
			) ENGINE = ReplacingMergeTree(ver)
			PARTITION BY toYYYYMM(published)
			ORDER BY id`,
			// One row per (narrative, item, stance), the flag's key; trend
			// columns are denormalised so that trends need no join. The key
			// sorts on a hash of the item id first, which makes FINAL merges
			// compare integers rather than strings.
			`CREATE TABLE IF NOT EXISTS {db}.flags (
				item_id String,
				item_hash UInt64 DEFAULT cityHash64(item_id),
				narrative {lc},
				stance {lc},
				score Float64,
				evidence String,
				terms Array(String),
				entities String,
				classifier_version {lc},
				source {lc},
				lang {lc},
				mission {lc},
				published DateTime('UTC'),
				ingested DateTime('UTC'),
				ver UInt64
			) ENGINE = ReplacingMergeTree(ver)
			PARTITION BY toYYYYMM(published)
			ORDER BY (narrative, item_hash, stance, item_id)`,
			// Append-only decisions; the id makes a retried insert harmless.
			`CREATE TABLE IF NOT EXISTS {db}.reviews (
				id String,
				item_id String,
				narrative String,
				decision {lc},
				reviewer String,
				note String,
				at DateTime('UTC'),
				at_ms UInt64
			) ENGINE = ReplacingMergeTree
			ORDER BY (item_id, narrative, id)`,
			`CREATE TABLE IF NOT EXISTS {db}.users (
				name String,
				role String,
				lang String,
				disabled UInt8,
				created DateTime('UTC'),
				ver UInt64
			) ENGINE = ReplacingMergeTree(ver)
			ORDER BY name`,
			`CREATE TABLE IF NOT EXISTS {db}.tokens (
				hash String,
				id String,
				user_name String,
				revoked UInt8,
				created DateTime('UTC'),
				expires DateTime('UTC'),
				ver UInt64
			) ENGINE = ReplacingMergeTree(ver)
			ORDER BY hash`,
		},
	}, {
		version: 2,
		name:    "item_ids set",
		// The hashes of every stored item id, in memory only (nothing is
		// written per insert): inserting items asks it which ids may be
		// stored already before looking for their first publication time
		// (see firstPublished). Each process fills it from items before its
		// first insert.
		only: func(c caps) bool { return c.memSet },
		stmts: []string{
			`CREATE TABLE IF NOT EXISTS {db}.item_ids (h UInt64) ENGINE = Set SETTINGS persistent = 0`,
		},
	}, {
		version: 3,
		name:    "reviews per flag",
		// A decision is about one flag, (item, narrative, stance): a
		// transcript's "asserts" and "debunks" flags of one narrative are
		// decided apart. Rows from before carry stance ''.
		columns: []column{{"reviews", "stance", "String DEFAULT ''"}},
	}, {
		version: 4,
		name:    "users' response language and mission",
		columns: []column{{"users", "response_lang", "String DEFAULT ''"}, {"users", "mission", "String DEFAULT ''"}},
	}, {
		version: 5,
		name:    "flags retracted by re-classification, and their history",
		// A re-classification that no longer finds an unreviewed flag
		// stores it again with retracted = 1: every query reads live flags
		// only. Each flag a re-classification replaces or retracts is kept
		// in flag_history, so earlier versions stay auditable.
		stmts: []string{
			`CREATE TABLE IF NOT EXISTS {db}.flag_history (
				item_id String,
				narrative String,
				stance String,
				score Float64,
				evidence String,
				classifier_version String,
				superseded_by String,
				superseded DateTime('UTC')
			) ENGINE = MergeTree
			ORDER BY (item_id, superseded)`,
		},
		columns: []column{{"flags", "retracted", "UInt8 DEFAULT 0"}},
	}, {
		version: 6,
		name:    "items' hashed author and source metadata",
		// Posts, chat messages and tips carry the keyed hash of who sent
		// them, so that analysts can count distinct voices, and what their
		// source says of them (links, views, forwarded-from, file, line).
		columns: []column{{"items", "author", "String DEFAULT ''"}, {"items", "meta", "String DEFAULT ''"}},
	}, {
		version: 7,
		name:    "briefs",
		// Every brief made (by hand or on schedule) is kept with the HTML
		// that was sent, so that it can be read again as it was.
		stmts: []string{
			`CREATE TABLE IF NOT EXISTS {db}.briefs (
				id String,
				title String,
				period_from DateTime('UTC'),
				period_to DateTime('UTC'),
				mission String,
				lang String,
				audience String,
				made_by String,
				created DateTime('UTC'),
				html String,
				ver UInt64
			) ENGINE = ReplacingMergeTree(ver)
			ORDER BY id`,
		},
	}}
}

// addColumn adds c unless the table has it; a process that lost the race
// to add it finds it there afterwards.
func (d *DB) addColumn(ctx context.Context, c column) error {
	has := func() (bool, error) {
		rows, err := d.query(ctx, "SELECT count() FROM system.columns WHERE database = "+Quote(d.db)+
			" AND table = "+Quote(c.table)+" AND name = "+Quote(c.name))
		if err != nil {
			return false, fmt.Errorf("look up column %s.%s: %w", c.table, c.name, err)
		}
		return len(rows) == 1 && len(rows[0]) == 1 && rows[0][0] != "0", nil
	}
	if ok, err := has(); err != nil || ok {
		return err
	}
	err := d.c.Exec(ctx, "ALTER TABLE "+d.t(c.table)+" ADD COLUMN "+c.name+" "+c.def)
	if err != nil {
		if ok, herr := has(); herr == nil && ok {
			return nil
		}
		return fmt.Errorf("add column %s.%s: %w", c.table, c.name, err)
	}
	return nil
}

// SchemaVersion is the latest migration's version.
func SchemaVersion() int {
	m := migrations()
	return m[len(m)-1].version
}

func (d *DB) expand(stmt string) string {
	lc := "String"
	if d.caps.lowCardinality {
		lc = "LowCardinality(String)"
	}
	return strings.NewReplacer("{db}", d.db, "{lc}", lc).Replace(stmt)
}

// Migrate applies pending migrations. Every statement is idempotent and a
// version is recorded only after its statements succeeded, so two processes
// migrating at once both succeed and a crash half-way is repaired by the
// next run.
func (d *DB) Migrate(ctx context.Context) error {
	if err := d.c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+d.db); err != nil {
		return fmt.Errorf("storage: migrate: create database %s: %w", d.db, err)
	}
	if err := d.c.Exec(ctx, d.expand(`CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
		version UInt32, name String, applied DateTime('UTC')
	) ENGINE = ReplacingMergeTree ORDER BY version`)); err != nil {
		return fmt.Errorf("storage: migrate: schema_migrations: %w", err)
	}
	applied, err := d.appliedVersions(ctx)
	if err != nil {
		return err
	}
	for _, m := range migrations() {
		if applied[m.version] {
			continue
		}
		for i, stmt := range m.stmts {
			if m.only != nil && !m.only(d.caps) {
				break
			}
			if err := d.c.Exec(ctx, d.expand(stmt)); err != nil {
				return fmt.Errorf("storage: migration %d (%s) statement %d: %w", m.version, m.name, i+1, err)
			}
		}
		for _, c := range m.columns {
			if m.only != nil && !m.only(d.caps) {
				break
			}
			if err := d.addColumn(ctx, c); err != nil {
				return fmt.Errorf("storage: migration %d (%s): %w", m.version, m.name, err)
			}
		}
		row := []any{uint32(m.version), m.name, DBTime(time.Now())}
		if err := d.c.Insert(ctx, d.db+".schema_migrations", []string{"version", "name", "applied"}, [][]any{row}); err != nil {
			return fmt.Errorf("storage: migration %d: record: %w", m.version, err)
		}
		slog.Info("storage: migration applied", "database", d.db, "version", m.version, "name", m.name)
	}
	return d.applyRetention(ctx)
}

func (d *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := d.c.Query(ctx, "SELECT DISTINCT version FROM "+d.db+".schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("storage: migrate: read versions: %w", err)
	}
	out := map[int]bool{}
	for _, r := range rows {
		out[int(parseInt(r[0]))] = true
	}
	return out, nil
}

// AppliedVersion returns the highest recorded schema version (0: none).
func (d *DB) AppliedVersion(ctx context.Context) (int, error) {
	applied, err := d.appliedVersions(ctx)
	if err != nil {
		return 0, err
	}
	v := 0
	for k := range applied {
		v = max(v, k)
	}
	return v, nil
}

// applyRetention sets a TTL on the raw-text columns where the engine has
// column TTL; elsewhere `veille prune` does the same job.
func (d *DB) applyRetention(ctx context.Context) error {
	if d.opts.TextRetention <= 0 {
		return nil
	}
	if !d.caps.ttl {
		slog.Warn("storage: this ClickHouse has no TTL; run `veille prune` to drop old raw text",
			"backend", d.Backend(), "retention", d.opts.TextRetention)
		return nil
	}
	days := int64(d.opts.TextRetention / (24 * time.Hour))
	if days < 1 {
		days = 1
	}
	rows, err := d.c.Query(ctx, "SELECT create_table_query FROM system.tables WHERE database = "+Quote(d.db)+" AND name = 'items'")
	if err != nil {
		return fmt.Errorf("storage: text retention: %w", err)
	}
	for _, col := range []string{"text", "html", "cues"} {
		// Setting a TTL rewrites the table's parts: only when it changes.
		re := regexp.MustCompile("`?" + col + "`? String TTL published \\+ toIntervalDay\\(" + strconv.FormatInt(days, 10) + "\\)")
		if len(rows) == 1 && re.MatchString(rows[0][0]) {
			continue
		}
		stmt := fmt.Sprintf("ALTER TABLE %s.items MODIFY COLUMN %s String TTL published + toIntervalDay(%d)", d.db, col, days)
		if err := d.c.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("storage: text retention on items.%s: %w", col, err)
		}
	}
	return nil
}
