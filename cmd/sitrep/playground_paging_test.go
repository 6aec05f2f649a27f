package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep-dev/sitrep/oncall"
)

// pgDMs is the direct-message list of /api/state.
type pgDMs struct {
	DMs []struct {
		ID, Name string
		DM       bool
	} `json:"dms"`
}

// dmOf returns the ID of user's direct message with Sitrep as the page's
// sidebar lists it, or "".
func (r *playgroundRun) dmOf(user string) string {
	r.t.Helper()
	var st pgDMs
	if err := json.Unmarshal(r.rawState(user, ""), &st); err != nil {
		r.t.Fatal(err)
	}
	for _, d := range st.DMs {
		if d.DM && d.Name == "Sitrep" {
			return d.ID
		}
	}
	return ""
}

// playgroundOnCall is whom the playground's own schedule puts on call at
// t, read from the config file the playground writes.
func playgroundOnCall(t *testing.T, at time.Time) string {
	t.Helper()
	var f struct {
		OnCall oncall.Config `yaml:"oncall"`
	}
	if err := yaml.Unmarshal([]byte(playgroundAlertConfig("C0TRIAGE")), &f); err != nil {
		t.Fatal(err)
	}
	plan, err := f.OnCall.Compile([]string{"sev1", "sev2", "sev3"})
	if err != nil {
		t.Fatalf("the playground's oncall section: %v", err)
	}
	return plan.Schedule("demo").At(at, nil).User
}

// pageButton finds the Acknowledge button in a message's blocks, as the
// page renders it: its block's ID and the button's value.
func pageButton(blocks json.RawMessage) (blockID, value string, ok bool) {
	var bs []struct {
		BlockID  string `json:"block_id"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	json.Unmarshal(blocks, &bs)
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID == "page_ack" {
				return b.BlockID, e.Value, true
			}
		}
	}
	return "", "", false
}

// TestPlaygroundPaging declares a sev1 in the playground as Alice: the
// playground's schedule has someone on call, whose sidebar then lists a
// direct message with Sitrep holding the page and its Acknowledge button;
// switching to them and pressing it goes through Sitrep's interaction
// endpoint and records the acknowledgement in the incident's channel and
// on the page's message. Nobody else was paged yet: the backup's step is a
// minute away.
func TestPlaygroundPaging(t *testing.T) {
	pg := startPlayground(t)
	const alice = "U0ALICE"
	before := time.Now()
	if d := pg.dmOf(alice); d != "" {
		t.Fatalf("alice has a DM before anything happened: %s", d)
	}
	general := pg.state(alice, "").channelID("general")
	pg.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident declare sev1 Checkout failing"})
	var inc string
	eventually(t, "the incident channel", func() bool { inc = pg.state(alice, "").channelID("inc-1-checkout-failing"); return inc != "" })

	// Whoever the schedule has on call (a handoff may fall during the
	// test) gets the page.
	want := []string{playgroundOnCall(t, before), playgroundOnCall(t, time.Now())}
	var oncallUser, dm string
	eventually(t, "the page in the on-call person's DMs", func() bool {
		for _, u := range want {
			if d := pg.dmOf(u); d != "" {
				oncallUser, dm = u, d
				return true
			}
		}
		return false
	}, func() string { return pg.out.String() })
	var page pgMessage
	eventually(t, "the page with its Acknowledge button", func() bool {
		for _, m := range pg.state(oncallUser, dm).Channel.Messages {
			if _, _, ok := pageButton(m.Blocks); ok && m.Bot && strings.Contains(string(m.Blocks), "Checkout failing") {
				page = m
				return true
			}
		}
		return false
	})
	for _, u := range []string{"U0BOB", "U0CAROL", "U0DAN", alice} {
		if u != oncallUser && pg.dmOf(u) != "" && !slices.Contains(want, u) {
			t.Errorf("%s was paged too, before the backup's step", u)
		}
	}
	// The DM is the on-call person's only: nobody else can open it.
	if st := pg.state(alice, dm); st.Channel != nil && alice != oncallUser {
		t.Errorf("alice sees %s's DM", oncallUser)
	}

	blockID, value, _ := pageButton(page.Blocks)
	pg.mustPost("/api/action", map[string]any{"user": oncallUser, "channel": dm, "message_ts": page.TS,
		"block_id": blockID, "action_id": "page_ack", "type": "button", "value": value})
	eventually(t, "the acknowledgement in the incident's channel", func() bool {
		for _, m := range pg.state(alice, inc).Channel.Messages {
			if strings.Contains(m.Text, "Page acknowledged by <@"+oncallUser+">") {
				return true
			}
		}
		return false
	}, func() string { b, _ := json.Marshal(pg.state(alice, inc).Channel.Messages); return string(b) })
	eventually(t, "the page's DM marked acknowledged, its button gone", func() bool {
		for _, m := range pg.state(oncallUser, dm).Channel.Messages {
			if m.TS == page.TS {
				_, _, still := pageButton(m.Blocks)
				return strings.Contains(m.Text, "You acknowledged the page") && !still
			}
		}
		return false
	})

	// The composer in the DM suggests /incident oncall: it answers there,
	// naming the playground's schedule and its backup.
	pg.mustPost("/api/send", map[string]any{"user": oncallUser, "channel": dm, "text": "/incident oncall"})
	eventually(t, "/incident oncall answered in the DM", func() bool {
		for _, m := range pg.state(oncallUser, dm).Channel.Messages {
			if m.Ephemeral && strings.Contains(string(m.Blocks)+m.Text, "demo") && strings.Contains(string(m.Blocks)+m.Text, "<@"+oncallUser+">") {
				return true
			}
		}
		return false
	}, func() string { b, _ := json.Marshal(pg.state(oncallUser, dm).Channel.Messages); return string(b) })
}

// TestPlaygroundPageSurvivesARestart pages the on-call person in a
// playground kept with -db, stops it before they answer and starts it
// again: their DM is still in the sidebar under the same ID with the page
// and its button, and acknowledging it then works.
func TestPlaygroundPageSurvivesARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "paging.db")
	const alice = "U0ALICE"
	before := time.Now()
	first := startPlayground(t, "-db", db)
	general := first.state(alice, "").channelID("general")
	first.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident declare sev1 Checkout failing"})
	want := []string{playgroundOnCall(t, before), playgroundOnCall(t, time.Now())}
	var oncallUser, dm string
	var page pgMessage
	eventually(t, "the page in the on-call person's DM", func() bool {
		for _, u := range want {
			if d := first.dmOf(u); d != "" {
				for _, m := range first.state(u, d).Channel.Messages {
					if _, _, ok := pageButton(m.Blocks); ok {
						oncallUser, dm, page = u, d, m
						return true
					}
				}
			}
		}
		return false
	})
	first.stop()

	second := startPlayground(t, "-db", db)
	if got := second.dmOf(oncallUser); got != dm {
		t.Fatalf("after the restart %s's DM is %q, want %q", oncallUser, got, dm)
	}
	blockID, value, ok := "", "", false
	for _, m := range second.state(oncallUser, dm).Channel.Messages {
		if m.TS == page.TS {
			blockID, value, ok = pageButton(m.Blocks)
		}
	}
	if !ok {
		t.Fatalf("after the restart the page in %s's DM has no Acknowledge button", oncallUser)
	}
	second.mustPost("/api/action", map[string]any{"user": oncallUser, "channel": dm, "message_ts": page.TS,
		"block_id": blockID, "action_id": "page_ack", "type": "button", "value": value})
	eventually(t, "the page acknowledged after the restart", func() bool {
		for _, m := range second.state(oncallUser, dm).Channel.Messages {
			if m.TS == page.TS {
				return strings.Contains(m.Text, "You acknowledged the page")
			}
		}
		return false
	}, func() string { return second.out.String() })
}
