// Package config reads veille.yaml and VEILLE_* environment variables into
// one Config shared by every stage. Defaults are safe: private addresses are
// refused by the fetcher, auth is on, limits are set.
package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole of veille.yaml.
type Config struct {
	// DataDir holds the embedded NATS and chDB data (default ./data in a
	// checkout of Veille, else $XDG_DATA_HOME/veille).
	DataDir string `yaml:"data_dir"`
	// NATS is "embedded" or a NATS URL list (nats://h1:4222,nats://h2:4222).
	NATS string `yaml:"nats"`
	// ClickHouse is "embedded" (chDB under DataDir) or clickhouse://host:9000/db.
	ClickHouse string `yaml:"clickhouse"`
	// Replicas for the JetStream streams (1 embedded, 3 in a cluster).
	Replicas int `yaml:"replicas"`
	// Listen is the web app's address.
	Listen string `yaml:"listen"`
	// Catalog is a directory of narrative files replacing the built-in one.
	Catalog string `yaml:"catalog"`
	// Classifier sets the learned layer.
	Classifier Classifier `yaml:"classifier"`
	// Ingest holds limits on what sources may read and publish.
	Ingest Ingest `yaml:"ingest"`
	// Web holds the web app's settings.
	Web Web `yaml:"web"`
	// Metrics is where the serve process answers /metrics.
	Metrics Metrics `yaml:"metrics"`

	// Sources are the feeds, channels and folders polled (see docs/ingest.md).
	Sources []Source `yaml:"sources"`
	Fetch   Fetch    `yaml:"fetch"`
	Store   Store    `yaml:"store"`
	// TextRetention is how long raw text is kept (0: forever).
	TextRetention Duration `yaml:"text_retention"`
	Alerts        Alerts   `yaml:"alerts"`
	Privacy       Privacy  `yaml:"privacy"`
	Tipline       Tipline  `yaml:"tipline"`
	Import        Import   `yaml:"import"`
	Briefs        Briefs   `yaml:"briefs"`
}

// Briefs holds how briefs for leadership and partners are made.
type Briefs struct {
	// SensitiveSources never appear in a partner brief.
	SensitiveSources []string `yaml:"sensitive_sources"`
	// MinCount is the smallest count a partner brief shows (default 5).
	MinCount int `yaml:"min_count"`
	// Schedules make briefs on their own, once per period.
	Schedules []BriefSchedule `yaml:"schedules"`
}

// BriefSchedule is a brief made every week (or Period) at a weekday and
// hour, kept in storage and sent through the alert channels.
type BriefSchedule struct {
	Name     string `yaml:"name"`
	Mission  string `yaml:"mission"`
	Lang     string `yaml:"lang"`     // en | fr (default en)
	Audience string `yaml:"audience"` // internal | partner (default internal)
	// Weekday and Hour (UTC) say when the brief is made (default monday, 6).
	Weekday string `yaml:"weekday"`
	Hour    int    `yaml:"hour"`
	// Period is the span the brief covers, ending when it is made (7d).
	Period  Duration `yaml:"period"`
	Email   []string `yaml:"email"`
	Webhook string   `yaml:"webhook"`
}

// Privacy holds how personal identifiers are pseudonymised.
type Privacy struct {
	// HashKey keys the hashes of authors and tipline senders (at least 16
	// bytes). Unset, a random key is made once and kept in
	// <data_dir>/hash.key; every process of a deployment must share it.
	HashKey string `yaml:"hash_key"`
}

// Tipline holds the bots people forward rumours to.
type Tipline struct {
	Telegram TiplineTelegram `yaml:"telegram"`
	WhatsApp TiplineWhatsApp `yaml:"whatsapp"`
	// Mission is the mission tips are filed under ("" : none).
	Mission string `yaml:"mission"`
}

// TiplineTelegram is a Telegram bot (Bot API). Empty Token: off.
type TiplineTelegram struct {
	// Token is the bot's token from @BotFather; empty turns the bot off.
	Token string `yaml:"token"`
	// Mode is "polling" (default) or "webhook".
	Mode string `yaml:"mode"`
	// WebhookURL is the public HTTPS address Telegram posts updates to
	// (webhook mode); it must reach /tipline/telegram of the web app.
	WebhookURL string `yaml:"webhook_url"`
	// WebhookSecret is checked on every update posted (webhook mode).
	WebhookSecret string `yaml:"webhook_secret"`
	// APIBase is the Bot API server (default the public one).
	APIBase string `yaml:"api_base"`
}

// TiplineWhatsApp is a WhatsApp Cloud API number. Empty AccessToken: off.
type TiplineWhatsApp struct {
	// AccessToken calls the Cloud API; empty turns the number off.
	AccessToken string `yaml:"access_token"`
	// AppSecret checks the signature of every webhook notification.
	AppSecret string `yaml:"app_secret"`
	// VerifyToken is answered in Meta's webhook verification request.
	VerifyToken string `yaml:"verify_token"`
	// PhoneNumberID is the business number replies are sent from.
	PhoneNumberID string `yaml:"phone_number_id"`
	// GraphBase is the Graph API server (default the public one).
	GraphBase string `yaml:"graph_base"`
}

// Import holds how exports are read.
type Import struct {
	// CSVColumns maps Veille's fields (text, date, author, url, id, chat,
	// views) to the columns of a CSV export of another tool.
	CSVColumns map[string]string `yaml:"csv_columns"`
}

// Classifier holds the classifier's settings.
type Classifier struct {
	// Threshold is the calibrated probability a flag needs (0: the model's
	// own, chosen when it was trained). Raise it for fewer, surer flags.
	Threshold float64 `yaml:"threshold"`
	// Model is a model file from veille train used instead of the one
	// built into the binary ("" or "builtin": the built-in one; "rules":
	// the catalog rules alone).
	Model string `yaml:"model"`
}

// Ingest holds limits on sources.
type Ingest struct {
	// FolderRoots are the folders under which an admin may add a
	// transcripts-dir source (none by default: no folder may be added
	// from the web app; configured sources are the deployer's own).
	FolderRoots []string `yaml:"folder_roots"`
	// MaxPerPoll caps the new items one source publishes per poll
	// (default 500); the rest wait for the next poll.
	MaxPerPoll int `yaml:"max_per_poll"`
	// MaxPerHour caps the new items one source publishes per hour
	// (default 2000); the rest wait, and the source's health says so.
	MaxPerHour int `yaml:"max_per_hour"`
}

// Web holds the web app's settings.
type Web struct {
	// TrustedProxies are reverse proxies (addresses or CIDR ranges) whose
	// X-Forwarded-For names the client, for sign-in throttling and logs.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Metrics holds the metrics listener.
type Metrics struct {
	// Addr is the listener for /metrics, /healthz and /readyz beside the
	// web app (default 127.0.0.1:9464, loopback only; "off": none). The
	// web app's own port never serves /metrics.
	Addr string `yaml:"addr"`
}

// Source is one configured feed or transcript folder.
type Source struct {
	Name     string   `yaml:"name" json:"name"`
	URL      string   `yaml:"url" json:"url"`
	Kind     string   `yaml:"kind" json:"kind"` // rss | podcast | telegram | transcripts-dir | exports-dir
	Lang     string   `yaml:"lang" json:"lang"`
	Mission  string   `yaml:"mission" json:"mission"`
	Station  string   `yaml:"station" json:"station,omitempty"`
	Interval Duration `yaml:"interval" json:"interval"`
	Tags     []string `yaml:"tags" json:"tags,omitempty"`
	Paused   bool     `yaml:"paused" json:"paused"`
}

// Fetch holds the fetcher's limits and its private-address allow-list.
type Fetch struct {
	// MaxBody bounds a response body, in bytes (after decompression).
	MaxBody int64 `yaml:"max_body"`
	// ConnectTimeout bounds a connection.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// ReadTimeout bounds the wait for the next bytes of a body.
	ReadTimeout Duration `yaml:"read_timeout"`
	// TotalTimeout bounds a whole fetch, redirects included.
	TotalTimeout Duration `yaml:"total_timeout"`
	// MaxRedirects is how many redirects a fetch follows.
	MaxRedirects int `yaml:"max_redirects"`
	// PerHost is how many requests run at once against one host.
	PerHost int `yaml:"per_host"`
	// UserAgent is sent with every request.
	UserAgent string `yaml:"user_agent"`
	// Allow lists CIDRs or hosts the fetcher may reach although private.
	Allow []string `yaml:"allow"`
}

// Store holds the store stage's batching.
type Store struct {
	// BatchSize is how many messages the store stage inserts at once.
	BatchSize int `yaml:"batch_size"`
	// BatchWait is how long it waits to fill a batch.
	BatchWait Duration `yaml:"batch_wait"`
}

// Alerts holds alert rules and delivery settings.
type Alerts struct {
	// Rules say when to alert (see docs/early-warning.md).
	Rules []AlertRule `yaml:"rules"`
	SMTP  string      `yaml:"smtp"` // smtp://user@host:port
	// From is the sender of alert and brief e-mails (default veille@<smtp host>).
	From string `yaml:"from"`
	// Interval is how often rules are evaluated (default 5m).
	Interval Duration `yaml:"interval"`
	// BaseURL is the web app's public URL, for review-queue links.
	BaseURL string `yaml:"base_url"`
	// Webhook is used by rules that name none.
	Webhook string `yaml:"webhook"`
	// Retries is how many times a failed delivery is tried (default 6).
	Retries int `yaml:"retries"`
	// Backoff is the wait before the first retry, doubled each time up to
	// 5m (default 5s).
	Backoff Duration `yaml:"backoff"`
}

// AlertRule is one surge rule.
type AlertRule struct {
	Name       string   `yaml:"name" json:"name"`
	Narratives []string `yaml:"narratives" json:"narratives"`
	Missions   []string `yaml:"missions" json:"missions"`
	Langs      []string `yaml:"langs" json:"langs"`
	Sources    []string `yaml:"sources" json:"sources"`
	Window     Duration `yaml:"window" json:"window"`
	Threshold  int      `yaml:"threshold" json:"threshold"`
	Factor     float64  `yaml:"factor" json:"factor"`
	Cooldown   Duration `yaml:"cooldown" json:"cooldown"`
	Webhook    string   `yaml:"webhook" json:"webhook,omitempty"`
	Email      []string `yaml:"email" json:"email,omitempty"`
	Lang       string   `yaml:"lang" json:"lang"`
	// Stances narrows the flags counted (default all).
	Stances []string `yaml:"stances" json:"stances,omitempty"`
	// Baseline is the span before the window the factor compares with
	// (default 7d).
	Baseline Duration `yaml:"baseline" json:"baseline"`
	// MinCount is the least flags in the window for a factor rule (default 3).
	MinCount int `yaml:"min_count" json:"min_count"`
	// UpdateMargin is how much a surge must grow, as a fraction of the count
	// last sent, for an update within the cooldown (default 1: doubled).
	UpdateMargin float64 `yaml:"update_margin" json:"update_margin"`
	// MaxUpdates caps the updates per surge (default 1).
	MaxUpdates int `yaml:"max_updates" json:"max_updates"`
	// Kind is "surge" (the default: a narrative's flags rise) or
	// "precision" (the share of a narrative's reviewed flags that
	// reviewers confirmed falls below MinPrecision over the window).
	Kind string `yaml:"kind" json:"kind,omitempty"`
	// MinPrecision is the lowest production precision a precision rule
	// accepts (0 to 1; default 0.6).
	MinPrecision float64 `yaml:"min_precision" json:"min_precision,omitempty"`
	// MinReviewed is how many reviewed flags a narrative needs in the
	// window before a precision rule judges it (default 10).
	MinReviewed int `yaml:"min_reviewed" json:"min_reviewed,omitempty"`
}

// Duration is a time.Duration written as "30s", "15m", "24h" or "7d".
type Duration time.Duration

// UnmarshalYAML accepts Go durations plus a "d" suffix for days.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a Go duration or a whole number of days ("14d").
func ParseDuration(s string) (time.Duration, error) {
	if n := len(s); n > 1 && s[n-1] == 'd' {
		days, err := strconv.Atoi(s[:n-1])
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return v, nil
}

// DefaultDataDir is ./data in a checkout of Veille (or wherever a data
// folder already is), else $XDG_DATA_HOME/veille (~/.local/share/veille).
// VEILLE_DATA and data_dir override it.
func DefaultDataDir() string {
	if _, err := os.Stat("data"); err == nil {
		return "data"
	}
	if b, err := os.ReadFile("go.mod"); err == nil && bytes.Contains(b, []byte("module github.com/veille-project/veille")) {
		return "data"
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "data"
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "veille")
}

// Default returns the embedded, safe configuration.
func Default() Config {
	return Config{
		DataDir:    DefaultDataDir(),
		NATS:       "embedded",
		ClickHouse: "embedded",
		Replicas:   1,
		Listen:     "127.0.0.1:8080",
		Fetch: Fetch{
			MaxBody:        15 << 20,
			ConnectTimeout: Duration(10 * time.Second),
			ReadTimeout:    Duration(20 * time.Second),
			TotalTimeout:   Duration(60 * time.Second),
			MaxRedirects:   5,
			PerHost:        2,
			UserAgent:      "Veille/1.0 (+disinformation monitoring for peacekeeping missions)",
		},
		Store:   Store{BatchSize: 5000, BatchWait: Duration(500 * time.Millisecond)},
		Metrics: Metrics{Addr: "127.0.0.1:9464"},
		Ingest:  Ingest{MaxPerPoll: 500, MaxPerHour: 2000},
	}
}

// Load reads path (if it exists, or if it was asked for explicitly) over the
// defaults, then applies environment overrides.
func Load(path string, explicit bool) (Config, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return Parse(path, b)
	case os.IsNotExist(err) && !explicit:
		cfg := Default()
		applyEnv(&cfg)
		return cfg, cfg.Validate()
	default:
		return Default(), fmt.Errorf("config: %w", err)
	}
}

// Parse reads a veille.yaml document (name is used in errors) over the
// defaults, then applies environment overrides. Unknown keys are errors.
func Parse(name string, b []byte) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && err != io.EOF {
		return cfg, fmt.Errorf("config %s: %w", name, err)
	}
	applyEnv(&cfg)
	return cfg, cfg.Validate()
}

func applyEnv(c *Config) {
	str := func(name string, dst *string) {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			*dst = v
		}
	}
	str("VEILLE_DATA", &c.DataDir)
	str("VEILLE_NATS", &c.NATS)
	str("VEILLE_CLICKHOUSE", &c.ClickHouse)
	str("VEILLE_LISTEN", &c.Listen)
	str("VEILLE_CATALOG", &c.Catalog)
	str("VEILLE_MODEL", &c.Classifier.Model)
	str("VEILLE_METRICS", &c.Metrics.Addr)
	str("VEILLE_HASH_KEY", &c.Privacy.HashKey)
	str("VEILLE_TELEGRAM_TOKEN", &c.Tipline.Telegram.Token)
	str("VEILLE_TELEGRAM_WEBHOOK_SECRET", &c.Tipline.Telegram.WebhookSecret)
	str("VEILLE_WHATSAPP_ACCESS_TOKEN", &c.Tipline.WhatsApp.AccessToken)
	str("VEILLE_WHATSAPP_APP_SECRET", &c.Tipline.WhatsApp.AppSecret)
	str("VEILLE_WHATSAPP_VERIFY_TOKEN", &c.Tipline.WhatsApp.VerifyToken)
	if v := os.Getenv("VEILLE_FOLDER_ROOTS"); v != "" {
		c.Ingest.FolderRoots = strings.Split(v, string(os.PathListSeparator))
	}
	if v := os.Getenv("VEILLE_TRUSTED_PROXIES"); v != "" {
		c.Web.TrustedProxies = strings.Split(v, ",")
	}
	if v := os.Getenv("VEILLE_THRESHOLD"); v != "" {
		if t, err := strconv.ParseFloat(v, 64); err == nil {
			c.Classifier.Threshold = t
		}
	}
	if v := os.Getenv("VEILLE_REPLICAS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			c.Replicas = n
		}
	}
}

// Validate reports the first bad setting, naming it.
func (c Config) Validate() error {
	if c.Replicas < 1 || c.Replicas > 5 {
		return fmt.Errorf("config: replicas %d: want 1 to 5", c.Replicas)
	}
	if t := c.Classifier.Threshold; t < 0 || t >= 1 {
		return fmt.Errorf("config: classifier.threshold %v: want a probability from 0 (the model's own) to below 1", t)
	}
	seen := map[string]string{}
	for i, s := range c.Sources {
		if s.Name == "" {
			return fmt.Errorf("config: sources[%d]: no name", i)
		}
		if s.URL == "" {
			return fmt.Errorf("config: source %q: no url", s.Name)
		}
		switch s.Kind {
		case "", "rss", "podcast", "transcripts-dir", "telegram", "exports-dir":
		default:
			return fmt.Errorf("config: source %q: kind %q: want rss, podcast, telegram, transcripts-dir or exports-dir", s.Name, s.Kind)
		}
		if prev, dup := seen[s.URL]; dup {
			return fmt.Errorf("config: sources %q and %q have the same url %s", prev, s.Name, s.URL)
		}
		seen[s.URL] = s.Name
	}
	return nil
}
