// Package twilio texts and calls the people a page reaches, through
// Twilio's REST API, for policy steps with sms or call: a paging vendor's
// phone and SMS without one. A call reads the incident and, when Sitrep
// has a public URL for Twilio's callbacks, takes a key press as the
// acknowledgement (intake/twilio). It is an integration of the delivery
// engine (notify): recorded first, each person's message or call made
// once, 429 and 5xx retried, a refused number told to the commander once.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
)

// DefaultURL is Twilio's REST API.
const DefaultURL = "https://api.twilio.com/"

// Config is what the integration needs.
type Config struct {
	AccountSID, AuthToken, From string
	URL                         string // TWILIO_API_URL; "" is DefaultURL
	// PublicURL is Sitrep's own base URL as Twilio reaches it
	// (SITREP_PUBLIC_URL), for the call's key press; "" makes calls that
	// only read the incident.
	PublicURL string
	// Phone returns a person's number, "" for none.
	Phone func(user string) string
	// Refused is told once when Twilio refuses a number for good.
	Refused func(ctx context.Context, number int64, problem string) error
	Client  *http.Client
}

// Integration texts and calls.
type Integration struct{ conf Config }

// New returns the integration.
func New(conf Config) *Integration {
	if conf.URL == "" {
		conf.URL = DefaultURL
	}
	conf.URL = strings.TrimSuffix(conf.URL, "/") + "/"
	conf.PublicURL = strings.TrimSuffix(conf.PublicURL, "/")
	if conf.Client == nil {
		conf.Client = &http.Client{Timeout: 15 * time.Second}
	}
	return &Integration{conf: conf}
}

// Name implements notify.Integration.
func (*Integration) Name() string { return "twilio" }

// progress is the last page event finished and what of the next is done
// ("sms:U…", "call:U…").
type progress struct {
	Seq  int64    `json:"seq"`
	Done []string `json:"done,omitempty"`
}

// Deliver implements notify.Integration.
func (in *Integration) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	var st progress
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, &st); err != nil {
			return fmt.Errorf("read Twilio progress: %w", err)
		}
	}
	store := func() error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		d.State = b
		return save()
	}
	for _, ev := range events {
		if ev.Seq <= st.Seq {
			continue
		}
		if ev.Kind != incident.KindPage || (ev.Data["sms"] != "true" && ev.Data["call"] != "true") || !open(inc, ev) {
			continue
		}
		for _, user := range strings.Fields(ev.Data["users"]) {
			phone := in.conf.Phone(user)
			if phone == "" {
				continue
			}
			for _, kind := range []string{"sms", "call"} {
				if ev.Data[kind] != "true" || slices.Contains(st.Done, kind+":"+user) {
					continue
				}
				err := in.send(ctx, kind, phone, inc, ev, user)
				var refused *refusedError
				if errors.As(err, &refused) {
					if in.conf.Refused != nil {
						if rerr := in.conf.Refused(ctx, inc.Number, fmt.Sprintf("Twilio refused the %s to %s: %s", kind, user, refused.msg)); rerr != nil {
							return rerr
						}
					}
				} else if err != nil {
					return err
				}
				st.Done = append(st.Done, kind+":"+user)
				if err := store(); err != nil {
					return err
				}
			}
		}
		st.Seq, st.Done = ev.Seq, nil
		if err := store(); err != nil {
			return err
		}
	}
	return nil
}

// open reports whether the page ev is a step of is still open.
func open(inc *incident.Incident, ev incident.Event) bool {
	id, err := strconv.Atoi(ev.Data["page"])
	return err == nil && id >= 1 && id <= len(inc.Pages) && inc.Pages[id-1].State == incident.PageOpen
}

// spoken is text made safe to read aloud inside TwiML: no markup, and &,
// < and > escaped (unescaped, Twilio cannot parse the document: 12100).
func spoken(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// GatherPath is where a call's key press comes back.
const GatherPath = "/hooks/twilio/gather"

// twiml is what a call says: the incident, then, with a public URL, one
// key to acknowledge.
func (in *Integration) twiml(inc *incident.Incident, ev incident.Event, user string) string {
	say := fmt.Sprintf("Sitrep page. Incident %d, %s: %s.", inc.Number, inc.Severity, spoken(cut(inc.Title, 200)))
	if in.conf.PublicURL == "" {
		return "<Response><Say>" + say + " Acknowledge in Slack.</Say></Response>"
	}
	q := url.Values{"incident": {strconv.FormatInt(inc.Number, 10)}, "page": {ev.Data["page"]}, "user": {user}}
	action := in.conf.PublicURL + GatherPath + "?" + q.Encode()
	return fmt.Sprintf(`<Response><Say>%s</Say><Gather numDigits="1" timeout="10" action="%s" method="POST"><Say>Press 1 to acknowledge.</Say></Gather><Say>No key pressed. Goodbye.</Say></Response>`,
		say, spoken(action))
}

func (in *Integration) send(ctx context.Context, kind, phone string, inc *incident.Incident, ev incident.Event, user string) error {
	form := url.Values{"To": {phone}, "From": {in.conf.From}}
	resource := "Messages.json"
	if kind == "sms" {
		body := fmt.Sprintf("Sitrep page: incident #%d (%s) %s", inc.Number, inc.Severity, inc.Title)
		if ev.Text != "" {
			body += " — " + ev.Text
		}
		form.Set("Body", cut(body, 1600))
		// A page that waits hours in a queue is no page: ten minutes.
		form.Set("ValidityPeriod", "600")
	} else {
		resource = "Calls.json"
		form.Set("Twiml", in.twiml(inc, ev, user))
		form.Set("Timeout", "30")
	}
	endpoint := in.conf.URL + "2010-04-01/Accounts/" + url.PathEscape(in.conf.AccountSID) + "/" + resource
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(in.conf.AccountSID, in.conf.AuthToken)
	resp, err := in.conf.Client.Do(req)
	if err != nil {
		return fmt.Errorf("send the %s through Twilio: network error", kind)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &e)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &httpError{status: resp.StatusCode, code: e.Code}
	case resp.StatusCode == http.StatusUnauthorized:
		return &authError{}
	}
	// 21211 (not a number), 21610 (STOP), 21614 (not a mobile), …: this
	// number will not take it as it is; a person must fix it.
	return &refusedError{fmt.Sprintf("%d %s", e.Code, e.Message)}
}

type httpError struct{ status, code int }

func (e *httpError) Error() string { return fmt.Sprintf("Twilio answered %d (%d)", e.status, e.code) }

type authError struct{}

func (*authError) Error() string {
	return "Twilio refused the credentials (20003): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
}

type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// Classify implements notify.Integration: 429 and 5xx are retried with
// backoff; bad credentials need a person.
func (in *Integration) Classify(err error) notify.Failure {
	var ae *authError
	if errors.As(err, &ae) {
		return notify.Failure{Final: true, Problem: ae.Error()}
	}
	return notify.Failure{}
}
