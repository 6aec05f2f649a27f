package slackpayload

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestPayloadsAreSlacks checks that the payloads the builders start from
// are still the real ones in shared/slack-payloads.
func TestPayloadsAreSlacks(t *testing.T) {
	files, err := payloadFS.ReadDir("payloads")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded payloads: %v", err)
	}
	for _, f := range files {
		ours, _ := payloadFS.ReadFile("payloads/" + f.Name())
		theirs, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "slack-payloads", f.Name()))
		if err != nil {
			t.Fatalf("the shared payloads must sit beside the repo: %v", err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("payloads/%s differs from shared/slack-payloads/%s; copy it again", f.Name(), f.Name())
		}
		Load(f.Name()) // parses
	}
}
