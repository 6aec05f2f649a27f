package incident

import (
	"context"
	"time"
)

// Delivery is one integration's progress with one incident: Slack showing
// it in a channel, a pager or a status page being told of it. It lives
// beside the incident, not in it, so that a new integration adds rows, not
// fields, and so that no integration's progress is ever a change of the
// incident itself.
//
// The domain reads only Cursor and Version, to know whether the
// integration is behind; State is the integration's own (JSON), which
// neither the domain nor the Store interprets.
type Delivery struct {
	Integration string // "slack", "pagerduty", ...
	IncidentID  string
	// Cursor is the Seq of the last timeline event the integration has
	// finished with; Version the Incident.Version it last finished
	// showing. An integration is behind while the incident has events
	// after Cursor or a Version after Version.
	Cursor  int64
	Version int64
	// Problem is the last failure that needs a person to fix something
	// (a missing scope, a deleted channel), worded for people; "" when
	// there is none.
	Problem string
	// Refs are the integration's names for the incident (a Slack channel
	// ID, an external incident ID). ByRef finds the incident from any of
	// them; each names at most one incident per integration.
	Refs []string
	// State is the integration's own record of what it has done, so that
	// its work resumes after a restart without repeating itself.
	State []byte
}

// Pending says how far behind an integration is: how many incidents have
// changes it has not delivered, and when the oldest of those changes was
// recorded (zero when none is waiting).
type Pending struct {
	Incidents int
	Oldest    time.Time
}

// DeliveryStore holds integrations' progress with incidents.
type DeliveryStore interface {
	// Delivery returns integration's progress with the incident: what
	// SaveDelivery last stored, or a Delivery with only Integration and
	// IncidentID set when nothing has been.
	Delivery(ctx context.Context, integration, incidentID string) (Delivery, error)
	// Deliveries returns integration's progress with each of the
	// incidents that has any, by incident ID.
	Deliveries(ctx context.Context, integration string, incidentIDs []string) (map[string]Delivery, error)
	// SaveDelivery stores d, replacing what was stored for its
	// integration and incident, refs included. It returns ENOTFOUND if
	// the incident does not exist, and ECONFLICT with Field "ref" if one
	// of d.Refs already names another incident for the integration (in
	// which case nothing is stored).
	SaveDelivery(ctx context.Context, d Delivery) error
	// ByRef returns the incident that ref names for integration, or an
	// ENOTFOUND error.
	ByRef(ctx context.Context, integration, ref string) (*Incident, error)
	// Behind returns the numbers of the incidents integration has not
	// caught up with (events after its Cursor, or a Version after its
	// Version, counting an incident it has never saved progress for),
	// oldest first.
	Behind(ctx context.Context, integration string) ([]int64, error)
	// Pending counts what Behind returns, with the time the oldest change
	// not delivered was recorded.
	Pending(ctx context.Context, integration string) (Pending, error)
}

// Delivery returns integration's progress with the incident.
func (s *Service) Delivery(ctx context.Context, integration, incidentID string) (Delivery, error) {
	return s.store.Delivery(ctx, integration, incidentID)
}

// Deliveries returns integration's progress with each of the incidents.
func (s *Service) Deliveries(ctx context.Context, integration string, incidents []*Incident) (map[string]Delivery, error) {
	ids := make([]string, len(incidents))
	for i, inc := range incidents {
		ids[i] = inc.ID
	}
	return s.store.Deliveries(ctx, integration, ids)
}

// SaveDelivery records an integration's progress with an incident.
func (s *Service) SaveDelivery(ctx context.Context, d Delivery) error {
	return s.store.SaveDelivery(ctx, d)
}

// ByRef returns the incident that ref (a channel ID, an external ID) names
// for integration.
func (s *Service) ByRef(ctx context.Context, integration, ref string) (*Incident, error) {
	if ref == "" {
		return nil, Errorf(ENOTFOUND, "No incident has an empty reference.")
	}
	return s.store.ByRef(ctx, integration, ref)
}

// Behind returns the incidents integration has not caught up with.
func (s *Service) Behind(ctx context.Context, integration string) ([]int64, error) {
	return s.store.Behind(ctx, integration)
}

// Pending says how far behind integration is.
func (s *Service) Pending(ctx context.Context, integration string) (Pending, error) {
	return s.store.Pending(ctx, integration)
}
