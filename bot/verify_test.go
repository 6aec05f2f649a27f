package bot

import (
	"net/http"
	"net/http/httptest"
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

// TestVerifyRefusesRepeatedHeaders sends a valid signature or timestamp
// together with a second one, in either order: each is refused, so that no
// reader of the headers can be made to check one and trust the other.
func TestVerifyRefusesRepeatedHeaders(t *testing.T) {
	body := "token=x&text=declare"
	at := time.Unix(1531420618, 0)
	ts := "1531420618"
	good := sign([]byte(vectorSecret), ts, []byte(body))
	bad := sign([]byte("not-the-secret"), ts, []byte(body))
	v := verifier{secret: []byte(vectorSecret), now: func() time.Time { return at }}
	tests := []struct {
		name       string
		timestamps []string
		signatures []string
		wantErr    string
	}{
		{"valid", []string{ts}, []string{good}, ""},
		{"valid then wrong signature", []string{ts}, []string{good, bad}, "2 X-Slack-Signature headers"},
		{"wrong then valid signature", []string{ts}, []string{bad, good}, "2 X-Slack-Signature headers"},
		{"the same signature twice", []string{ts}, []string{good, good}, "2 X-Slack-Signature headers"},
		{"two timestamps", []string{ts, "1531420619"}, []string{good}, "2 X-Slack-Request-Timestamp headers"},
		{"two timestamps, valid last", []string{"1531420619", ts}, []string{good}, "2 X-Slack-Request-Timestamp headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
			for _, s := range tt.timestamps {
				r.Header.Add("X-Slack-Request-Timestamp", s)
			}
			for _, s := range tt.signatures {
				r.Header.Add("X-Slack-Signature", s)
			}
			_, err := v.readVerified(r)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("readVerified: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("readVerified error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
