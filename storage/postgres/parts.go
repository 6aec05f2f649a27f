package postgres

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/sitrep-dev/sitrep/incident"
)

// An incident's parts are the rows it owns in other tables: roles,
// checklist items and follow-ups. Update writes only the rows that changed,
// so that a note costs one event row, not a rewrite of every part.

// parts copies the parts of inc, to compare with after a change.
func parts(inc *incident.Incident) *incident.Incident {
	return &incident.Incident{
		Roles:     maps.Clone(inc.Roles),
		Checklist: slices.Clone(inc.Checklist),
		FollowUps: slices.Clone(inc.FollowUps),
	}
}

// queueParts queues the statements that store the parts of after that
// differ from before. The domain only adds and answers parts: a change that
// removes or reorders them is a bug, refused before anything of it is
// queued.
func queueParts(q *pipeline, incidentID string, before, after *incident.Incident) error {
	if len(after.Checklist) < len(before.Checklist) || !slices.EqualFunc(before.Checklist, after.Checklist[:min(len(before.Checklist), len(after.Checklist))], sameID) {
		return fmt.Errorf("checklist items can be added and answered, not removed or reordered")
	}
	if len(after.FollowUps) < len(before.FollowUps) {
		return fmt.Errorf("follow-ups can be added and completed, not removed")
	}
	for role := range before.Roles {
		if _, ok := after.Roles[role]; !ok {
			q.exec("delete role "+role, `DELETE FROM incident_roles WHERE incident_id = $1 AND role = $2`, incidentID, role)
		}
	}
	for role, user := range after.Roles {
		if before.Roles[role] == user {
			continue
		}
		q.exec("store role "+role, `INSERT INTO incident_roles (incident_id, role, user_id) VALUES ($1, $2, $3)
			ON CONFLICT (incident_id, role) DO UPDATE SET user_id = excluded.user_id`, incidentID, role, user)
	}

	for i, it := range after.Checklist {
		if slices.Contains(before.Checklist, it) {
			continue
		}
		at, err := timeArg(it.AnsweredAt)
		if err != nil {
			return fmt.Errorf("store checklist item %s: %w", it.ID, err)
		}
		q.exec("store checklist item "+it.ID, `INSERT INTO checklist_items
			(incident_id, item_id, position, kind, text, suggestion, answer, answered_by, answered_at, suggested)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (incident_id, item_id) DO UPDATE SET position = excluded.position, kind = excluded.kind,
				text = excluded.text, suggestion = excluded.suggestion, answer = excluded.answer,
				answered_by = excluded.answered_by, answered_at = excluded.answered_at, suggested = excluded.suggested`,
			incidentID, it.ID, i, string(it.Kind), it.Text, it.Suggestion, it.Answer, it.AnsweredBy, at, it.Suggested)
	}

	for i, f := range after.FollowUps {
		if i < len(before.FollowUps) && before.FollowUps[i] == f {
			continue
		}
		created, err := timeArg(f.CreatedAt)
		if err != nil {
			return fmt.Errorf("store follow-up %d: %w", f.ID, err)
		}
		done, err := timeArg(f.DoneAt)
		if err != nil {
			return fmt.Errorf("store follow-up %d: %w", f.ID, err)
		}
		q.exec(fmt.Sprintf("store follow-up %d", f.ID), `INSERT INTO follow_ups (incident_id, id, text, owner, created_by, created_at, done_by, done_at,
				export_to, issue_tracker, issue_key, issue_url)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (incident_id, id) DO UPDATE SET text = excluded.text, owner = excluded.owner,
				done_by = excluded.done_by, done_at = excluded.done_at, export_to = excluded.export_to,
				issue_tracker = excluded.issue_tracker, issue_key = excluded.issue_key, issue_url = excluded.issue_url`,
			incidentID, f.ID, f.Text, f.Owner, f.CreatedBy, created, f.DoneBy, done,
			f.ExportTo, f.Issue.Tracker, f.Issue.Key, f.Issue.URL)
	}
	return nil
}

func sameID(a, b incident.CheckItem) bool { return a.ID == b.ID }

// checkRow and followUpRow are the JSON objects selectIncident builds from
// the parts' rows, in position and ID order.
type checkRow struct {
	ID         string  `json:"id"`
	Kind       string  `json:"kind"`
	Text       string  `json:"text"`
	Suggestion string  `json:"suggestion"`
	Answer     string  `json:"answer"`
	AnsweredBy string  `json:"answered_by"`
	AnsweredAt *string `json:"answered_at"`
	Suggested  bool    `json:"suggested"`
}

type followUpRow struct {
	ID        int     `json:"id"`
	Text      string  `json:"text"`
	Owner     string  `json:"owner"`
	CreatedBy string  `json:"created_by"`
	CreatedAt *string `json:"created_at"`
	DoneBy    string  `json:"done_by"`
	DoneAt    *string `json:"done_at"`
	ExportTo  string  `json:"export_to"`
	Tracker   string  `json:"issue_tracker"`
	Key       string  `json:"issue_key"`
	URL       string  `json:"issue_url"`
}

func parseChecklist(s string) ([]incident.CheckItem, error) {
	var rows []checkRow
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil, fmt.Errorf("decode checklist: %w", err)
	}
	var items []incident.CheckItem
	for _, r := range rows {
		at, err := parseTime(r.AnsweredAt)
		if err != nil {
			return nil, fmt.Errorf("decode checklist: %w", err)
		}
		items = append(items, incident.CheckItem{ID: r.ID, Kind: incident.ItemKind(r.Kind), Text: r.Text, Suggestion: r.Suggestion,
			Answer: r.Answer, AnsweredBy: r.AnsweredBy, AnsweredAt: at, Suggested: r.Suggested})
	}
	return items, nil
}

func parseFollowUps(s string) ([]incident.FollowUp, error) {
	var rows []followUpRow
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil, fmt.Errorf("decode follow-ups: %w", err)
	}
	var out []incident.FollowUp
	for _, r := range rows {
		created, err := parseTime(r.CreatedAt)
		if err != nil {
			return nil, fmt.Errorf("decode follow-ups: %w", err)
		}
		done, err := parseTime(r.DoneAt)
		if err != nil {
			return nil, fmt.Errorf("decode follow-ups: %w", err)
		}
		out = append(out, incident.FollowUp{ID: r.ID, Text: r.Text, Owner: r.Owner, CreatedBy: r.CreatedBy, CreatedAt: created, DoneBy: r.DoneBy, DoneAt: done,
			ExportTo: r.ExportTo, Issue: incident.IssueRef{Tracker: r.Tracker, Key: r.Key, URL: r.URL}})
	}
	return out, nil
}
