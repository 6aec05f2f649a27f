package bot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify checks the signature check against an independent computation
// of Slack's v0 signature: for any timestamp header, signature header, body
// and clock, the verifier never panics and accepts exactly when the
// signature is the correct one for a timestamp within five minutes of now.
// Since a fuzzer cannot guess an HMAC, each input is also checked with the
// correct signature and with near misses of it (another version prefix,
// upper-case hex, a byte added or dropped), which must be rejected.
func FuzzVerify(f *testing.F) {
	vectorNow, _ := strconv.ParseInt(vectorTimestamp, 10, 64)
	vectorBody, err := os.ReadFile(filepath.Join("..", "testdata", "shared", "slack-payloads", "slash-command.signing-vector.body.txt"))
	if err != nil {
		f.Fatal(err)
	}
	upper := "v0=" + strings.ToUpper(strings.TrimPrefix(vectorSignature, "v0="))
	v1 := "v1=" + strings.TrimPrefix(vectorSignature, "v0=")
	for _, s := range []struct {
		timestamp, signature string
		body                 []byte
		now                  int64
	}{
		{vectorTimestamp, vectorSignature, vectorBody, vectorNow + 60},
		{vectorTimestamp, vectorSignature, vectorBody, vectorNow + 300},
		{vectorTimestamp, vectorSignature, vectorBody, vectorNow + 301},
		{vectorTimestamp, vectorSignature, vectorBody, vectorNow - 301},
		{vectorTimestamp, upper, vectorBody, vectorNow},
		{vectorTimestamp, v1, vectorBody, vectorNow},
		{vectorTimestamp, vectorSignature + "\n", vectorBody, vectorNow},
		{"+" + vectorTimestamp, vectorSignature, vectorBody, vectorNow},
		{"0" + vectorTimestamp, vectorSignature, vectorBody, vectorNow},
		{"", "", nil, vectorNow},
		{"", vectorSignature, vectorBody, vectorNow},
		{vectorTimestamp, "", vectorBody, vectorNow},
		{"-1", "v0=", nil, 0},
		{"-9223372036854775808", "v0=00", []byte("x"), 0},
		{"9223372036854775807", "v0=00", []byte("x"), 1 << 40},
		{"99999999999999999999", "v0=00", []byte("x"), vectorNow},
		{"1e9", "v0=00", []byte("x"), 1_000_000_000},
		{" 1531420618", vectorSignature, vectorBody, vectorNow},
	} {
		f.Add(s.timestamp, s.signature, s.body, s.now)
	}
	// The body cap: a body of maxBody bytes is checked, one byte more is
	// refused before the signature is looked at. Only as seeds for go test:
	// mutating and minimizing megabyte inputs stalls the fuzzing workers.
	if flag.Lookup("test.fuzz").Value.String() == "" {
		atCap := bytes.Repeat([]byte("a"), maxBody)
		f.Add(vectorTimestamp, sign([]byte(vectorSecret), vectorTimestamp, atCap), atCap, vectorNow)
		f.Add(vectorTimestamp, "v0=00", append(atCap, 'a'), vectorNow)
	}

	secret := []byte(vectorSecret)
	f.Fuzz(func(t *testing.T, timestamp, signature string, body []byte, now int64) {
		// A clock between 1970 and the year 5000: the verifier is not
		// asked to make sense of a broken clock, but timestamps are
		// arbitrary.
		const maxNow = 95_000_000_000
		now %= maxNow
		if now < 0 {
			now += maxNow
		}
		v := verifier{secret: secret, now: func() time.Time { return time.Unix(now, 0) }}

		// The expected signature and freshness, computed here without the
		// verifier's code.
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("v0:" + timestamp + ":"))
		mac.Write(body)
		want := "v0=" + hex.EncodeToString(mac.Sum(nil))
		ts, perr := strconv.ParseInt(timestamp, 10, 64)
		fresh := perr == nil && ts >= now-int64(maxSkew/time.Second) && ts <= now+int64(maxSkew/time.Second)

		try := func(what, sig string, wantOK bool) {
			t.Helper()
			err := v.check(timestamp, sig, body)
			if (err == nil) != wantOK {
				t.Fatalf("%s: check(%q, %q, %d-byte body) at %d = %v, want accepted %v (fresh %v)",
					what, timestamp, sig, len(body), now, err, wantOK, fresh)
			}
			if err != nil {
				if msg := err.Error(); strings.Contains(msg, vectorSecret) || strings.Contains(msg, want) || strings.Contains(msg, want[3:]) {
					t.Fatalf("%s: error leaks the secret or the expected signature: %v", what, err)
				}
			}

			// The HTTP path decides the same, up to the body cap.
			r := httptest.NewRequest("POST", "/slack/commands", bytes.NewReader(body))
			r.Header.Set("X-Slack-Request-Timestamp", timestamp)
			r.Header.Set("X-Slack-Signature", sig)
			got, herr := v.readVerified(r)
			switch {
			case len(body) > maxBody:
				if !errors.Is(herr, errBodyTooLarge) {
					t.Fatalf("%s: readVerified of a %d-byte body = %v, want errBodyTooLarge", what, len(body), herr)
				}
			case (herr == nil) != (err == nil):
				t.Fatalf("%s: readVerified = %v but check = %v", what, herr, err)
			case herr == nil && !bytes.Equal(got, body):
				t.Fatalf("%s: readVerified returned a different body", what)
			}
		}

		// The request as given: accepted only if its header is exactly
		// the right signature and the timestamp is fresh.
		try("as given", signature, signature == want && fresh)
		// Correctly signed: accepted exactly when fresh.
		try("correctly signed", want, fresh)
		// Anything that differs from the correct signature is rejected,
		// however close.
		hexSig := want[3:]
		for _, near := range []struct{ what, sig string }{
			{"upper-case hex", "v0=" + strings.ToUpper(hexSig)},
			{"upper-case prefix", "V0=" + hexSig},
			{"v1 prefix", "v1=" + hexSig},
			{"no prefix", hexSig},
			{"truncated", want[:len(want)-1]},
			{"extra byte", want + "0"},
			{"trailing newline", want + "\n"},
			{"leading space", " " + want},
			{"other signature", signature},
		} {
			if near.sig != want {
				try(near.what, near.sig, false)
			}
		}
	})
}
