//go:build !nochdb

package backend

import (
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/chdb"
)

func init() {
	openEmbedded = func(dataDir string) (storage.Conn, error) { return chdb.Open(dataDir) }
}
