// Package deploy_test checks the deployment files that no engine runs here:
// the Compose file, the Kubernetes manifests, the NATS and ClickHouse
// configurations, the Dockerfile's premise and the Grafana dashboard, whose
// SQL runs against Veille's real schema in chDB.
package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"

	_ "github.com/veille-project/veille/storage/chdb/chdblib"

	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/chdb"
)

// stages are the veille subcommands deployed as separate services.
var stages = []string{"ingest", "classify", "store", "serve"}

func root(t *testing.T) string {
	t.Helper()
	return testenv.Root(t)
}

func readYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// get walks nested maps and lists: get(m, "spec", "template", 0, "name").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func TestNATSClusterConfigs(t *testing.T) {
	dir := filepath.Join(root(t), "deploy", "nats")
	t.Setenv("VEILLE_NATS_PASSWORD", "s3cret")
	names := map[string]bool{}
	for i := 1; i <= 3; i++ {
		path := filepath.Join(dir, fmt.Sprintf("nats-%d.conf", i))
		opts, err := server.ProcessConfigFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		want := fmt.Sprintf("nats%d", i)
		if opts.ServerName != want || names[opts.ServerName] {
			t.Errorf("%s: server_name %q, want unique %q", path, opts.ServerName, want)
		}
		names[opts.ServerName] = true
		if !opts.JetStream || opts.StoreDir != "/data/jetstream" {
			t.Errorf("%s: jetstream %v store %q, want enabled in /data/jetstream", path, opts.JetStream, opts.StoreDir)
		}
		if opts.Cluster.Name != "veille" || opts.Cluster.Port != 6222 || len(opts.Routes) != 3 {
			t.Errorf("%s: cluster %q port %d with %d routes, want veille on 6222 with 3", path, opts.Cluster.Name, opts.Cluster.Port, len(opts.Routes))
		}
		if opts.Port != 4222 || opts.HTTPPort != 8222 {
			t.Errorf("%s: ports %d/%d, want 4222 and monitoring 8222", path, opts.Port, opts.HTTPPort)
		}
		if opts.Username != "veille" || opts.Password != "s3cret" {
			t.Errorf("%s: client auth %q, want user veille with the password from VEILLE_NATS_PASSWORD", path, opts.Username)
		}
	}
	t.Run("password required", func(t *testing.T) {
		os.Unsetenv("VEILLE_NATS_PASSWORD")
		if _, err := server.ProcessConfigFile(filepath.Join(dir, "nats-1.conf")); err == nil {
			t.Error("nats-1.conf loads without VEILLE_NATS_PASSWORD; it must refuse")
		}
	})
}

func TestComposeFile(t *testing.T) {
	dir := root(t)
	docs := readYAML(t, filepath.Join(dir, "docker-compose.yml"))
	services, _ := get(docs[0], "services").(map[string]any)
	for _, name := range []string{"nats1", "nats2", "nats3", "clickhouse", "ingest", "classify", "store", "serve"} {
		if services[name] == nil {
			t.Errorf("service %s missing", name)
		}
	}
	for i := 1; i <= 3; i++ {
		s := services[fmt.Sprintf("nats%d", i)]
		if img := str(get(s, "image")); img != "nats:2.10-alpine" {
			t.Errorf("nats%d image %q", i, img)
		}
		if hc := fmt.Sprint(get(s, "healthcheck", "test")); !strings.Contains(hc, "8222/healthz") {
			t.Errorf("nats%d healthcheck %s: want the monitoring /healthz", i, hc)
		}
	}
	if img := str(get(services["clickhouse"], "image")); !strings.HasPrefix(img, "clickhouse/clickhouse-server:24") {
		t.Errorf("clickhouse image %q", img)
	}
	for _, name := range stages {
		s := services[name]
		if cmd := get(s, "command", 0); cmd != name {
			t.Errorf("%s: command %v, want veille %s", name, get(s, "command"), name)
		}
		env, _ := get(s, "environment").(map[string]any)
		nats := str(env["VEILLE_NATS"])
		for _, h := range []string{"@nats1:4222", "@nats2:4222", "@nats3:4222"} {
			if !strings.Contains(nats, h) {
				t.Errorf("%s: VEILLE_NATS %q lacks %s", name, nats, h)
			}
		}
		if ch := str(env["VEILLE_CLICKHOUSE"]); !strings.HasPrefix(ch, "clickhouse://") || !strings.HasSuffix(ch, "@clickhouse:9000/veille") {
			t.Errorf("%s: VEILLE_CLICKHOUSE %q", name, ch)
		}
		// serve listens on VEILLE_LISTEN, the other stages serve their
		// ops endpoints on VEILLE_OPS: the health check's port either way.
		if str(env["VEILLE_REPLICAS"]) != "3" || str(env["VEILLE_LISTEN"]) != "0.0.0.0:8080" || str(env["VEILLE_OPS"]) != "0.0.0.0:8080" {
			t.Errorf("%s: VEILLE_REPLICAS %v, VEILLE_LISTEN %v, VEILLE_OPS %v", name, env["VEILLE_REPLICAS"], env["VEILLE_LISTEN"], env["VEILLE_OPS"])
		}
		if hc := fmt.Sprint(get(s, "healthcheck", "test")); !strings.Contains(hc, "/healthz") {
			t.Errorf("%s: healthcheck %s", name, hc)
		}
		deps, _ := get(s, "depends_on").(map[string]any)
		for _, d := range []string{"nats1", "nats2", "nats3", "clickhouse"} {
			if c := str(get(deps[d], "condition")); c != "service_healthy" {
				t.Errorf("%s: depends_on %s condition %q, want service_healthy", name, d, c)
			}
		}
	}
	if n := get(services["classify"], "deploy", "replicas"); n != 2 {
		t.Errorf("classify replicas %v, want 2", n)
	}
	if p := fmt.Sprint(get(services["serve"], "ports")); !strings.Contains(p, "127.0.0.1:8080:8080") {
		t.Errorf("serve ports %s: publish on loopback only", p)
	}
	// Every bind mount names a file of this repository.
	for name, s := range services {
		vols, _ := get(s, "volumes").([]any)
		for _, v := range vols {
			src := strings.SplitN(str(v), ":", 2)[0]
			if !strings.HasPrefix(src, "./") {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
				t.Errorf("%s: mount %s: %v", name, src, err)
			}
		}
	}
}

func TestVeilleConfigsLoad(t *testing.T) {
	for _, env := range []string{"VEILLE_NATS", "VEILLE_CLICKHOUSE", "VEILLE_LISTEN", "VEILLE_DATA", "VEILLE_REPLICAS", "VEILLE_CATALOG"} {
		t.Setenv(env, "")
	}
	for _, p := range []string{"deploy/veille.yaml", "deploy/k8s/base/veille.yaml"} {
		cfg, err := config.Load(filepath.Join(root(t), p), true)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if len(cfg.Sources) == 0 || len(cfg.Fetch.Allow) != 0 {
			t.Errorf("%s: %d sources, allow %v: want examples and no private allow-list", p, len(cfg.Sources), cfg.Fetch.Allow)
		}
	}
}

func TestKubernetesBase(t *testing.T) {
	dir := filepath.Join(root(t), "deploy", "k8s", "base")
	kust := readYAML(t, filepath.Join(dir, "kustomization.yaml"))[0]
	env := fmt.Sprint(get(kust, "configMapGenerator", 1, "literals"))
	for _, want := range []string{"VEILLE_REPLICAS=3", "VEILLE_LISTEN=0.0.0.0:8080", "VEILLE_OPS=0.0.0.0:8080"} {
		if !strings.Contains(env, want) {
			t.Errorf("ConfigMap veille-env lacks %s", want)
		}
	}
	byKind := map[string][]map[string]any{}
	for _, r := range get(kust, "resources").([]any) {
		for _, d := range readYAML(t, filepath.Join(dir, str(r))) {
			byKind[str(d["kind"])] = append(byKind[str(d["kind"])], d)
		}
	}
	seen := map[string]bool{}
	for _, d := range byKind["Deployment"] {
		name := str(get(d, "metadata", "name"))
		c := get(d, "spec", "template", "spec", "containers", 0)
		stage := str(get(c, "args", 0))
		seen[stage] = true
		if name != "veille-"+stage {
			t.Errorf("%s runs veille %s", name, stage)
		}
		if p := str(get(c, "livenessProbe", "httpGet", "path")); p != "/healthz" {
			t.Errorf("%s: liveness %q", name, p)
		}
		if p := str(get(c, "readinessProbe", "httpGet", "path")); p != "/readyz" {
			t.Errorf("%s: readiness %q", name, p)
		}
		for _, k := range []string{"requests", "limits"} {
			if get(c, "resources", k, "cpu") == nil || get(c, "resources", k, "memory") == nil {
				t.Errorf("%s: resources.%s needs cpu and memory", name, k)
			}
		}
		if get(d, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
			t.Errorf("%s: not runAsNonRoot", name)
		}
		if get(c, "securityContext", "readOnlyRootFilesystem") != true {
			t.Errorf("%s: root filesystem writable", name)
		}
		var secret bool
		for _, e := range get(c, "envFrom").([]any) {
			secret = secret || str(get(e, "secretRef", "name")) == "veille-secrets"
		}
		if !secret {
			t.Errorf("%s: does not read the veille-secrets Secret", name)
		}
		want := 1
		if stage == "classify" || stage == "serve" {
			want = 2
		}
		if n := get(d, "spec", "replicas"); n != want {
			t.Errorf("%s: %v replicas, want %d", name, n, want)
		}
	}
	for _, s := range stages {
		if !seen[s] {
			t.Errorf("no Deployment runs veille %s", s)
		}
	}
	if len(byKind["Service"]) != 1 || len(byKind["Ingress"]) != 1 {
		t.Fatalf("want one Service and one Ingress, got %d and %d", len(byKind["Service"]), len(byKind["Ingress"]))
	}
	svc := byKind["Service"][0]
	if get(svc, "spec", "selector", "app.kubernetes.io/component") != "serve" {
		t.Errorf("Service selects %v, want the serve pods", get(svc, "spec", "selector"))
	}
	backend := str(get(byKind["Ingress"][0], "spec", "rules", 0, "http", "paths", 0, "backend", "service", "name"))
	if backend != str(get(svc, "metadata", "name")) {
		t.Errorf("Ingress backend %q is not the Service", backend)
	}
	if len(byKind["HorizontalPodAutoscaler"]) != 1 {
		t.Error("want an HPA for classify")
	}
}

// TestKustomizeBuilds renders the prod overlay when kubectl is installed.
func TestKustomizeBuilds(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: the YAML-level checks above still ran")
	}
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(root(t), "deploy", "k8s", "overlays", "prod")).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	s := string(out)
	if n := strings.Count(s, "\nkind: Deployment\n"); n != 4 {
		t.Errorf("%d Deployments rendered, want 4", n)
	}
	if strings.Count(s, "namespace: veille") < 8 || !strings.Contains(s, "image: registry.example.org/veille:1.0.0") {
		t.Error("overlay did not set the namespace and the pinned image")
	}
}

func TestClickHouseConfigs(t *testing.T) {
	dir := filepath.Join(root(t), "deploy", "clickhouse")
	for _, f := range []string{"config.d/veille.xml", "users.d/veille.xml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "users.d", "veille.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc xmlNode
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	users := doc.child("users")
	for name, env := range map[string]string{"veille": "VEILLE_CLICKHOUSE_PASSWORD", "grafana": "VEILLE_GRAFANA_PASSWORD"} {
		u := users.child(name)
		if u == nil {
			t.Errorf("no %s user", name)
			continue
		}
		if got := u.child("password").attr("from_env"); got != env {
			t.Errorf("user %s: password from_env %q, want %s", name, got, env)
		}
		if dbs := u.child("allow_databases"); dbs == nil || len(dbs.Nodes) != 1 || dbs.Nodes[0].Text != "veille" {
			t.Errorf("user %s: allowed databases must be exactly veille", name)
		}
		if p := strings.TrimSpace(u.child("profile").Text); p != name {
			t.Errorf("user %s: profile %q", name, p)
		}
	}
	if ro := doc.child("profiles").child("grafana").child("readonly"); ro == nil || ro.Text != "2" {
		t.Error("the grafana profile must be readonly=2")
	}
	if nets := users.child("default").child("networks"); nets == nil || nets.attr("replace") != "replace" {
		t.Error("the default user must be limited to loopback (networks replace)")
	}
	sql, err := os.ReadFile(filepath.Join(dir, "initdb", "01-veille.sql"))
	if err != nil || !strings.Contains(string(sql), "CREATE DATABASE IF NOT EXISTS veille") {
		t.Errorf("initdb does not create the veille database (%v)", err)
	}
}

// xmlNode is any XML element, for walking ClickHouse configuration files.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xmlNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *xmlNode) child(name string) *xmlNode {
	if n == nil {
		return nil
	}
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

func (n *xmlNode) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestServerImageHasNoChDB checks the Dockerfile's premise: built with
// -tags nochdb, the binary does not link chdb-go (nor need libchdb).
func TestServerImageHasNoChDB(t *testing.T) {
	dir := root(t)
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-tags nochdb", "./cmd/veille", "USER 10001", "EXPOSE 8080", "HEALTHCHECK", "/healthz"} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	cmd := exec.Command("go", "list", "-tags", "nochdb", "-deps", "./cmd/veille")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -tags nochdb ./cmd/veille: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/chdb-io/") || strings.HasSuffix(pkg, "/storage/chdb/chdblib") {
			t.Errorf("the nochdb build still links %s", pkg)
		}
	}
}

func TestLocalClusterScript(t *testing.T) {
	script := filepath.Join(root(t), "deploy", "local-cluster.sh")
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	out, err := exec.Command("bash", script).CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "usage") {
		t.Errorf("no argument: exit %d, %q; want usage and exit 2", code, out)
	}
	// Starting the cluster binds fixed loopback ports (4222-4224, 6222-6224,
	// 8222-8224): only on request, never beside other tests by default.
	if os.Getenv("VEILLE_TEST_LOCAL_CLUSTER") != "1" {
		t.Skip("set VEILLE_TEST_LOCAL_CLUSTER=1 to start and stop the real cluster")
	}
	env := append(os.Environ(), "VEILLE_CLUSTER_DIR="+t.TempDir(), "VEILLE_CLUSTER_STAGES=none")
	run := func(arg string) string {
		cmd := exec.Command("bash", script, arg)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("local-cluster.sh %s: %v\n%s", arg, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() { run("stop") })
	run("start")
	if st := run("status"); !strings.Contains(st, `"cluster_size": 3`) || !strings.Contains(st, "ClickHouse: up") {
		t.Errorf("status after start:\n%s", st)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title      string `json:"title"`
		Type       string `json:"type"`
		Datasource struct {
			Type string `json:"type"`
		} `json:"datasource"`
		Targets []struct {
			Datasource struct {
				Type string `json:"type"`
			} `json:"datasource"`
			Format    int    `json:"format"`
			QueryType string `json:"queryType"`
			RawSQL    string `json:"rawSql"`
		} `json:"targets"`
	} `json:"panels"`
}

var (
	timeFilter   = regexp.MustCompile(`\$__timeFilter\(([^)]+)\)`)
	timeInterval = regexp.MustCompile(`\$__timeInterval\(([^)]+)\)`)
	listVar      = regexp.MustCompile(`\$\{(\w+):singlequote\}`)
)

// expand does what the ClickHouse data source does to a panel's SQL before
// running it: macros for the time range and interval, then variables.
func expand(sql, db string, from, to time.Time, vars map[string][]string) string {
	ts := func(t time.Time) string { return "toDateTime(" + strconv.FormatInt(t.Unix(), 10) + ")" }
	sql = timeFilter.ReplaceAllString(sql, "$1 >= "+ts(from)+" AND $1 <= "+ts(to))
	sql = timeInterval.ReplaceAllString(sql, "toStartOfInterval(toDateTime($1), INTERVAL 3600 second)")
	sql = strings.ReplaceAll(sql, "$__toTime", ts(to))
	sql = strings.ReplaceAll(sql, "$__fromTime", ts(from))
	sql = listVar.ReplaceAllStringFunc(sql, func(m string) string {
		vals := vars[listVar.FindStringSubmatch(m)[1]]
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = "'" + v + "'"
		}
		return strings.Join(q, ",")
	})
	return strings.ReplaceAll(sql, "${db}", db)
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "deploy", "grafana", "veille-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	titles := map[string]int{}
	for i, p := range d.Panels {
		titles[p.Title] = i
		if p.Datasource.Type != "grafana-clickhouse-datasource" || len(p.Targets) != 1 || p.Targets[0].Datasource.Type != p.Datasource.Type {
			t.Errorf("panel %q: want one ClickHouse target", p.Title)
			continue
		}
		tg := p.Targets[0]
		if ts := p.Type == "timeseries"; ts != (tg.Format == 0) || ts != (tg.QueryType == "timeSeries") {
			t.Errorf("panel %q (%s): format %d, queryType %q", p.Title, p.Type, tg.Format, tg.QueryType)
		}
	}
	for _, want := range []string{"Flags per narrative", "Rising narratives", "Flags by mission", "Flags by language",
		"Review decisions", "Items ingested per source"} {
		if _, ok := titles[want]; !ok {
			t.Errorf("no panel %q", want)
		}
	}

	// Run every query against Veille's schema with a small data set.
	ctx := context.Background()
	conn, err := chdb.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const db = "veille_dashboard"
	st, err := storage.New(ctx, conn, storage.Options{Database: db})
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Second)
	var items []storage.Item
	var flags []storage.Flag
	add := func(id, source, lang, mission string, age time.Duration, narr, stance string) {
		pub := now.Add(-age)
		items = append(items, storage.Item{ID: id, Source: source, Kind: "article", Lang: lang, Mission: mission, Title: id, Text: id, Published: pub, Fetched: pub})
		if narr != "" {
			flags = append(flags, storage.Flag{ItemID: id, Narrative: narr, Stance: stance, Score: 0.9, Source: source, Lang: lang, Mission: mission, Published: pub})
		}
	}
	// A surge of weapons claims in the last day over a quiet week; a
	// steady narrative; ordinary items.
	for i := range 6 {
		add(fmt.Sprintf("w%d", i), "Echos de Bangui", "fr", "MINUSCA", time.Duration(i+1)*time.Hour, "weapons-to-armed-groups", "assert")
	}
	add("w-old", "Sahel Monitor", "en", "MINUSCA", 4*24*time.Hour, "weapons-to-armed-groups", "report")
	for i := range 5 {
		add(fmt.Sprintf("o%d", i), "Kivu Watch", "sw", "MONUSCO", time.Duration(i)*24*time.Hour+2*time.Hour, "foreign-occupation", "assert")
	}
	add("d1", "Sahel Monitor", "en", "MINUSCA", 3*time.Hour, "weapons-to-armed-groups", "debunk")
	add("n1", "Sahel Monitor", "en", "none", 5*time.Hour, "", "")
	add("n2", "Kivu Watch", "en", "none", 6*time.Hour, "", "")
	if err := st.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertFlags(ctx, flags); err != nil {
		t.Fatal(err)
	}
	// Stored twice: FINAL must count each flag once.
	if err := st.InsertFlags(ctx, flags[:3]); err != nil {
		t.Fatal(err)
	}
	reviews := []storage.Review{
		{ItemID: "w0", Narrative: "weapons-to-armed-groups", Stance: "assert", Decision: storage.DecisionConfirm, At: now.Add(-50 * time.Minute)},
		{ItemID: "w0", Narrative: "weapons-to-armed-groups", Stance: "assert", Decision: storage.DecisionNeedsResponse, At: now.Add(-40 * time.Minute)},
		{ItemID: "w1", Narrative: "weapons-to-armed-groups", Stance: "assert", Decision: storage.DecisionNeedsResponse, At: now.Add(-30 * time.Minute)},
		{ItemID: "o0", Narrative: "foreign-occupation", Stance: "assert", Decision: storage.DecisionFalsePositive, At: now.Add(-20 * time.Minute)},
	}
	if err := st.InsertReviews(ctx, reviews); err != nil {
		t.Fatal(err)
	}

	vars := map[string][]string{"stance": {"assert", "report", "debunk"}}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		rows, err := conn.Query(ctx, expand(str(v.Query), db, now, now, nil))
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		for _, r := range rows {
			vars[v.Name] = append(vars[v.Name], r[0])
		}
	}
	if !slices.Equal(vars["mission"], []string{"MINUSCA", "MONUSCO"}) {
		t.Errorf("mission variable values %v", vars["mission"])
	}
	results := map[string][][]string{}
	for _, p := range d.Panels {
		sql := expand(p.Targets[0].RawSQL, db, now.Add(-7*24*time.Hour), now.Add(time.Minute), vars)
		if strings.Contains(sql, "$") {
			t.Errorf("panel %q: unexpanded macro or variable in %s", p.Title, sql)
			continue
		}
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			t.Errorf("panel %q: %v\n%s", p.Title, err, sql)
			continue
		}
		results[p.Title] = rows
	}
	one := func(title string) string {
		if r := results[title]; len(r) == 1 && len(r[0]) == 1 {
			return r[0][0]
		}
		return fmt.Sprint(results[title])
	}
	for title, want := range map[string]string{
		"Items ingested":         strconv.Itoa(len(items)),
		"Flags":                  strconv.Itoa(len(flags)),
		"Flags not yet reviewed": strconv.Itoa(len(flags) - 3),
		"Needing a response":     "2",
	} {
		if got := one(title); got != want {
			t.Errorf("%s = %s, want %s", title, got, want)
		}
	}
	if r := results["Rising narratives"]; len(r) == 0 || r[0][0] != "weapons-to-armed-groups" || r[0][1] != "6" {
		t.Errorf("Rising narratives = %v, want weapons-to-armed-groups first with 6 in the last 24h", r)
	}
	decisions := map[string]string{}
	for _, r := range results["Review decisions"] {
		decisions[r[0]] = r[1]
	}
	if want := map[string]string{"needs_response": "2", "false_positive": "1"}; fmt.Sprint(decisions) != fmt.Sprint(want) {
		t.Errorf("Review decisions = %v, want %v (latest decision per flag)", decisions, want)
	}
	perSource := 0
	for _, r := range results["Items ingested per source"] {
		n, _ := strconv.Atoi(r[2])
		perSource += n
	}
	if perSource != len(items) {
		t.Errorf("Items ingested per source sums to %d, want %d", perSource, len(items))
	}
	if len(results["Flags by mission"]) != 2 || len(results["Flags by language"]) != 3 {
		t.Errorf("by mission %v, by language %v", results["Flags by mission"], results["Flags by language"])
	}
}
