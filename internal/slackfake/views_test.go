package slackfake

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

func ptext(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// declareModal is a modal as a bot would build it with slack-go.
func declareModal(title string) slack.ModalViewRequest {
	summary := slack.NewInputBlock("summary", ptext("Summary"), nil,
		slack.NewPlainTextInputBlockElement(ptext("What is broken?"), "value"))
	sev := slack.NewInputBlock("sev", ptext("Severity"), nil,
		slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, ptext("Pick one"), "value",
			slack.NewOptionBlockObject("1", ptext("SEV1"), nil),
			slack.NewOptionBlockObject("2", ptext("SEV2"), nil)))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           ptext(title),
		Submit:          ptext("Declare"),
		Close:           ptext("Cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{summary, sev}},
		CallbackID:      "declare",
		PrivateMetadata: `{"channel":"C1"}`,
	}
}

// invalidArgs returns the response_metadata.messages of an
// invalid_arguments error, failing the test for any other error.
func invalidArgs(t *testing.T, err error) []string {
	t.Helper()
	var e slack.SlackErrorResponse
	if !errors.As(err, &e) || e.Err != "invalid_arguments" {
		t.Fatalf("error = %#v, want invalid_arguments", err)
	}
	return e.ResponseMetadata.Messages
}

func TestOpenView(t *testing.T) {
	f := newFixture(t)
	trigger := f.s.NewTriggerIDFor(f.alice)
	resp, err := f.api.OpenView(trigger, declareModal("Declare an incident"))
	if err != nil {
		t.Fatal(err)
	}
	v := resp.View
	if !strings.HasPrefix(v.ID, "V") || v.Hash == "" || v.RootViewID != v.ID || v.PreviousViewID != "" ||
		v.Type != slack.VTModal || v.Title.Text != "Declare an incident" || v.Submit.Text != "Declare" ||
		v.CallbackID != "declare" || v.PrivateMetadata != `{"channel":"C1"}` || v.TeamID != f.s.TeamID() ||
		v.AppID != DefaultAppID || v.BotID != f.s.BotID() || len(v.Blocks.BlockSet) != 2 ||
		v.State == nil || len(v.State.Values) != 0 {
		t.Errorf("OpenView() view = %+v", v)
	}
	got, ok := f.s.View(v.ID)
	if !ok {
		t.Fatalf("View(%s) not found", v.ID)
	}
	if got.User != f.alice || got.Title != "Declare an incident" || got.Hash != v.Hash || got.Type != "modal" ||
		!strings.Contains(string(got.Blocks), `"block_id":"sev"`) || !strings.Contains(string(got.Raw), `"callback_id":"declare"`) {
		t.Errorf("View() = %+v", got)
	}
	if views := f.s.Views(); len(views) != 1 || views[0].ID != v.ID {
		t.Errorf("Views() = %+v", views)
	}

	// The response is shaped like web-api/views.open.json.
	_, body := rawCall(t, "POST", f.s.URL()+"views.open", "application/json; charset=utf-8", f.s.BotToken(),
		`{"trigger_id":"`+f.s.NewTriggerID()+`","view":{"type":"modal","title":{"type":"plain_text","text":"T"},"blocks":[]}}`)
	var raw struct {
		OK   bool                       `json:"ok"`
		View map[string]json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil || !raw.OK {
		t.Fatalf("views.open = %s", body)
	}
	for _, key := range []string{"id", "team_id", "type", "title", "submit", "close", "blocks", "private_metadata",
		"callback_id", "external_id", "state", "hash", "clear_on_close", "notify_on_close", "root_view_id",
		"previous_view_id", "app_id", "app_installed_team_id", "bot_id"} {
		if _, ok := raw.View[key]; !ok {
			t.Errorf("view has no %q: %s", key, body)
		}
	}
	if s := string(raw.View["state"]); s != `{"values":{}}` {
		t.Errorf("state = %s", s)
	}
}

func TestOpenViewTriggers(t *testing.T) {
	f := newFixture(t)
	view := declareModal("Declare")
	tests := []struct {
		name    string
		trigger func() string
		want    string
	}{
		{"fresh", f.s.NewTriggerID, ""},
		{"unknown", func() string { return "12345.98765.abcd2358fdea" }, "invalid_trigger_id"},
		{"malformed", func() string { return "nope" }, "invalid_trigger_id"},
		{"used", func() string {
			tr := f.s.NewTriggerID()
			if _, err := f.api.OpenView(tr, view); err != nil {
				t.Fatal(err)
			}
			return tr
		}, "exchanged_trigger_id"},
		{"just under 3 s", func() string {
			tr := f.s.NewTriggerID()
			f.clock.Advance(TriggerLifetime - time.Millisecond)
			return tr
		}, ""},
		{"3 s old", func() string {
			tr := f.s.NewTriggerID()
			f.clock.Advance(TriggerLifetime)
			return tr
		}, "expired_trigger_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.api.OpenView(tt.trigger(), view)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("OpenView error = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("missing trigger_id", func(t *testing.T) {
		_, body := rawCall(t, "POST", f.s.URL()+"views.open", "application/x-www-form-urlencoded", f.s.BotToken(), "view=%7B%7D")
		if want := `{"error":"invalid_arguments","ok":false,"response_metadata":{"messages":["invalid ` + "`trigger_id`" + `"]}}`; body != want {
			t.Errorf("views.open = %s, want %s", body, want)
		}
	})
	t.Run("an invalid view does not use up the trigger", func(t *testing.T) {
		tr := f.s.NewTriggerID()
		if _, err := f.api.OpenView(tr, declareModal(repeat(25))); slackErr(t, err) != "invalid_arguments" {
			t.Fatalf("OpenView error = %v, want invalid_arguments", err)
		}
		if _, err := f.api.OpenView(tr, view); err != nil {
			t.Errorf("OpenView after the invalid view: %v", err)
		}
	})
}

func TestOpenViewInvalid(t *testing.T) {
	f := newFixture(t)
	dividers := func(n int) slack.Blocks {
		var b slack.Blocks
		for range n {
			b.BlockSet = append(b.BlockSet, slack.NewDividerBlock())
		}
		return b
	}
	tests := []struct {
		name string
		edit func(v *slack.ModalViewRequest)
		want []string
	}{
		{"title 25 characters", func(v *slack.ModalViewRequest) { v.Title = ptext(repeat(25)) },
			[]string{"[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"}},
		{"submit 25 characters", func(v *slack.ModalViewRequest) { v.Submit = ptext(repeat(25)) },
			[]string{"[ERROR] must be less than 25 characters [json-pointer:/view/submit/text]"}},
		{"close 25 characters", func(v *slack.ModalViewRequest) { v.Close = ptext(repeat(25)) },
			[]string{"[ERROR] must be less than 25 characters [json-pointer:/view/close/text]"}},
		{"101 blocks", func(v *slack.ModalViewRequest) { v.Blocks = dividers(101) },
			[]string{"[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"}},
		{"private_metadata 3001 characters", func(v *slack.ModalViewRequest) { v.PrivateMetadata = repeat(3001) },
			[]string{"[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"}},
		{"callback_id 256 characters", func(v *slack.ModalViewRequest) { v.CallbackID = repeat(256) },
			[]string{"[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]"}},
		{"input without submit", func(v *slack.ModalViewRequest) { v.Submit = nil },
			[]string{"[ERROR] missing required field: submit [json-pointer:/view]"}},
		{"home tab", func(v *slack.ModalViewRequest) { v.Type = slack.VTHomeTab },
			[]string{"[ERROR] unsupported type: home [json-pointer:/view/type]"}},
		{"bad element", func(v *slack.ModalViewRequest) {
			v.Blocks = slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("b", ptext("L"), nil,
				slack.NewCheckboxGroupsBlockElement("c"))}}
		}, []string{"[ERROR] missing required field: options [json-pointer:/view/blocks/0/element]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := declareModal("Declare")
			tt.edit(&v)
			_, err := f.api.OpenView(f.s.NewTriggerID(), v)
			if diff := cmp.Diff(tt.want, invalidArgs(t, err)); diff != "" {
				t.Errorf("messages mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("empty view gives Slack's schema answer", func(t *testing.T) {
		_, body := rawCall(t, "POST", f.s.URL()+"views.open", "application/json; charset=utf-8", f.s.BotToken(),
			`{"trigger_id":"`+f.s.NewTriggerID()+`","view":{}}`)
		want := `{"error":"invalid_arguments","ok":false,"response_metadata":{"messages":[` +
			`"[ERROR] missing required field: title [json-pointer:/view]",` +
			`"[ERROR] missing required field: blocks [json-pointer:/view]",` +
			`"[ERROR] missing required field: type [json-pointer:/view]"]}}`
		if body != want {
			t.Errorf("views.open = %s\nwant %s", body, want)
		}
	})
	t.Run("view as a form field", func(t *testing.T) {
		form := "trigger_id=" + f.s.NewTriggerID() + "&view=" +
			`%7B%22type%22%3A%22modal%22%2C%22title%22%3A%7B%22type%22%3A%22plain_text%22%2C%22text%22%3A%22T%22%7D%2C%22blocks%22%3A%5B%5D%7D`
		if _, body := rawCall(t, "POST", f.s.URL()+"views.open", "application/x-www-form-urlencoded", f.s.BotToken(), form); !strings.Contains(body, `"ok":true`) {
			t.Errorf("views.open = %s", body)
		}
	})
	t.Run("view too large", func(t *testing.T) {
		v := declareModal("Declare")
		v.PrivateMetadata = repeat(300 * 1024)
		_, err := f.api.OpenView(f.s.NewTriggerID(), v)
		if got := slackErr(t, err); got != "view_too_large" {
			t.Errorf("error = %q, want view_too_large", got)
		}
	})
	if n := len(f.s.Views()); n != 1 {
		t.Errorf("%d views open, want only the form-field one", n)
	}
}

func TestUpdateView(t *testing.T) {
	f := newFixture(t)
	v := declareModal("Declare")
	v.ExternalID = "declare-1"
	opened, err := f.api.OpenView(f.s.NewTriggerIDFor(f.alice), v)
	if err != nil {
		t.Fatal(err)
	}
	id, hash := opened.View.ID, opened.View.Hash

	updated, err := f.api.UpdateView(declareModal("Step 2"), "", hash, id)
	if err != nil {
		t.Fatal(err)
	}
	if updated.View.ID != id || updated.View.Hash == hash || updated.View.Title.Text != "Step 2" || updated.View.ExternalID != "declare-1" {
		t.Errorf("UpdateView() = %+v", updated.View)
	}
	if got, _ := f.s.View(id); got.Title != "Step 2" || got.Hash != updated.View.Hash || got.User != f.alice {
		t.Errorf("View() after update = %+v", got)
	}

	byExternal, err := f.api.UpdateView(declareModal("Step 3"), "declare-1", "", "")
	if err != nil || byExternal.View.ID != id {
		t.Fatalf("UpdateView(external_id) = %+v, %v", byExternal, err)
	}

	other := declareModal("Other")
	other.ExternalID = "other"
	if _, err := f.api.OpenView(f.s.NewTriggerIDFor(f.bob), other); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                     string
		view                     slack.ModalViewRequest
		externalID, hash, viewID string
		want                     string
	}{
		{"stale hash", declareModal("X"), "", hash, id, "hash_conflict"},
		{"unknown view_id", declareModal("X"), "", "", "V0NOPE", "not_found"},
		{"unknown external_id", declareModal("X"), "nope", "", "", "not_found"},
		{"external_id taken", func() slack.ModalViewRequest { v := declareModal("X"); v.ExternalID = "other"; return v }(), "", "", id, "duplicate_external_id"},
		{"invalid view", declareModal(repeat(25)), "", "", id, "invalid_arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.api.UpdateView(tt.view, tt.externalID, tt.hash, tt.viewID)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("UpdateView error = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("duplicate external_id on open", func(t *testing.T) {
		_, err := f.api.OpenView(f.s.NewTriggerID(), other)
		if got := slackErr(t, err); got != "duplicate_external_id" {
			t.Errorf("OpenView error = %q, want duplicate_external_id", got)
		}
	})
	t.Run("neither view_id nor external_id", func(t *testing.T) {
		_, body := rawCall(t, "POST", f.s.URL()+"views.update", "application/json; charset=utf-8", f.s.BotToken(), `{"view":{}}`)
		if !strings.Contains(body, `"error":"invalid_arguments"`) {
			t.Errorf("views.update = %s", body)
		}
	})
}

func TestPushView(t *testing.T) {
	f := newFixture(t)
	root, err := f.api.OpenView(f.s.NewTriggerIDFor(f.alice), declareModal("Root"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.api.PushView(f.s.NewTriggerIDFor(f.alice), declareModal("Second"))
	if err != nil {
		t.Fatal(err)
	}
	third, err := f.api.PushView(f.s.NewTriggerIDFor(f.alice), declareModal("Third"))
	if err != nil {
		t.Fatal(err)
	}
	if second.View.RootViewID != root.View.ID || second.View.PreviousViewID != root.View.ID ||
		third.View.RootViewID != root.View.ID || third.View.PreviousViewID != second.View.ID {
		t.Errorf("stack: root %s, second %+v, third %+v", root.View.ID, second.View, third.View)
	}
	var titles []string
	for _, v := range f.s.Views() {
		titles = append(titles, v.Title)
	}
	if diff := cmp.Diff([]string{"Root", "Second", "Third"}, titles); diff != "" {
		t.Errorf("Views() mismatch (-want +got):\n%s", diff)
	}
	if _, err := f.api.PushView(f.s.NewTriggerIDFor(f.alice), declareModal("Fourth")); slackErr(t, err) != "push_limit_reached" {
		t.Errorf("fourth push: error %v, want push_limit_reached", err)
	}
	if _, err := f.api.PushView(f.s.NewTriggerIDFor(f.bob), declareModal("Lonely")); slackErr(t, err) != "not_found" {
		t.Errorf("push without an open modal: error %v, want not_found", err)
	}
	tr := f.s.NewTriggerIDFor(f.alice)
	f.clock.Advance(TriggerLifetime)
	if _, err := f.api.PushView(tr, declareModal("Late")); slackErr(t, err) != "expired_trigger_id" {
		t.Errorf("late push: error %v, want expired_trigger_id", err)
	}

	// A new modal starts a new stack, which later pushes go onto.
	fresh, err := f.api.OpenView(f.s.NewTriggerIDFor(f.alice), declareModal("Fresh"))
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := f.api.PushView(f.s.NewTriggerIDFor(f.alice), declareModal("On fresh"))
	if err != nil || pushed.View.RootViewID != fresh.View.ID || pushed.View.PreviousViewID != fresh.View.ID {
		t.Fatalf("push onto the new stack = %+v, %v", pushed, err)
	}

	// Closing a pushed view closes it and what is above it.
	if !f.s.CloseView(second.View.ID) {
		t.Fatal("CloseView(second) = false")
	}
	titles = nil
	for _, v := range f.s.Views() {
		titles = append(titles, v.Title)
	}
	if diff := cmp.Diff([]string{"Root", "Fresh", "On fresh"}, titles); diff != "" {
		t.Errorf("Views() after CloseView mismatch (-want +got):\n%s", diff)
	}
	if _, ok := f.s.View(third.View.ID); ok {
		t.Error("the view above the closed one is still open")
	}
	if _, err := f.api.UpdateView(declareModal("X"), "", "", second.View.ID); slackErr(t, err) != "not_found" {
		t.Errorf("update of a closed modal: error %v, want not_found", err)
	}
	if !f.s.CloseView(fresh.View.ID) || f.s.CloseView(fresh.View.ID) {
		t.Error("CloseView(fresh) twice did not answer true then false")
	}
	if views := f.s.Views(); len(views) != 1 || views[0].ID != root.View.ID {
		t.Errorf("Views() after closing the fresh stack = %+v", views)
	}
}

func TestPublishView(t *testing.T) {
	f := newFixture(t)
	home := slack.HomeTabViewRequest{
		Type:       slack.VTHomeTab,
		CallbackID: "home",
		Blocks:     slack.Blocks{BlockSet: []slack.Block{slack.NewHeaderBlock(ptext("Open incidents"))}},
	}
	first, err := f.api.PublishView(f.alice, home, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.View.Type != slack.VTHomeTab || first.View.RootViewID != first.View.ID || first.View.Title != nil {
		t.Errorf("PublishView() = %+v", first.View)
	}
	got, ok := f.s.HomeView(f.alice)
	if !ok || got.ID != first.View.ID || got.User != f.alice || got.CallbackID != "home" || got.Type != "home" ||
		!strings.Contains(string(got.Blocks), "Open incidents") {
		t.Errorf("HomeView() = %+v, %v", got, ok)
	}
	if f.s.CloseView(first.View.ID) {
		t.Error("CloseView closed a home tab")
	}
	if _, ok := f.s.HomeView(f.bob); ok {
		t.Error("HomeView(bob) exists")
	}
	if len(f.s.Views()) != 0 {
		t.Error("Views() lists a home tab")
	}

	home.Blocks = slack.Blocks{BlockSet: []slack.Block{slack.NewHeaderBlock(ptext("No incidents"))}}
	second, err := f.api.PublishView(f.alice, home, first.View.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if second.View.ID != first.View.ID || second.View.Hash == first.View.Hash {
		t.Errorf("republish: id %s hash %s, first id %s hash %s", second.View.ID, second.View.Hash, first.View.ID, first.View.Hash)
	}
	if got, _ := f.s.View(first.View.ID); !strings.Contains(string(got.Blocks), "No incidents") {
		t.Errorf("View() after republish = %+v", got)
	}

	tests := []struct {
		name, user, hash string
		view             slack.HomeTabViewRequest
		want             string
	}{
		{"stale hash", f.alice, first.View.Hash, home, "hash_conflict"},
		{"unknown user", "U0GHOST", "", home, "invalid_arguments"},
		{"modal type", f.bob, "", slack.HomeTabViewRequest{Type: slack.VTModal, Blocks: home.Blocks}, "invalid_arguments"},
		{"101 blocks", f.bob, "", func() slack.HomeTabViewRequest {
			v := home
			v.Blocks = slack.Blocks{}
			for range 101 {
				v.Blocks.BlockSet = append(v.Blocks.BlockSet, slack.NewDividerBlock())
			}
			return v
		}(), "invalid_arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.api.PublishView(tt.user, tt.view, tt.hash)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("PublishView error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestViewAccessorsReturnCopies(t *testing.T) {
	f := newFixture(t)
	resp, err := f.api.OpenView(f.s.NewTriggerID(), declareModal("Declare"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := f.s.View(resp.View.ID)
	v.Blocks[0], v.Raw[0] = 'X', 'X'
	if got, _ := f.s.View(resp.View.ID); got.Blocks[0] != '[' || got.Raw[0] != '{' {
		t.Error("View() shares its Blocks or Raw")
	}
	f.s.Views()[0].Blocks[0] = 'X'
	if got := f.s.Views()[0]; got.Blocks[0] != '[' {
		t.Error("Views() shares its Blocks")
	}
}
