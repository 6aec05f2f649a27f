package incident_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
)

// steering are the changes ChangesBy governs, each done by actor on
// incident 1 (declared sev1 by U1).
func steering(ctx context.Context, svc *incident.Service, actor string) []struct {
	name string
	do   func() error
} {
	do := func(f func() (*incident.Incident, error)) func() error {
		return func() error { _, err := f(); return err }
	}
	return []struct {
		name string
		do   func() error
	}{
		{"severity", do(func() (*incident.Incident, error) { return svc.SetSeverity(ctx, 1, actor, "sev0") })},
		{"role", do(func() (*incident.Incident, error) { return svc.AssignRole(ctx, 1, actor, "comms", "U4") })},
		{"commander", do(func() (*incident.Incident, error) { return svc.AssignRole(ctx, 1, actor, "lead", "U5") })},
		{"resolve", do(func() (*incident.Incident, error) { return svc.Resolve(ctx, 1, actor, "fixed") })},
		{"reopen", do(func() (*incident.Incident, error) { return svc.Reopen(ctx, 1, actor, "back") })},
		{"close", do(func() (*incident.Incident, error) {
			if _, err := svc.Resolve(ctx, 1, "U1", ""); err != nil {
				return nil, err
			}
			if _, err := svc.RecordPostmortem(ctx, 1, "U1", ""); err != nil {
				return nil, err
			}
			return svc.Close(ctx, 1, actor)
		})},
	}
}

// TestOnlyTheCommanderAndAdminsSteer: with changes_by commander, anyone
// else is refused each change with a message naming who may, and nothing
// is recorded; the commander and an admin may; by default anyone may.
func TestOnlyTheCommanderAndAdminsSteer(t *testing.T) {
	ctx := context.Background()
	strict := incident.DefaultConfig()
	strict.ChangesBy = incident.ChangesByCommander
	strict.Admins = []string{"U9", "U8"}
	for _, tc := range []struct {
		who   string
		cfg   incident.Config
		actor string
		may   bool
	}{
		{"someone else, strict", strict, "U2", false},
		{"the commander, strict", strict, "U1", true},
		{"an admin, strict", strict, "U8", true},
		{"someone else, by default", incident.DefaultConfig(), "U2", true},
	} {
		for i := range steering(ctx, nil, "") {
			svc, _, _ := newServiceWith(t, tc.cfg)
			declare(t, svc, "Checkout failing")
			if i == 4 { // reopen needs a resolved incident
				if _, err := svc.Resolve(ctx, 1, "U1", ""); err != nil {
					t.Fatal(err)
				}
			}
			step := steering(ctx, svc, tc.actor)[i]
			_, before, _ := svc.Timeline(ctx, 1)
			err := step.do()
			_, after, _ := svc.Timeline(ctx, 1)
			if tc.may {
				if err != nil {
					t.Errorf("%s: %s refused: %v", tc.who, step.name, err)
				}
				continue
			}
			if incident.ErrorCode(err) != incident.EFORBIDDEN {
				t.Errorf("%s: %s = %v, want a refusal", tc.who, step.name, err)
				continue
			}
			msg := incident.ErrorMessage(err)
			for _, want := range []string{"Only its commander (U1) or an admin (U9, U8) may", "incident #1", "`lead @you`"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: %s refused with %q, which does not say %q", tc.who, step.name, msg, want)
				}
			}
			// The close step resolves and records a postmortem first as
			// the commander: only the refused close itself must be absent.
			if extra := 0; step.name == "close" {
				extra = 2
				if len(after) != len(before)+extra {
					t.Errorf("%s: refused close recorded %d events", tc.who, len(after)-len(before)-extra)
				}
			} else if len(after) != len(before) {
				t.Errorf("%s: refused %s recorded %d events", tc.who, step.name, len(after)-len(before))
			}
		}
	}
}

// TestRefusalStatesFacts: a refusal carries who may act and what would
// help as facts, for each surface to word; its message names neither a
// Slack mention nor a slash command.
func TestRefusalStatesFacts(t *testing.T) {
	cfg := incident.DefaultConfig()
	cfg.ChangesBy = incident.ChangesByCommander
	for i := range 7 {
		cfg.Admins = append(cfg.Admins, fmt.Sprintf("UA%d", i))
	}
	svc, _, _ := newServiceWith(t, cfg)
	declare(t, svc, "Checkout failing")
	_, err := svc.SetSeverity(context.Background(), 1, "U2", "sev0")
	var e *incident.Error
	if !errors.As(err, &e) {
		t.Fatalf("refusal = %v", err)
	}
	if !slices.Equal(e.People["commander"], []string{"U1"}) || !slices.Equal(e.People["admins"], cfg.Admins) || e.Hint != "lead @you" {
		t.Errorf("refusal names %v and hints %q; want commander U1, the admins, and \"lead @you\"", e.People, e.Hint)
	}
	if strings.ContainsAny(e.Message, "<`") {
		t.Errorf("the message %q carries chat markup", e.Message)
	}
}

func TestChangesByMustBeKnown(t *testing.T) {
	cfg := incident.DefaultConfig()
	cfg.ChangesBy = "admins"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `changes_by "admins"`) {
		t.Errorf("Validate = %v", err)
	}
}
