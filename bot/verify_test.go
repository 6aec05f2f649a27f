package bot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Slack's published worked example, byte for byte
// (testdata/shared/slack-payloads, a copy of shared/slack-payloads).
const (
	vectorSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	vectorTimestamp = "1531420618"
	vectorSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerifySlackSigningVector(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "shared", "slack-payloads", "slash-command.signing-vector.body.txt"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1531420618, 0)
	tests := []struct {
		name      string
		now       time.Time
		timestamp string
		signature string
		body      string
		wantErr   string
	}{
		{name: "valid", now: at.Add(time.Minute), timestamp: vectorTimestamp, signature: vectorSignature, body: string(body)},
		{name: "valid just inside the window", now: at.Add(maxSkew), timestamp: vectorTimestamp, signature: vectorSignature, body: string(body)},
		{name: "stale", now: at.Add(maxSkew + time.Second), timestamp: vectorTimestamp, signature: vectorSignature, body: string(body), wantErr: "away from now"},
		{name: "from the future", now: at.Add(-maxSkew - time.Second), timestamp: vectorTimestamp, signature: vectorSignature, body: string(body), wantErr: "away from now"},
		{name: "body changed", now: at, timestamp: vectorTimestamp, signature: vectorSignature, body: string(body) + "&x=1", wantErr: "mismatch"},
		{name: "timestamp changed", now: at, timestamp: "1531420619", signature: vectorSignature, body: string(body), wantErr: "mismatch"},
		{name: "no signature", now: at, timestamp: vectorTimestamp, body: string(body), wantErr: "missing"},
		{name: "no timestamp", now: at, signature: vectorSignature, body: string(body), wantErr: "missing"},
		{name: "malformed timestamp", now: at, timestamp: "yesterday", signature: vectorSignature, body: string(body), wantErr: "malformed"},
		{name: "wrong version prefix", now: at, timestamp: vectorTimestamp, signature: "v1=" + strings.TrimPrefix(vectorSignature, "v0="), body: string(body), wantErr: "mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verifier{secret: []byte(vectorSecret), now: func() time.Time { return tt.now }}
			err := v.check(tt.timestamp, tt.signature, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("check error = %v, want one containing %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), vectorSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}
