package postgres

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// timeLayout is RFC 3339 in UTC with exactly nine fractional digits, as
// storage/sqlite writes it: the fixed width makes text order time order,
// and nanoseconds keep every time.Time exactly (timestamptz would keep
// microseconds). The utc_time domain checks the form.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// formatTime encodes t as UTC text.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// timeArg is the column value for t: NULL for the zero time, which means
// "not yet". Years outside 0000–9999 have no RFC 3339 form and are refused.
func timeArg(t time.Time) (*string, error) {
	if t.IsZero() {
		return nil, nil
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("time %v is out of range", t)
	}
	s := formatTime(t)
	return &s, nil
}

// parseTime decodes a column written by timeArg, in UTC.
func parseTime(s *string) (time.Time, error) {
	if s == nil {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", *s, err)
	}
	return t.UTC(), nil
}

// servicesArg encodes the services as a JSON array; none is "[]".
func servicesArg(s []string) (string, error) {
	if len(s) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode services: %w", err)
	}
	return string(b), nil
}

// parseServices decodes servicesArg's JSON; none is nil.
func parseServices(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode services: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// dataArg encodes an event's data as a JSON object, or NULL when empty.
func dataArg(d map[string]string) (*string, error) {
	if len(d) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode event data: %w", err)
	}
	s := string(b)
	return &s, nil
}

// parseData decodes dataArg's JSON; NULL is nil.
func parseData(s *string) (map[string]string, error) {
	if s == nil {
		return nil, nil
	}
	var d map[string]string
	if err := json.Unmarshal([]byte(*s), &d); err != nil {
		return nil, fmt.Errorf("decode event data: %w", err)
	}
	if len(d) == 0 {
		return nil, nil
	}
	return d, nil
}

// parseRoles decodes the JSON object selectIncident builds from
// incident_roles. The map is never nil, so a caller may assign to it.
func parseRoles(s string) (map[string]string, error) {
	roles := map[string]string{}
	if err := json.Unmarshal([]byte(s), &roles); err != nil {
		return nil, fmt.Errorf("decode roles: %w", err)
	}
	return roles, nil
}

// jsonArg encodes v, with empty for a nil map or slice.
func jsonArg(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

// nonEmpty leaves out empty strings, and returns nil for none.
func nonEmpty(ss []string) []string {
	ss = slices.DeleteFunc(ss, func(v string) bool { return v == "" })
	if len(ss) == 0 {
		return nil
	}
	return ss
}
