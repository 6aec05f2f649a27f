package slackpayload

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestPayloadsAreSlacks checks that the payloads the builders start from
// are still the real ones in shared/slack-payloads, through the
// repository's copy of them (testdata/shared, which CI compares with
// shared/).
func TestPayloadsAreSlacks(t *testing.T) {
	files, err := payloadFS.ReadDir("payloads")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded payloads: %v", err)
	}
	for _, f := range files {
		ours, _ := payloadFS.ReadFile("payloads/" + f.Name())
		theirs, err := os.ReadFile(filepath.Join("..", "..", "testdata", "shared", "slack-payloads", f.Name()))
		if err != nil {
			t.Fatalf("%v; copy %s from shared/slack-payloads to testdata/shared/slack-payloads", err, f.Name())
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("payloads/%s differs from testdata/shared/slack-payloads/%s; copy it again", f.Name(), f.Name())
		}
		Load(f.Name()) // parses
	}
}
