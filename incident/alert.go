package incident

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// AlertStatus says whether an alert is firing or has resolved.
type AlertStatus string

// Alert statuses.
const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// AlertLink is a link an alert carries: where it was generated, its
// runbook, dashboard or silence.
type AlertLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Alert is one alert from a monitoring system, whichever sent it: the one
// model every source's webhook is parsed into (see package intake).
type Alert struct {
	// Source is the sender ("alertmanager", "grafana", "sentry",
	// "datadog", "pingdom", "statuscake", "generic").
	Source string `json:"source"`
	// Key identifies the alert within its source across notifications:
	// Alertmanager's fingerprint, Sentry's issue ID, Datadog's alert ID
	// and aggregation key, Pingdom's check ID, StatusCake's URL and name,
	// the generic dedup_key. Its firing and its resolving share it.
	Key         string            `json:"key"`
	Status      AlertStatus       `json:"status"`
	Title       string            `json:"title"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Links       []AlertLink       `json:"links,omitempty"`
	// StartsAt is when the alert began firing; EndsAt when it resolved
	// (zero while it fires).
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at,omitzero"`
	// Group is the sender's own grouping, when it has one (Alertmanager's
	// and Grafana's groupKey): alerts it sends together as one problem.
	// Routes group by it unless they say group_by.
	Group string `json:"group,omitempty"`
}

// Bounds on what one alert keeps. Monitoring systems send what their users
// configured, which can be anything: an alert keeps enough to be read in
// Slack and the postmortem, and says what it dropped.
const (
	MaxAlertLabels      = 64
	MaxAlertAnnotations = 32
	MaxAlertLinks       = 8
	maxAlertKey         = 512
	maxAlertTitle       = 300
	maxLabelName        = 128
	maxLabelValue       = 1000
	maxAnnotation       = 4000
	maxLinkURL          = 2000
	// droppedLabel is the label that says how many labels were left out.
	droppedLabel = "sitrep_dropped_labels"
)

// Times further from now than this are not believed: a sender's clock is
// wrong, or the field is something else. They become the time received.
const (
	maxAlertPast   = 366 * 24 * time.Hour
	maxAlertFuture = time.Hour
)

// CleanAlert checks what an alert must have (a source, a key, a known
// status) and brings the rest within bounds: text made valid UTF-8 and cut
// to length, labels and annotations capped (the label sitrep_dropped_labels
// says how many labels were left out), links kept only when they are http
// or https, and times no sender's clock could mean replaced with now. The
// title falls back to the alertname label, then the key.
func CleanAlert(a Alert, now time.Time) (Alert, error) {
	a.Source = strings.TrimSpace(a.Source)
	a.Key = cut(strings.TrimSpace(a.Key), maxAlertKey)
	a.Group = cut(strings.ToValidUTF8(a.Group, "\uFFFD"), maxAlertKey)
	switch {
	case a.Source == "":
		return a, Errorf(EINVALID, "The alert has no source.")
	case a.Key == "":
		return a, Errorf(EINVALID, "The alert has no key to tell it apart from others (a fingerprint, an ID or a dedup_key).")
	case a.Status != AlertFiring && a.Status != AlertResolved:
		return a, Errorf(EINVALID, "The alert's status %q is neither %q nor %q.", cut(string(a.Status), 40), AlertFiring, AlertResolved)
	}
	a.Labels = cleanMap(a.Labels, maxLabelName, maxLabelValue)
	if n := len(a.Labels) - MaxAlertLabels; n > 0 {
		keep := slices.Sorted(maps.Keys(a.Labels))[:MaxAlertLabels-1]
		trimmed := make(map[string]string, MaxAlertLabels)
		for _, k := range keep {
			trimmed[k] = a.Labels[k]
		}
		trimmed[droppedLabel] = fmt.Sprint(n + 1)
		a.Labels = trimmed
	}
	a.Annotations = cleanMap(a.Annotations, maxLabelName, maxAnnotation)
	if len(a.Annotations) > MaxAlertAnnotations {
		for _, k := range slices.Sorted(maps.Keys(a.Annotations))[MaxAlertAnnotations:] {
			delete(a.Annotations, k)
		}
	}
	var links []AlertLink
	for _, l := range a.Links {
		u := strings.TrimSpace(l.URL)
		if (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && len(u) <= maxLinkURL && utf8.ValidString(u) && len(links) < MaxAlertLinks {
			links = append(links, AlertLink{Text: cut(oneLine(l.Text), 100), URL: u})
		}
	}
	a.Links = links
	a.Title = cut(oneLine(a.Title), maxAlertTitle)
	if a.Title == "" {
		a.Title = cut(oneLine(a.Labels["alertname"]), maxAlertTitle)
	}
	if a.Title == "" {
		a.Title = a.Key
	}
	if a.StartsAt.IsZero() || a.StartsAt.Before(now.Add(-maxAlertPast)) || a.StartsAt.After(now.Add(maxAlertFuture)) {
		a.StartsAt = now
	}
	if a.Status == AlertFiring {
		a.EndsAt = time.Time{}
	} else if a.EndsAt.IsZero() || a.EndsAt.Before(a.StartsAt) || a.EndsAt.After(now.Add(maxAlertFuture)) {
		a.EndsAt = now
	}
	a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
	return a, nil
}

// cleanMap makes a map's names and values valid, one-line (names) and
// within length. It keeps every entry; callers cap the count.
func cleanMap(m map[string]string, maxName, maxValue int) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		k = cut(oneLine(k), maxName)
		if k == "" {
			continue
		}
		out[k] = cut(strings.ToValidUTF8(v, "\uFFFD"), maxValue)
	}
	return out
}

// oneLine makes s valid UTF-8 on one line, with runs of white space and
// control characters folded into single spaces.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }), " ")
}

// cut keeps at most n characters of s, marking a cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
