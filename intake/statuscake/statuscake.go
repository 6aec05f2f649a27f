// Package statuscake reads StatusCake's uptime webhook: a form, not JSON,
// with no test ID and no time. StatusCake cannot sign (its Token field is
// the same on every request), so the secret is in the URL: ?token=<secret>.
package statuscake

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// Source is StatusCake.
type Source struct{}

// Name implements intake.Source.
func (Source) Name() string { return "statuscake" }

// Authenticate checks ?token=<secret>.
func (Source) Authenticate(r *http.Request, _ []byte, secret string) error {
	return intake.QueryToken(r, secret)
}

// Parse reads the test's change of state: Down fires, Up resolves. The key
// is the tested URL with the test's name, the only stable fields.
func (Source) Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, intake.Badf("a StatusCake webhook is a form (application/x-www-form-urlencoded), not %q", r.Header.Get("Content-Type"))
	}
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, intake.Badf("this is not a StatusCake webhook: the form cannot be read (%v)", err)
	}
	name, target := f.Get("Name"), f.Get("URL")
	if name == "" && target == "" {
		return nil, intake.Badf("this StatusCake webhook has neither Name nor URL")
	}
	var status incident.AlertStatus
	switch strings.ToLower(f.Get("Status")) {
	case "down":
		status = incident.AlertFiring
	case "up":
		status = incident.AlertResolved
	default:
		return nil, intake.Badf("unknown StatusCake Status %q (want Down or Up)", f.Get("Status"))
	}
	a := incident.Alert{
		Key:    target + " " + name,
		Status: status,
		Title:  name + " is " + strings.ToLower(string(f.Get("Status"))),
		Labels: map[string]string{"status_code": f.Get("StatusCode"), "ip": f.Get("IP")},
	}
	if f.Get("StatusCode") == "0" {
		a.Annotations = map[string]string{"description": "The check timed out or could not connect (status code 0)."}
	}
	for _, t := range strings.Split(f.Get("Tags"), ",") {
		if t = strings.TrimSpace(t); t != "" && len(a.Labels) < incident.MaxAlertLabels/2 {
			a.Labels["tag_"+t] = "true"
		}
	}
	if status == incident.AlertFiring {
		a.StartsAt = now
	} else {
		a.EndsAt = now
	}
	if strings.HasPrefix(target, "http") {
		a.Links = []incident.AlertLink{{Text: "Checked URL", URL: target}}
	}
	return []incident.Alert{a}, nil
}
