// Package statuspage mirrors what is published from Sitrep to an
// Atlassian Statuspage page, through the delivery engine (notify): one
// Statuspage incident per Sitrep incident, created once (its ID kept in the
// delivery before anything else happens), then one PATCH per published
// update, each with the components' statuses.
//
// Statuspage's rules (testdata/shared/integrations/statuspage/api.md): the
// key goes in "Authorization: OAuth <key>"; 1 request per second per
// token, and 420 or 429 when exceeded; a component's status is set by its
// ID, in a map, and never resets by itself; metadata values must be
// objects.
package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/notify"
)

// Name is the integration's name in the store, logs and metrics.
const Name = "statuspage"

// Config is how to reach the page.
type Config struct {
	APIKey string
	PageID string
	APIURL string // ending in "/"; https://api.statuspage.io/v1/ for the real one
	// Tell shows a refusal to the people on the incident (its channel):
	// once per new problem. nil tells nobody.
	Tell func(ctx context.Context, inc *incident.Incident, text string)
}

// Mirror is the integration.
type Mirror struct {
	cfg    Config
	client *http.Client
	pace   *notify.Pacer

	mu         sync.Mutex
	components map[string]string // component name → Statuspage ID
}

// New returns the mirror. client may be nil for a default with a timeout.
func New(cfg Config, client *http.Client, clk clock.Clock) *Mirror {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	// One request a second per token: calls wait their turn rather than
	// draw 429s.
	pace := notify.NewPacer(clk, func(string) notify.Limit { return notify.Limit{Every: time.Second, Burst: 1} })
	return &Mirror{cfg: cfg, client: client, pace: pace}
}

// Name implements notify.Integration.
func (m *Mirror) Name() string { return Name }

// state is the mirror's progress with one incident.
type state struct {
	// IncidentID is Statuspage's ID of the mirrored incident.
	IncidentID string `json:"incident_id,omitempty"`
	// Sent counts the published updates mirrored.
	Sent int `json:"sent"`
	// Creating is set, and saved, before the create is sent: a pass that
	// finds it set without an IncidentID looks for the incident its
	// predecessor may have created before creating one.
	Creating bool `json:"creating,omitempty"`
	// Patching is the update (1-based) being sent as a PATCH: a pass that
	// finds it set checks whether Statuspage has it already.
	Patching int `json:"patching,omitempty"`
}

// Deliver implements notify.Integration: it sends the published updates
// Statuspage has not had, in order.
func (m *Mirror) Deliver(ctx context.Context, inc *incident.Incident, _ []incident.Event, d *incident.Delivery, save func() error) error {
	if inc.Private || inc.Drill {
		return nil // never public, whatever is recorded
	}
	var st state
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, &st); err != nil {
			return fmt.Errorf("statuspage: read saved progress: %w", err)
		}
	}
	keep := func() error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		d.State = b
		if st.IncidentID != "" {
			d.Refs = []string{st.IncidentID}
		}
		return save()
	}
	updates := inc.Public.Updates
	for st.Sent < len(updates) {
		u := updates[st.Sent]
		body, err := m.incidentBody(ctx, inc, u)
		if err != nil {
			return err
		}
		if st.IncidentID == "" && st.Creating {
			// A create may have gone through before a crash: find it.
			id, err := m.findCreated(ctx, inc.ID)
			if err != nil {
				return err
			}
			if id != "" {
				st.IncidentID, st.Creating, st.Sent = id, false, st.Sent+1
				if err := keep(); err != nil {
					return err
				}
				continue
			}
		}
		if st.IncidentID == "" {
			st.Creating = true
			if err := keep(); err != nil {
				return err
			}
			body["metadata"] = map[string]any{"sitrep": map[string]any{"incident_id": inc.ID}}
			var created struct {
				ID string `json:"id"`
			}
			if err := m.call(ctx, http.MethodPost, "pages/"+m.cfg.PageID+"/incidents", map[string]any{"incident": body}, &created); err != nil {
				return err
			}
			if created.ID == "" {
				return &apiError{Status: http.StatusBadGateway, Message: "the created incident has no id"}
			}
			st.IncidentID, st.Creating, st.Sent = created.ID, false, st.Sent+1
			if err := keep(); err != nil {
				return err
			}
			continue
		}
		if st.Patching == st.Sent+1 {
			// This PATCH may have gone through before a crash.
			done, err := m.hasUpdate(ctx, st.IncidentID, u.Message)
			if err != nil {
				return err
			}
			if done {
				st.Patching, st.Sent = 0, st.Sent+1
				if err := keep(); err != nil {
					return err
				}
				continue
			}
		}
		st.Patching = st.Sent + 1
		if err := keep(); err != nil {
			return err
		}
		if err := m.call(ctx, http.MethodPatch, "pages/"+m.cfg.PageID+"/incidents/"+st.IncidentID, map[string]any{"incident": body}, nil); err != nil {
			return err
		}
		st.Patching, st.Sent = 0, st.Sent+1
		if err := keep(); err != nil {
			return err
		}
	}
	return nil
}

// incidentBody is one update as Statuspage's create and update take it.
func (m *Mirror) incidentBody(ctx context.Context, inc *incident.Incident, u incident.PublicUpdate) (map[string]any, error) {
	body := map[string]any{"name": truncate(u.Title, 255), "status": string(u.Status), "body": u.Message, "deliver_notifications": true}
	if u.Status == incident.PublicResolved {
		// Statuspage's component statuses never reset themselves: the
		// resolution sets every component the incident named back.
		for _, earlier := range inc.Public.Updates {
			for _, c := range earlier.Components {
				if componentStatus(u, c.Name) == "" {
					u.Components = append(u.Components, incident.ComponentImpact{Name: c.Name, Status: incident.Operational})
				}
			}
		}
	}
	if len(u.Components) == 0 {
		return body, nil
	}
	ids, err := m.componentIDs(ctx, false)
	if err != nil {
		return nil, err
	}
	comps, list := map[string]string{}, []string{}
	var missing []string
	for _, c := range u.Components {
		id, ok := ids[c.Name]
		if !ok {
			missing = append(missing, c.Name)
			continue
		}
		comps[id] = string(c.Status)
		list = append(list, id)
	}
	if len(missing) > 0 {
		// The page may have gained it since it was read.
		if ids, err = m.componentIDs(ctx, true); err != nil {
			return nil, err
		}
		for _, name := range missing {
			id, ok := ids[name]
			if !ok {
				return nil, &apiError{Status: http.StatusUnprocessableEntity, Message: fmt.Sprintf("the Statuspage page has no component named %q; add it there, or rename it in status_page.components", name)}
			}
			comps[id] = string(incident.ComponentStatus(componentStatus(u, name)))
			list = append(list, id)
		}
	}
	body["components"], body["component_ids"] = comps, list
	return body, nil
}

func componentStatus(u incident.PublicUpdate, name string) incident.ComponentStatus {
	for _, c := range u.Components {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

// componentIDs reads the page's components, by name, once, or again when
// fresh is set.
func (m *Mirror) componentIDs(ctx context.Context, fresh bool) (map[string]string, error) {
	m.mu.Lock()
	ids := m.components
	m.mu.Unlock()
	if ids != nil && !fresh {
		return ids, nil
	}
	ids = map[string]string{}
	for page := 1; page <= 20; page++ {
		var list []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Group bool   `json:"group"`
		}
		if err := m.call(ctx, http.MethodGet, fmt.Sprintf("pages/%s/components?page=%d&per_page=100", m.cfg.PageID, page), nil, &list); err != nil {
			return nil, err
		}
		for _, c := range list {
			if !c.Group {
				ids[c.Name] = c.ID
			}
		}
		if len(list) < 100 {
			break
		}
	}
	m.mu.Lock()
	m.components = ids
	m.mu.Unlock()
	return ids, nil
}

// findCreated looks for the incident a create for Sitrep's incident made,
// by the metadata it was created with.
func (m *Mirror) findCreated(ctx context.Context, sitrepID string) (string, error) {
	var list []struct {
		ID       string `json:"id"`
		Metadata struct {
			Sitrep struct {
				IncidentID string `json:"incident_id"`
			} `json:"sitrep"`
		} `json:"metadata"`
	}
	if err := m.call(ctx, http.MethodGet, "pages/"+m.cfg.PageID+"/incidents?per_page=100", nil, &list); err != nil {
		return "", err
	}
	for _, i := range list {
		if i.Metadata.Sitrep.IncidentID == sitrepID {
			return i.ID, nil
		}
	}
	return "", nil
}

// hasUpdate reports whether the Statuspage incident's latest update says
// message.
func (m *Mirror) hasUpdate(ctx context.Context, id, message string) (bool, error) {
	var inc struct {
		Updates []struct {
			Body string `json:"body"`
		} `json:"incident_updates"`
	}
	if err := m.call(ctx, http.MethodGet, "pages/"+m.cfg.PageID+"/incidents/"+id, nil, &inc); err != nil {
		return false, err
	}
	// incident_updates are newest first.
	return len(inc.Updates) > 0 && inc.Updates[0].Body == message, nil
}

// apiError is an answer other than 2xx.
type apiError struct {
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *apiError) Error() string {
	return fmt.Sprintf("statuspage: HTTP %d: %s", e.Status, e.Message)
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 4 << 20

// call makes one API call, waiting its turn, and decodes the answer into
// out when it is not nil.
func (m *Mirror) call(ctx context.Context, method, path string, in, out any) error {
	if err := m.pace.Wait(ctx, "api"); err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.cfg.APIURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "OAuth "+m.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.client.Do(req)
	if err != nil {
		// The error names the URL, never the key, which is in a header.
		return fmt.Errorf("statuspage: %s %s: %w", method, strings.SplitN(path, "?", 2)[0], err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("statuspage: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{Status: resp.StatusCode, Message: errorMessage(data)}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		if limited(resp.StatusCode) {
			wait := e.RetryAfter
			if wait == 0 {
				wait = 5 * time.Second
			}
			m.pace.Hold("api", wait)
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("statuspage: %s %s: unreadable answer: %w", method, strings.SplitN(path, "?", 2)[0], err)
		}
	}
	return nil
}

// errorMessage is what Statuspage said was wrong: {"error": "..."} or
// {"error": ["...", "..."]}, else the start of the body.
func errorMessage(data []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && len(e.Error) > 0 {
		var s string
		if json.Unmarshal(e.Error, &s) == nil {
			return truncate(s, 300)
		}
		var list []string
		if json.Unmarshal(e.Error, &list) == nil {
			return truncate(strings.Join(list, "; "), 300)
		}
	}
	return truncate(strings.TrimSpace(string(data)), 300)
}

// limited reports Statuspage's rate-limit answers: 420 and 429 both.
func limited(status int) bool { return status == 420 || status == http.StatusTooManyRequests }

// Classify implements notify.Integration: rate limits are waited out, 5xx
// and network trouble retried, and other 4xx need a person.
func (m *Mirror) Classify(err error) notify.Failure {
	var e *apiError
	if !errors.As(err, &e) {
		return notify.Failure{}
	}
	switch {
	case limited(e.Status):
		wait := e.RetryAfter
		if wait == 0 {
			wait = 5 * time.Second
		}
		return notify.Failure{Wait: wait}
	case e.Status >= 500:
		return notify.Failure{}
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return notify.Failure{Final: true, Problem: fmt.Sprintf("Atlassian Statuspage refused the key (HTTP %d: %s): set STATUSPAGE_API_KEY to a key of a user with the page's incident manager role", e.Status, e.Message)}
	case e.Status == http.StatusNotFound:
		return notify.Failure{Final: true, Problem: fmt.Sprintf("Atlassian Statuspage has no such page or incident (HTTP 404: %s): check STATUSPAGE_PAGE_ID", e.Message)}
	}
	return notify.Failure{Final: true, Problem: fmt.Sprintf("Atlassian Statuspage refused the update (HTTP %d: %s)", e.Status, e.Message)}
}

// ShowProblem implements notify.ProblemShower: a new refusal is told to
// the incident's people once.
func (m *Mirror) ShowProblem(ctx context.Context, inc *incident.Incident, d incident.Delivery) {
	if d.Problem == "" || m.cfg.Tell == nil {
		return
	}
	m.cfg.Tell(ctx, inc, ":warning: The public update is on Sitrep's status page, but mirroring it to Atlassian Statuspage failed: "+d.Problem+". Sitrep tries again every 10 minutes and with every change.")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
