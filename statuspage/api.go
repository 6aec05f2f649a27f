package statuspage

import (
	"encoding/json"
	"time"
)

// The JSON endpoints answer in the shapes of Atlassian Statuspage's public
// API (/api/v2/*.json): the same field names, status words, indicator
// values and ISO 8601 times with milliseconds, so that tools that read a
// Statuspage page (status aggregators, other companies' Sitrep, scripts)
// read this one unchanged. Fields Sitrep has no value for are null, as
// Statuspage sends them.

type apiPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type apiStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type apiComponent struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Status             string   `json:"status"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          string   `json:"updated_at"`
	Position           int      `json:"position"`
	Description        *string  `json:"description"`
	Showcase           bool     `json:"showcase"`
	StartDate          *string  `json:"start_date"`
	GroupID            *string  `json:"group_id"`
	PageID             string   `json:"page_id"`
	Group              bool     `json:"group"`
	OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
	Components         []string `json:"components,omitempty"` // a group's members
}

type apiAffected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type apiUpdate struct {
	ID                   string        `json:"id"`
	Status               string        `json:"status"`
	Body                 string        `json:"body"`
	IncidentID           string        `json:"incident_id"`
	CreatedAt            string        `json:"created_at"`
	UpdatedAt            string        `json:"updated_at"`
	DisplayAt            string        `json:"display_at"`
	AffectedComponents   []apiAffected `json:"affected_components"`
	DeliverNotifications bool          `json:"deliver_notifications"`
	CustomTweet          *string       `json:"custom_tweet"`
}

type apiIncident struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	CreatedAt       string         `json:"created_at"`
	UpdatedAt       string         `json:"updated_at"`
	MonitoringAt    *string        `json:"monitoring_at"`
	ResolvedAt      *string        `json:"resolved_at"`
	Impact          string         `json:"impact"`
	Shortlink       string         `json:"shortlink"`
	StartedAt       string         `json:"started_at"`
	PageID          string         `json:"page_id"`
	IncidentUpdates []apiUpdate    `json:"incident_updates"`
	Components      []apiComponent `json:"components"`
}

// isoTime is Statuspage's time form: UTC with milliseconds and Z.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func isoPtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := isoTime(t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (v *View) pageID() string { return stableID("page", v.Name) }

func (v *View) apiPage() apiPage {
	return apiPage{ID: v.pageID(), Name: v.Name, URL: v.URL, TimeZone: v.loc.String(), UpdatedAt: isoTime(v.LastModified)}
}

// apiComponents lists the groups as Statuspage does (a component with
// "group": true whose members carry its ID in group_id) and the components,
// in page order.
func (v *View) apiComponents() []apiComponent {
	var out []apiComponent
	pos := 0
	for _, g := range v.Groups {
		if g.Name != "" {
			pos++
			gc := apiComponent{ID: g.ID, Name: g.Name, Status: string(g.Status), Position: pos, PageID: v.pageID(), Group: true, Showcase: false}
			since := v.Generated
			for _, c := range g.Components {
				gc.Components = append(gc.Components, c.ID)
				if c.Since.Before(since) {
					since = c.Since
				}
			}
			gc.CreatedAt, gc.UpdatedAt = isoTime(since), isoTime(latestSince(g.Components))
			out = append(out, gc)
		}
		for _, c := range g.Components {
			pos++
			out = append(out, v.apiComponent(c, pos))
		}
	}
	return out
}

func latestSince(cs []*Component) time.Time {
	var t time.Time
	for _, c := range cs {
		if c.Since.After(t) {
			t = c.Since
		}
	}
	return t
}

func (v *View) apiComponent(c *Component, pos int) apiComponent {
	return apiComponent{
		ID: c.ID, Name: c.Name, Status: string(c.Status), CreatedAt: isoTime(v.Generated.AddDate(0, 0, -(Days - 1))),
		UpdatedAt: isoTime(c.Since), Position: pos, Description: strPtr(c.Description), Showcase: true,
		GroupID: strPtr(c.GroupID), PageID: v.pageID(),
	}
}

func (v *View) apiIncident(inc *Incident) apiIncident {
	out := apiIncident{
		ID: inc.ID, Name: inc.Name, Status: string(inc.Status), CreatedAt: isoTime(inc.CreatedAt),
		UpdatedAt: isoTime(inc.UpdatedAt), MonitoringAt: isoPtr(inc.Monitoring), ResolvedAt: isoPtr(inc.Resolved),
		Impact: inc.Impact, Shortlink: v.incidentURL(inc), StartedAt: isoTime(inc.CreatedAt), PageID: v.pageID(),
		IncidentUpdates: []apiUpdate{}, Components: []apiComponent{},
	}
	for _, u := range inc.Updates {
		au := apiUpdate{
			ID: u.ID, Status: string(u.Status), Body: u.Body, IncidentID: inc.ID, CreatedAt: isoTime(u.At),
			UpdatedAt: isoTime(u.At), DisplayAt: isoTime(u.At), AffectedComponents: []apiAffected{}, DeliverNotifications: true,
		}
		for _, c := range u.Components {
			au.AffectedComponents = append(au.AffectedComponents, apiAffected{Code: c.ID, Name: c.Name, OldStatus: string(c.Old), NewStatus: string(c.New)})
		}
		out.IncidentUpdates = append(out.IncidentUpdates, au)
	}
	for i, c := range v.Components {
		if containsName(inc.Components, c.Name) {
			out.Components = append(out.Components, v.apiComponent(c, i+1))
		}
	}
	return out
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// incidentURL is the incident's page: absolute when the page's URL is
// configured, else relative to the page.
func (v *View) incidentURL(inc *Incident) string {
	return v.URL + "/incidents/" + inc.ID
}

func (v *View) apiIncidents(incs []*Incident) []apiIncident {
	out := []apiIncident{}
	for _, inc := range incs {
		out = append(out, v.apiIncident(inc))
	}
	return out
}

// maxAPIIncidents is how many incidents incidents.json lists, as
// Statuspage's does.
const maxAPIIncidents = 50

// JSON renders the endpoints, by path under /api/v2/.
func (v *View) JSON() (map[string][]byte, error) {
	page, status := v.apiPage(), apiStatus{v.Status.Indicator, v.Status.Description}
	incs := v.Incidents
	if len(incs) > maxAPIIncidents {
		incs = incs[:maxAPIIncidents]
	}
	docs := map[string]any{
		"summary.json": map[string]any{
			"page": page, "status": status, "components": v.apiComponents(),
			"incidents": v.apiIncidents(v.Open), "scheduled_maintenances": []any{},
		},
		"status.json":               map[string]any{"page": page, "status": status},
		"components.json":           map[string]any{"page": page, "components": v.apiComponents()},
		"incidents.json":            map[string]any{"page": page, "incidents": v.apiIncidents(incs)},
		"incidents/unresolved.json": map[string]any{"page": page, "incidents": v.apiIncidents(v.Open)},
	}
	out := map[string][]byte{}
	for name, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}
