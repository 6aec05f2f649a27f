package postmortem

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// AlertReader reads the alerts attached to an incident; *incident.Service
// is one. A Reader that is one too gets its alerts in the postmortem.
type AlertReader interface {
	IncidentAlerts(ctx context.Context, n int64) ([]incident.StoredAlert, error)
}

// AlertRow is one alert of the incident. Every field is one line of
// escaped Markdown.
type AlertRow struct {
	At     time.Time // when it began firing, in the configured zone
	UTC    string    // At as "2021-12-02 20:24 UTC"
	Title  string
	Source string
	State  string // "firing", or "resolved 2021-12-02 20:40 UTC"
	Labels string // name=value, comma separated
}

// maxAlertLabels is how much of an alert's labels a row shows.
const maxAlertLabels = 500

// AlertRows makes the rows of alerts, in the order given, with times in
// loc (nil is UTC).
func AlertRows(alerts []incident.StoredAlert, loc *time.Location) []AlertRow {
	if loc == nil {
		loc = time.UTC
	}
	rows := make([]AlertRow, 0, len(alerts))
	for _, a := range alerts {
		state := "firing"
		if a.Status == incident.AlertResolved {
			state = "resolved " + UTC(a.EndsAt)
		}
		var labels []string
		for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
			labels = append(labels, k+"="+a.Labels[k])
		}
		l := strings.Join(labels, ", ")
		if r := []rune(l); len(r) > maxAlertLabels {
			l = string(r[:maxAlertLabels-1]) + "…"
		}
		rows = append(rows, AlertRow{
			At: a.StartsAt.In(loc), UTC: UTC(a.StartsAt), Title: plainLine(a.Title),
			Source: plainLine(a.Source), State: state, Labels: plainLine(l),
		})
	}
	return rows
}

// plainLine is a sender's plain text as one line of Markdown that shows
// it as it is: a monitoring system's text is not Slack markup, so every
// character Markdown (or a table) would read as markup is escaped.
func plainLine(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ") {
		switch {
		case strings.ContainsRune("\\`*_[]<>|&~!#", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
