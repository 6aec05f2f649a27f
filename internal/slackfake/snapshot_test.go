package slackfake

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// TestSnapshotRestore saves a workspace the bot has worked in and brings it
// back in a new fake: what people would find again in Slack is all there,
// through the API too, and what the new fake hands out never collides with
// what the old one did.
func TestSnapshotRestore(t *testing.T) {
	old, api, _ := newFake(t)
	ctx := context.Background()
	alice := old.AddUser(User{Name: "alice", RealName: "Alice Adams", TZ: "Europe/Paris"})
	general := old.AddChannel("general", false, alice)
	old.AddMessage(general, alice, "hello")

	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-db", IsPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, ch.ID, "sev1 · investigating"); err != nil {
		t.Fatal(err)
	}
	_, card, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("the card", false))
	if err != nil {
		t.Fatal(err)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.NewRefToMessage(ch.ID, card)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch.ID, card, slack.MsgOptionText("the card, updated", false)); err != nil {
		t.Fatal(err)
	}
	reply := old.AddReply(ch.ID, card, alice, "on it")
	old.AddReaction(ch.ID, card, alice, "eyes")
	if _, err := api.PostEphemeralContext(ctx, ch.ID, alice, slack.MsgOptionText("only for alice", false)); err != nil {
		t.Fatal(err)
	}
	content := []byte("# Postmortem\n")
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Reader: bytes.NewReader(content), FileSize: len(content),
		Filename: "incident-1-postmortem.md", Channel: ch.ID}); err != nil {
		t.Fatal(err)
	}
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewHeaderBlock(ptext("Open incidents"))}}}
	if _, err := api.PublishView(alice, home, ""); err != nil {
		t.Fatal(err)
	}

	data, err := old.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := old.Snapshot(); !bytes.Equal(again, data) {
		t.Error("two snapshots of an unchanged workspace differ")
	}
	restored, api2, _ := newFake(t)
	if err := restored.Restore(data); err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(old.Users(), restored.Users()); diff != "" {
		t.Errorf("users (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(old.Channels(), restored.Channels()); diff != "" {
		t.Errorf("channels (-before +after):\n%s", diff)
	}
	for _, id := range []string{general, ch.ID} {
		if diff := cmp.Diff(old.Messages(id), restored.Messages(id)); diff != "" {
			t.Errorf("messages of %s (-before +after):\n%s", id, diff)
		}
		if diff := cmp.Diff(old.Pins(id), restored.Pins(id)); diff != "" {
			t.Errorf("pins of %s (-before +after):\n%s", id, diff)
		}
		if diff := cmp.Diff(old.Files(id), restored.Files(id)); diff != "" {
			t.Errorf("files of %s (-before +after):\n%s", id, diff)
		}
	}
	if e := restored.Ephemerals(ch.ID); len(e) != 0 {
		t.Errorf("ephemeral messages came back: %+v", e)
	}
	if v, ok := restored.HomeView(alice); !ok || !bytes.Contains(v.Blocks, []byte("Open incidents")) {
		t.Errorf("alice's home tab after the restore: %+v, %v", v, ok)
	}

	// The restored workspace answers the API as the old one did.
	info, err := api2.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.ID})
	if err != nil || info.Name != "inc-1-db" || info.Topic.Value != "sev1 · investigating" {
		t.Errorf("conversations.info of the restored channel = %+v, %v", info, err)
	}
	msgs, _, _, err := api2.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch.ID, Timestamp: card})
	if err != nil || len(msgs) != 2 || msgs[0].Text != "the card, updated" || msgs[0].ReplyCount != 1 || msgs[1].Timestamp != reply {
		t.Errorf("the card's thread after the restore = %+v, %v", msgs, err)
	}
	if _, err := api2.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-db"}); slackErr(t, err) != "name_taken" {
		t.Errorf("creating a restored channel's name again: %v, want name_taken", err)
	}

	// New IDs and timestamps follow the old ones.
	next, err := api2.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-2-api"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range old.Channels() {
		if c.ID == next.ID {
			t.Errorf("a new channel got the ID %s of %s from before the restore", next.ID, c.Name)
		}
	}
	_, ts, err := api2.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("after the restart", false))
	if err != nil {
		t.Fatal(err)
	}
	if compareTimestamps(ts, reply) <= 0 {
		t.Errorf("a message after the restore has ts %s, not after %s", ts, reply)
	}
	if bob := restored.AddUser(User{Name: "bob"}); bob == alice {
		t.Errorf("a new user got alice's ID %s", bob)
	}
}

func compareTimestamps(a, b string) int {
	x, _ := parseTS(a)
	y, _ := parseTS(b)
	return int(x - y)
}

func TestRestoreRefusesWhatItCannotRead(t *testing.T) {
	s, _, _ := newFake(t)
	general := s.AddChannel("general", false)
	for _, data := range []string{`not json`, `{"version":99}`, `{"version":1,"users":[]}`,
		`{"version":1,"users":[{"ID":"U0FAKEBOT"}],"channels":[{"id":"C1"},{"id":"C1"}]}`,
		`{"version":1,"users":[{"ID":"U0FAKEBOT"}],"dms":[{"id":"D1","members":["U0FAKEBOT","U0NOPE"]}]}`,
		`{"version":1,"users":[{"ID":"U0FAKEBOT"}],"channels":[{"id":"D1"}],"dms":[{"id":"D1","members":["U0FAKEBOT"]}]}`} {
		if err := s.Restore([]byte(data)); err == nil {
			t.Errorf("Restore(%s) = nil, want an error", data)
		}
	}
	if _, ok := s.Channel(general); !ok {
		t.Error("a refused Restore changed the workspace")
	}
}

// TestDeleteChannel deletes a channel as an admin would: Slack then knows
// nothing of it.
func TestDeleteChannel(t *testing.T) {
	s, api, _ := newFake(t)
	ctx := context.Background()
	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-db"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.DeleteChannel(ch.ID) || s.DeleteChannel(ch.ID) {
		t.Error("DeleteChannel twice did not answer true then false")
	}
	if _, _, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("hi", false)); slackErr(t, err) != "channel_not_found" {
		t.Errorf("chat.postMessage to a deleted channel: %v, want channel_not_found", err)
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.ID}); slackErr(t, err) != "channel_not_found" {
		t.Errorf("conversations.info of a deleted channel: %v, want channel_not_found", err)
	}
	again, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-db"})
	if err != nil || again.ID == ch.ID {
		t.Errorf("creating the deleted channel's name again = %+v, %v; want a new channel", again, err)
	}

	// Archived, a channel keeps its name and refuses posts.
	if !s.ArchiveChannel(again.ID) || s.ArchiveChannel("C0NONE") {
		t.Error("ArchiveChannel did not answer true for a channel and false for none")
	}
	if _, _, err := api.PostMessageContext(ctx, again.ID, slack.MsgOptionText("hi", false)); slackErr(t, err) != "is_archived" {
		t.Errorf("chat.postMessage to an archived channel: %v, want is_archived", err)
	}
	if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-db"}); slackErr(t, err) != "name_taken" {
		t.Errorf("creating an archived channel's name: %v, want name_taken", err)
	}
}

// TestSnapshotKeepsDMs saves a workspace where the bot wrote to people
// directly: the restored one finds the same DM for the same person, with
// its messages and their buttons (a page waiting to be acknowledged), and a
// DM opened afterwards takes a new ID, not one already given.
func TestSnapshotKeepsDMs(t *testing.T) {
	old, api, _ := newFake(t)
	ctx := context.Background()
	alice := old.AddUser(User{Name: "alice"})
	bob := old.AddUser(User{Name: "bob"})
	carol := old.AddUser(User{Name: "carol"})
	open := func(api *slack.Client, user string) string {
		t.Helper()
		ch, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		if err != nil {
			t.Fatal(err)
		}
		return ch.ID
	}
	da, db := open(api, alice), open(api, bob)
	ack := slack.NewActionBlock("page", slack.NewButtonBlockElement("page_ack", "1", slack.NewTextBlockObject("plain_text", "Acknowledge", false, false)))
	if _, _, err := api.PostMessageContext(ctx, da, slack.MsgOptionText("You are on call", false), slack.MsgOptionBlocks(ack)); err != nil {
		t.Fatal(err)
	}
	data, err := old.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored, api2, _ := newFake(t)
	if err := restored.Restore(data); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]string{alice: da, bob: db} {
		if got, ok := restored.DM(user); !ok || got != want {
			t.Errorf("restored DM(%s) = %q, %v; want %q", user, got, ok, want)
		}
		if diff := cmp.Diff(old.Messages(want), restored.Messages(want)); diff != "" {
			t.Errorf("DM %s's messages (-saved +restored):\n%s", want, diff)
		}
	}
	if m := restored.Messages(da); len(m) != 1 || !bytes.Contains(m[0].Blocks, []byte(`"page_ack"`)) {
		t.Errorf("alice's DM after the restore: %+v, want the message with its button", m)
	}
	if again := open(api2, alice); again != da {
		t.Errorf("conversations.open for alice after the restore = %q, want her DM %q", again, da)
	}
	if dc := open(api2, carol); dc == da || dc == db {
		t.Errorf("carol's new DM took the ID %s, already given", dc)
	}
	for _, c := range restored.Channels() {
		if c.ID == da || c.ID == db {
			t.Errorf("the restored workspace lists DM %s among its channels", c.ID)
		}
	}
}
