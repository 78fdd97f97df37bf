package backend_test

import (
	"context"
	"strings"
	"testing"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/storage/storagetest"
)

func TestOpenByDSN(t *testing.T) {
	ctx := context.Background()
	srv := storagetest.StartServer(t)
	dir := t.TempDir() // one chDB directory: chDB has one session per process
	for _, tc := range []struct {
		name, dsn, backend, database string
	}{
		{"embedded", "embedded", "chdb ", storage.DefaultDatabase},
		{"empty means embedded", "", "chdb ", storage.DefaultDatabase},
		{"server with database", srv + "/veille_x", "clickhouse ", "veille_x"},
		{"server without database", srv, "clickhouse ", storage.DefaultDatabase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := backend.Open(ctx, tc.dsn, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if !strings.HasPrefix(st.Backend(), tc.backend) {
				t.Errorf("Backend() = %q, want prefix %q", st.Backend(), tc.backend)
			}
			if db := st.(*storage.DB).Database(); db != tc.database {
				t.Errorf("database = %q, want %q", db, tc.database)
			}
			if err := st.InsertItems(ctx, []storage.Item{{ID: "x"}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpenRefusesUnknownDSN(t *testing.T) {
	_, err := backend.Open(context.Background(), "postgres://user:secret@h/db", t.TempDir())
	if err == nil {
		t.Fatal("Open accepted a postgres DSN")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the DSN's password: %v", err)
	}
}
