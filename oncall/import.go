package oncall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Import is what an importer made of another tool's schedule export: the
// schedules Sitrep can run, and in Notes, in words, everything in the
// export that a Sitrep schedule cannot express (so nothing is dropped
// silently).
type Import struct {
	Schedules []ScheduleConfig
	Notes     []string
}

// UserMap maps another tool's user (its ID, email or display name) to a
// Slack user ID.
type UserMap map[string]string

// The vendors ImportSchedules reads.
const (
	FromPagerDuty     = "pagerduty"
	FromGrafanaOnCall = "grafana-oncall"
)

// ImportSchedules converts exports (each a JSON document from vendor's
// API) into Sitrep schedules. now decides which layers and shifts have
// ended. Every vendor user must be in users; the error for those missing
// names them all, so one edit of the map fixes the lot. When nothing can be
// imported, the error lists the notes that say why.
func ImportSchedules(vendor string, exports [][]byte, users UserMap, now time.Time) (Import, error) {
	var imp Import
	var err error
	switch vendor {
	case FromPagerDuty:
		imp, err = importPagerDuty(exports, users, now)
	case FromGrafanaOnCall:
		imp, err = importGrafana(exports, users, now)
	default:
		return Import{}, fmt.Errorf("unknown source %q: use %s or %s", vendor, FromPagerDuty, FromGrafanaOnCall)
	}
	if err != nil {
		return Import{}, err
	}
	if len(imp.Schedules) == 0 {
		return imp, fmt.Errorf("nothing in the export could become a Sitrep schedule:\n  %s", strings.Join(imp.Notes, "\n  "))
	}
	if _, err := (Config{Schedules: imp.Schedules}).Compile(nil); err != nil {
		return imp, fmt.Errorf("the imported schedules do not compile (a bug in the importer, please report it): %w", err)
	}
	return imp, nil
}

// slackUsers maps vendor users to Slack IDs, collecting those missing.
type slackUsers struct {
	m       UserMap
	vendor  string
	missing []string
}

// lookup returns the Slack ID for the first of keys the map has. label
// names the user in the error when none is found.
func (s *slackUsers) lookup(label string, keys ...string) string {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if v, ok := s.m[k]; ok {
			return v
		}
	}
	if !containsString(s.missing, label) {
		s.missing = append(s.missing, label)
	}
	return ""
}

func (s *slackUsers) err() error {
	if len(s.missing) == 0 {
		return nil
	}
	sort.Strings(s.missing)
	return fmt.Errorf("no Slack user ID for %d %s user(s): %s; map each to the person's Slack member ID (U…) in the --users file (\"<id>: U…\") or with --user <id>=U…",
		len(s.missing), s.vendor, strings.Join(s.missing, ", "))
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// decodeJSON reads one JSON document into v, saying plainly when it is
// not JSON or not the shape what names.
func decodeJSON(i int, data []byte, v any, what string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var ute *json.UnmarshalTypeError
	switch {
	case !json.Valid(data):
		return fmt.Errorf("export %d is not JSON (%v); save the API's answer as it came, such as with curl -o", i+1, err)
	case errors.As(err, &ute) && ute.Field == "":
		return fmt.Errorf("export %d is not %s: it is a JSON %s, where an object was expected", i+1, what, ute.Value)
	case errors.As(err, &ute):
		return fmt.Errorf("export %d is not %s: %s is a JSON %s, not a %s", i+1, what, ute.Field, ute.Value, ute.Type)
	}
	return fmt.Errorf("export %d: %v", i+1, err)
}

// slug makes a vendor's schedule name into a Sitrep one: lowercase
// letters, digits and dashes, at most 30, starting with a letter.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	s := b.String()
	if len(s) > 30 {
		s = strings.TrimRight(s[:30], "-")
	}
	if s == "" {
		s = "imported"
	}
	return s
}

// uniqueName returns name, or name-2, name-3… when taken.
func uniqueName(taken []ScheduleConfig, name string) string {
	try := name
	for n := 2; ; n++ {
		free := true
		for _, s := range taken {
			if s.Name == try {
				free = false
			}
		}
		if free {
			return try
		}
		suffix := fmt.Sprintf("-%d", n)
		base := name
		if len(base)+len(suffix) > 30 {
			base = base[:30-len(suffix)]
		}
		try = base + suffix
	}
}

// shiftFields returns the shift and handoff settings for shifts of days
// calendar days changing at local (the wall-clock time of a handoff), or
// why they cannot be expressed.
func shiftFields(days int, local time.Time) (shift, handoff string, err error) {
	if days < 1 || days > 52*7 || (days > 52 && days%7 != 0) {
		return "", "", fmt.Errorf("shifts of %d days; Sitrep shifts are 1 to 52 days or 1 to 52 weeks", days)
	}
	clock := fmt.Sprintf("%02d:%02d", local.Hour(), local.Minute())
	if days%7 == 0 {
		return fmt.Sprintf("%dw", days/7), strings.ToLower(local.Weekday().String()) + " " + clock, nil
	}
	return fmt.Sprintf("%dd", days), clock, nil
}

// hasKey reports whether data is a JSON object with key at the top.
func hasKey(data []byte, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(data), &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// shortDuration writes 39h rather than 39h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
