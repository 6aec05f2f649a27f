package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// snapshotVersion is the format of Snapshot's data; Restore refuses others.
const snapshotVersion = 1

// snapshot is the workspace as Snapshot saves it: what a person would find
// again in Slack after a while (users, channels with their members, topics,
// messages, reactions and pins, files, views), and the counters that keep
// new IDs and timestamps from colliding with the old ones.
//
// What Slack itself forgets is left out: ephemeral messages (gone on
// reload), trigger_ids (valid for seconds), response_urls (half an hour),
// Socket Mode tickets and connections, the call log and injected failures.
type snapshot struct {
	Version  int           `json:"version"`
	Users    []User        `json:"users"`
	Channels []snapChannel `json:"channels"`
	// DMs are the bot's direct messages with people (conversations.open),
	// kept apart from the channels as the Server keeps them.
	DMs   []snapChannel     `json:"dms,omitempty"`
	Files []snapFile        `json:"files,omitempty"`
	Views []snapView        `json:"views,omitempty"`
	Homes map[string]string `json:"homes,omitempty"`
	Next  snapCounters      `json:"next"`
}

type snapCounters struct {
	Channel int   `json:"channel"`
	User    int   `json:"user"`
	View    int   `json:"view"`
	Hash    int   `json:"hash"`
	File    int   `json:"file"`
	LastTS  int64 `json:"last_ts"` // microseconds
	DM      int   `json:"dm,omitempty"`
}

type snapChannel struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Private      bool          `json:"private,omitempty"`
	Archived     bool          `json:"archived,omitempty"`
	Creator      string        `json:"creator,omitempty"`
	Created      time.Time     `json:"created"`
	Members      []string      `json:"members"`
	Topic        string        `json:"topic,omitempty"`
	TopicCreator string        `json:"topic_creator,omitempty"`
	TopicSet     time.Time     `json:"topic_set,omitzero"`
	Messages     []snapMessage `json:"messages"`
	Pins         []snapPin     `json:"pins,omitempty"`
	Files        []string      `json:"files,omitempty"`
}

type snapMessage struct {
	Message
	ParentUser  string   `json:"parent_user,omitempty"`
	EditedTS    string   `json:"edited_ts,omitempty"`
	EditedBy    string   `json:"edited_by,omitempty"`
	TopicText   string   `json:"topic,omitempty"`
	ReplyCount  int      `json:"reply_count,omitempty"`
	LatestReply string   `json:"latest_reply,omitempty"`
	ReplyUsers  []string `json:"reply_users,omitempty"`
}

type snapPin struct {
	TS string    `json:"ts"`
	By string    `json:"by"`
	At time.Time `json:"at"`
}

type snapFile struct {
	File
	Length    int       `json:"length"`
	Uploaded  bool      `json:"uploaded,omitempty"`
	Completed bool      `json:"completed,omitempty"`
	Channels  []string  `json:"channels,omitempty"`
	Created   time.Time `json:"created"`
}

type snapView struct {
	View
	TitleText     json.RawMessage `json:"title_text,omitempty"`
	SubmitText    json.RawMessage `json:"submit_text,omitempty"`
	CloseText     json.RawMessage `json:"close_text,omitempty"`
	ClearOnClose  bool            `json:"clear_on_close,omitempty"`
	NotifyOnClose bool            `json:"notify_on_close,omitempty"`
}

// Snapshot returns the workspace's lasting state as JSON, for Restore to
// bring back in another Server: the playground keeps it beside its
// database so that a rehearsal continues after a restart. Ephemeral
// messages, trigger_ids, response_urls, Socket Mode connections, the call
// log and injected failures are not in it: Slack forgets them too, or they
// belong to one run.
func (s *Server) Snapshot() ([]byte, error) {
	s.mu.Lock()
	snap := snapshot{
		Version: snapshotVersion,
		Homes:   map[string]string{},
		Next: snapCounters{Channel: s.nextChannel, User: s.nextUser, View: s.nextView, Hash: s.nextHash,
			File: s.nextFile, LastTS: s.lastTS, DM: s.nextDM},
	}
	for _, id := range s.userOrder {
		snap.Users = append(snap.Users, *s.users[id])
	}
	for _, id := range s.channelOrder {
		snap.Channels = append(snap.Channels, s.channels[id].snap())
	}
	for _, id := range s.dms {
		snap.DMs = append(snap.DMs, s.channels[id].snap())
	}
	for _, f := range s.files {
		snap.Files = append(snap.Files, snapFile{File: f.snapshot(), Length: f.length, Uploaded: f.uploaded,
			Completed: f.completed, Channels: slices.Clone(f.channels), Created: f.created})
	}
	for _, v := range s.views {
		snap.Views = append(snap.Views, snapView{View: v.snapshot(), TitleText: v.title, SubmitText: v.submit,
			CloseText: v.close, ClearOnClose: v.clearOnClose, NotifyOnClose: v.notifyOnClose})
	}
	for u, id := range s.homes {
		snap.Homes[u] = id
	}
	// Open modals keep the order they were opened in; the rest is sorted
	// so that an unchanged workspace always gives the same bytes.
	order := map[string]int{}
	for i, id := range s.viewOrder {
		order[id] = i + 1
	}
	s.mu.Unlock()
	slices.SortFunc(snap.Files, func(a, b snapFile) int { return compareIDs(a.ID, b.ID) })
	slices.SortFunc(snap.DMs, func(a, b snapChannel) int { return compareIDs(a.ID, b.ID) })
	slices.SortFunc(snap.Views, func(a, b snapView) int {
		if order[a.ID] != order[b.ID] {
			return order[a.ID] - order[b.ID]
		}
		return compareIDs(a.ID, b.ID)
	})
	return json.Marshal(snap)
}

// snap is ch as Snapshot saves it.
func (ch *channel) snap() snapChannel {
	sc := snapChannel{ID: ch.id, Name: ch.name, Private: ch.private, Archived: ch.archived, Creator: ch.creator,
		Created: ch.created, Members: slices.Clone(ch.members), Topic: ch.topic, TopicCreator: ch.topicCreator,
		TopicSet: ch.topicSet, Files: slices.Clone(ch.files), Messages: []snapMessage{}}
	for _, m := range ch.messages {
		sc.Messages = append(sc.Messages, snapMessage{Message: m.snapshot(), ParentUser: m.parentUser, EditedTS: m.editedTS,
			EditedBy: m.editedBy, TopicText: m.topic, ReplyCount: m.replyCount, LatestReply: m.latestReply,
			ReplyUsers: slices.Clone(m.replyUsers)})
	}
	for _, p := range ch.pins {
		sc.Pins = append(sc.Pins, snapPin{TS: p.ts, By: p.by, At: p.at})
	}
	return sc
}

// restored is the channel a snapshot saved.
func (sc snapChannel) restored() *channel {
	ch := &channel{id: sc.ID, name: sc.Name, private: sc.Private, archived: sc.Archived, creator: sc.Creator,
		created: sc.Created, members: sc.Members, topic: sc.Topic, topicCreator: sc.TopicCreator,
		topicSet: sc.TopicSet, files: sc.Files}
	for _, m := range sc.Messages {
		m.Blocks, m.Metadata = orNil(m.Blocks), orNil(m.Metadata)
		ch.messages = append(ch.messages, &message{Message: m.Message, parentUser: m.ParentUser, editedTS: m.EditedTS,
			editedBy: m.EditedBy, topic: m.TopicText, replyCount: m.ReplyCount, latestReply: m.LatestReply,
			replyUsers: m.ReplyUsers})
	}
	for _, p := range sc.Pins {
		ch.pins = append(ch.pins, pin{ts: p.TS, by: p.By, at: p.At})
	}
	return ch
}

func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Restore replaces the workspace with one saved by Snapshot. It is meant
// for a Server that has just been made (New), before any client uses it:
// Socket Mode connections, trigger_ids, response_urls, the call log and
// injected failures are left as they are. It changes nothing if data is
// not a snapshot it can read.
func (s *Server) Restore(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("read slack snapshot: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("read slack snapshot: format %d, want %d", snap.Version, snapshotVersion)
	}
	users := map[string]*User{}
	var userOrder []string
	for _, u := range snap.Users {
		if u.ID == "" {
			return errors.New("read slack snapshot: a user without an ID")
		}
		if _, dup := users[u.ID]; !dup {
			userOrder = append(userOrder, u.ID)
		}
		users[u.ID] = &u
	}
	if _, ok := users[DefaultBotUserID]; !ok {
		return errors.New("read slack snapshot: the bot user is missing")
	}
	channels := map[string]*channel{}
	var channelOrder []string
	for _, sc := range snap.Channels {
		if sc.ID == "" || channels[sc.ID] != nil {
			return fmt.Errorf("read slack snapshot: channel ID %q missing or repeated", sc.ID)
		}
		ch := sc.restored()
		channels[ch.id] = ch
		channelOrder = append(channelOrder, ch.id)
	}
	// A DM is found by the person in it besides the bot.
	dms := map[string]string{}
	for _, sc := range snap.DMs {
		if sc.ID == "" || channels[sc.ID] != nil {
			return fmt.Errorf("read slack snapshot: DM ID %q missing or repeated", sc.ID)
		}
		ch := sc.restored()
		ch.im = true
		var person string
		for _, m := range ch.members {
			if m != DefaultBotUserID {
				person = m
			}
		}
		if person == "" || users[person] == nil || dms[person] != "" {
			return fmt.Errorf("read slack snapshot: DM %s is not with one known person", sc.ID)
		}
		channels[ch.id] = ch
		dms[person] = ch.id
	}
	files := map[string]*file{}
	for _, f := range snap.Files {
		files[f.ID] = &file{File: f.File, length: f.Length, uploaded: f.Uploaded, completed: f.Completed,
			channels: f.Channels, created: f.Created}
	}
	views := map[string]*view{}
	var viewOrder []string
	for _, v := range snap.Views {
		v.Blocks, v.Raw = orNil(v.Blocks), orNil(v.Raw)
		views[v.ID] = &view{View: v.View, title: v.TitleText, submit: v.SubmitText, close: v.CloseText,
			clearOnClose: v.ClearOnClose, notifyOnClose: v.NotifyOnClose}
		if v.Type == "modal" {
			viewOrder = append(viewOrder, v.ID)
		}
	}
	homes := snap.Homes
	if homes == nil {
		homes = map[string]string{}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.users, s.userOrder = users, userOrder
	s.channels, s.channelOrder, s.dms = channels, channelOrder, dms
	s.files, s.views, s.viewOrder, s.homes = files, views, viewOrder, homes
	// Counters never go back, so IDs handed out before the restore (the
	// bot user's, say) stay unique.
	s.nextChannel = max(s.nextChannel, snap.Next.Channel)
	s.nextUser = max(s.nextUser, snap.Next.User)
	s.nextView = max(s.nextView, snap.Next.View)
	s.nextHash = max(s.nextHash, snap.Next.Hash)
	s.nextFile = max(s.nextFile, snap.Next.File)
	s.lastTS = max(s.lastTS, snap.Next.LastTS)
	s.nextDM = max(s.nextDM, snap.Next.DM)
	return nil
}

// orNil undoes what encoding a nil json.RawMessage does: it comes back
// as "null", and accessors promise nil.
func orNil(m json.RawMessage) json.RawMessage {
	if string(m) == "null" {
		return nil
	}
	return m
}

// DeleteChannel deletes a channel and everything in it, as a workspace
// admin can in Slack: afterwards every method answers channel_not_found for
// its ID, and its name is free again. It reports whether the channel
// existed.
func (s *Server) DeleteChannel(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[id]; !ok {
		return false
	}
	delete(s.channels, id)
	s.channelOrder = slices.DeleteFunc(s.channelOrder, func(c string) bool { return c == id })
	// A DM deleted is forgotten too: the next conversations.open makes a
	// new one, and Snapshot does not look for it.
	for u, dm := range s.dms {
		if dm == id {
			delete(s.dms, u)
		}
	}
	return true
}

// ArchiveChannel archives a channel as a person can in Slack: it keeps its
// messages and name, and posting to it answers is_archived. It reports
// whether the channel existed.
func (s *Server) ArchiveChannel(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[id]
	if ok {
		ch.archived = true
	}
	return ok
}
