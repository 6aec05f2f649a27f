package bot

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// A form's private_metadata comes back in its view_submission as the
// payload says, so Sitrep seals what it puts there: an HMAC over the form's
// kind, its incident, the channel it was opened from, the person it was
// opened for and the response_url to answer them at. A submission whose
// metadata was edited, or that was opened for someone else, is refused.
//
// A seal rather than a record of the view IDs Sitrep opened: it needs no
// storage (the store is the domain's, and a view is not an incident
// change), it survives restarts, and it works the same with several
// processes behind one app.
//
// The key is derived from the signing secret, which is what authenticates
// requests over HTTP: anyone who could forge a seal could forge the whole
// request. In Socket Mode alone there is no signing secret; the app-level
// token, which only Slack's side of the connection and Sitrep know, keys it
// then. Both are stable across restarts, so forms stay valid through a
// deploy; changing the secret (or the token, in Socket Mode) invalidates
// the forms open at the time, which are then opened again. With neither
// (only tests build a Bot so), a random key lives as long as the process.

// formSealInfo separates this key from any other use of the same secret.
const formSealInfo = "sitrep form metadata v1"

// formSeal seals and checks modalMeta.
type formSeal struct{ key []byte }

func newFormSeal(signingSecret, appToken string) formSeal {
	secret := signingSecret
	if secret == "" {
		secret = appToken
	}
	if secret == "" {
		r := make([]byte, 32)
		rand.Read(r)
		secret = string(r)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(formSealInfo))
	return formSeal{key: mac.Sum(nil)}
}

// seal returns m with its seal set.
func (f formSeal) seal(m modalMeta) modalMeta {
	m.Seal = f.sum(m)
	return m
}

func (f formSeal) sum(m modalMeta) string {
	m.Seal = ""
	data, _ := json.Marshal(m)
	mac := hmac.New(sha256.New, f.key)
	mac.Write(data)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// errFormSeal is a form whose metadata Sitrep did not seal for this
// submission.
var errFormSeal = errors.New("form metadata not sealed by Sitrep for this person and form")

// open reads the metadata of a form of kind (its callback ID) submitted by
// user, and returns it only if Sitrep sealed it for that form and person.
func (f formSeal) open(privateMetadata, kind, user string) (modalMeta, error) {
	m, err := parseMeta(privateMetadata)
	if err != nil {
		return modalMeta{}, err
	}
	if m.Seal == "" || !hmac.Equal([]byte(m.Seal), []byte(f.sum(m))) {
		return modalMeta{}, fmt.Errorf("%w: bad seal", errFormSeal)
	}
	if m.Kind != kind {
		return modalMeta{}, fmt.Errorf("%w: a %q form submitted as %q", errFormSeal, m.Kind, kind)
	}
	if m.User != user {
		return modalMeta{}, fmt.Errorf("%w: opened for %s, submitted by %s", errFormSeal, m.User, user)
	}
	return m, nil
}

// formSealRefusal is what a person whose form failed the check reads in it.
const formSealRefusal = "Sitrep cannot take this form: it was opened for someone else, changed on the way, or opened before Sitrep's settings changed. Close it and open it again."
