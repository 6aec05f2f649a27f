package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxBody caps what is read of a request from Slack. Slack's largest
// payloads (view submissions with big modals) stay well below it.
const maxBody = 1 << 20

// maxSkew is how far a request's timestamp may be from now: Slack's replay
// window.
const maxSkew = 5 * time.Minute

var errBodyTooLarge = errors.New("request body too large")

// verifier checks Slack's request signatures
// (https://api.slack.com/authentication/verifying-requests-from-slack).
type verifier struct {
	secret []byte
	now    func() time.Time
}

// readVerified reads the request body, capped at maxBody, and returns it only
// if it carries a valid, fresh Slack signature.
func (v verifier) readVerified(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxBody {
		return nil, errBodyTooLarge
	}
	timestamp, err := oneHeader(r.Header, "X-Slack-Request-Timestamp")
	if err != nil {
		return nil, err
	}
	signature, err := oneHeader(r.Header, "X-Slack-Signature")
	if err != nil {
		return nil, err
	}
	if err := v.check(timestamp, signature, body); err != nil {
		return nil, err
	}
	return body, nil
}

// oneHeader returns the one value of a signature header. Slack sends each
// once; a request with two is refused whatever they hold, since which one
// a proxy, a library or Sitrep reads first decides whether a forged value
// is checked or ignored.
func oneHeader(h http.Header, name string) (string, error) {
	switch vs := h.Values(name); len(vs) {
	case 0:
		return "", nil // check says it is missing
	case 1:
		return vs[0], nil
	default:
		return "", fmt.Errorf("%d %s headers; Slack sends one", len(vs), name)
	}
}

// check verifies one signature. Errors say what was wrong without echoing
// the secret or the expected signature.
func (v verifier) check(timestamp, signature string, body []byte) error {
	if timestamp == "" || signature == "" {
		return errors.New("missing signature headers")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("malformed timestamp")
	}
	if skew := v.now().Sub(time.Unix(ts, 0)); skew > maxSkew || skew < -maxSkew {
		return fmt.Errorf("timestamp is %s away from now", skew.Round(time.Second))
	}
	want := sign(v.secret, timestamp, body)
	if !hmac.Equal([]byte(signature), []byte(want)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// sign computes Slack's v0 signature of body sent at timestamp.
func sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "v0:%s:", timestamp)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}
