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
	if err := v.check(r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature"), body); err != nil {
		return nil, err
	}
	return body, nil
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
