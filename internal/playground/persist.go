package playground

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// The playground's Slack is kept in a file of its own beside Sitrep's
// database (StatePath), not in the database: the database is Sitrep's, with
// its schema and migrations, and Sitrep must not be able to tell the
// playground's Slack from a real one, whose state it never holds. A JSON
// file beside it is also easy to look into, and to delete to start the
// workspace afresh.

// StatePath is where the playground keeps its Slack for the database at
// dbPath.
func StatePath(dbPath string) string { return dbPath + ".slack.json" }

// saveEvery is how often a Keeper looks for changes to save. It bounds what
// a crash can lose; a write happens only when something changed.
const saveEvery = time.Second

// Keeper saves a fake Slack's workspace to a file while the playground
// runs, so that the next run on the same database continues where this
// one stopped: the incidents' channels, messages and pins still there, new
// channel IDs unlike the old ones.
type Keeper struct {
	fake *slackfake.Server
	path string
	log  *slog.Logger

	mu   sync.Mutex
	last []byte // what the file holds
}

// NewKeeper returns a Keeper of fake's workspace in the file at path.
func NewKeeper(fake *slackfake.Server, path string, log *slog.Logger) *Keeper {
	return &Keeper{fake: fake, path: path, log: log}
}

// Load restores the workspace kept in the file, if there is one, and
// reports whether there was. A file it cannot read is an error, and is
// left as it is: it may hold a rehearsal someone wants back.
func (k *Keeper) Load() (bool, error) {
	data, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the playground's Slack: %w", err)
	}
	if err := k.fake.Restore(data); err != nil {
		return false, fmt.Errorf("%s: %w (move the file away to start with a fresh workspace)", k.path, err)
	}
	k.mu.Lock()
	k.last = data
	k.mu.Unlock()
	return true, nil
}

// Run saves the workspace whenever it has changed, looking every saveEvery,
// until ctx ends. Call Save once more after the last change (when Sitrep
// has stopped).
func (k *Keeper) Run(ctx context.Context) {
	t := time.NewTicker(saveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Save(); err != nil {
				k.log.Error("playground: could not save its Slack", "file", k.path, "err", err)
			}
		}
	}
}

// Save writes the workspace to the file if it changed since the last save.
// The file is replaced whole (a temporary file renamed over it), so a crash
// leaves the old state or the new, never half of one.
func (k *Keeper) Save() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	data, err := k.fake.Snapshot()
	if err != nil {
		return err
	}
	if bytes.Equal(data, k.last) {
		return nil
	}
	if err := writeFileAtomic(k.path, data); err != nil {
		return err
	}
	k.last = data
	return nil
}

// writeFileAtomic replaces the file at path with data.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save the playground's Slack: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("save the playground's Slack: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("save the playground's Slack: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("save the playground's Slack: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save the playground's Slack: %w", err)
	}
	// The rename is durable once the directory is synced; where a
	// directory cannot be synced, the file system keeps it anyway.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
