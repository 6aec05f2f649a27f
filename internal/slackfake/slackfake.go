// Package slackfake is a stateful fake of the Slack Web API, served over
// net/http/httptest, for tests and the local playground.
//
// Point a slack-go client at it with
//
//	fake := slackfake.New()
//	defer fake.Close()
//	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
//
// The fake keeps a workspace (users, channels, messages, pins, ephemeral
// messages, response_url posts) and answers the subset of Web API methods the
// bot uses, enforcing the same rules and error codes as Slack: channel name
// rules, membership, archived channels, Block Kit limits, the total text of
// a message's blocks (WithBlocksTextLimit), and so on. It also
// records every request (Calls) and can inject failures (Fail): rate limits,
// HTTP 500s, delays and ok:false errors.
//
// Authentication follows Slack: the token is taken from an
// "Authorization: Bearer" header or from a "token" field in a form-encoded
// (or multipart) POST body. A token in a JSON body or in the query string is
// ignored, as Slack does, and the call fails with not_authed.
//
// Web API methods served: auth.test, users.info, conversations.create,
// conversations.invite, conversations.join, conversations.setTopic,
// conversations.info, conversations.members, conversations.archive,
// conversations.list, conversations.history, conversations.replies,
// conversations.open (one-to-one DMs, see DM), chat.postMessage,
// chat.update, chat.postEphemeral, chat.getPermalink, pins.add, pins.list,
// views.open, views.push, views.update, views.publish,
// files.getUploadURLExternal, files.completeUploadExternal, files.info and
// apps.connections.open. Any other method answers unknown_method.
//
// Scopes: every call needs the bot scope its method needs for the
// conversation's type (see WithScopes), by default those of Sitrep's
// manifest.yaml; otherwise it answers missing_scope.
// Response URLs (NewResponseURL) and the upload URLs handed out by
// files.getUploadURLExternal are served outside /api/.
//
// Files: the external upload flow of slack-go's UploadFileContext works
// end to end. files.getUploadURLExternal hands out an upload_url on the fake
// (Calls and Fail know posts to it as UploadMethod); the bytes posted there
// (multipart or raw) are kept; files.completeUploadExternal checks them
// against the declared length, shares the files in the channel with a
// "file_share" message (Message.Files) and each file can be completed
// once. Files and File show what was uploaded. With WithLateShares the
// share comes after the ok answer, when FinishShares says; WithFileShared
// hears of each share, to deliver the file_shared event.
//
// The bot is the only API caller: every call acts as BotUserID(). Use
// AddUser, AddChannel, AddMessage and AddReply to set up what people did,
// and NewTriggerID for the trigger_ids of the interactions a test delivers.
//
// Views: views.open and views.push exchange trigger_ids from NewTriggerID
// (once, within TriggerLifetime); views.update and views.publish check the
// optional hash. Views are validated by ValidateView; failures answer
// invalid_arguments with response_metadata.messages, as Slack does. Views,
// View and HomeView show what the bot opened and published; CloseView
// closes a modal as a user would.
//
// Socket Mode: apps.connections.open, called with the app-level token
// (AppToken) in the Authorization header, returns a single-use ws:// URL
// served by the fake. A client that connects gets a "hello" message and
// periodic WebSocket pings; SocketSend delivers an envelope and waits for
// the client's ack, WaitSocket and SocketConnected tell whether a client is
// connected, and SocketDisconnect asks clients to reconnect. Close closes the
// connections. The app-level token is refused elsewhere
// (not_allowed_token_type), as is the bot token by apps.connections.open.
//
// All methods of Server are safe for concurrent use. Accessors return copies.
package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// Defaults used by New.
const (
	// DefaultBotToken is the bot token the fake accepts unless WithBotToken is given.
	DefaultBotToken = "xoxb-fake-bot-token"
	// DefaultAppToken is the app-level token (for Socket Mode) the fake
	// accepts unless WithAppToken is given.
	DefaultAppToken = "xapp-fake-app-token"
	// DefaultTeamID is the workspace ID unless WithTeam is given.
	DefaultTeamID = "T0FAKETEAM"
	// DefaultBotUserID is the user ID of the bot.
	DefaultBotUserID = "U0FAKEBOT"
	// DefaultBotID is the bot ID (bot_id) of the bot.
	DefaultBotID = "B0FAKEBOT"
	// DefaultAppID is the app ID (app_id) of the bot.
	DefaultAppID = "A0FAKEAPP"

	botUserName = "sitrep"
	teamName    = "Fake Workspace"
	teamDomain  = "fake"
	// permalinkBase is the workspace URL used by auth.test and chat.getPermalink.
	permalinkBase = "https://fake.slack.com/"
)

// Option configures a Server.
type Option func(*Server)

// WithBotToken sets the bot token the fake accepts (default DefaultBotToken).
func WithBotToken(tok string) Option { return func(s *Server) { s.botToken = tok } }

// WithAppToken sets the app-level token that apps.connections.open accepts
// (default DefaultAppToken).
func WithAppToken(tok string) Option { return func(s *Server) { s.appToken = tok } }

// WithSocketPingInterval sets how often the fake sends a WebSocket ping on
// Socket Mode connections (default DefaultSocketPingInterval). slack-go's
// socketmode client reconnects when no ping arrives within its
// OptionPingInterval (30 s by default), so keep this shorter than that.
func WithSocketPingInterval(d time.Duration) Option {
	return func(s *Server) { s.socketPing = d }
}

// WithTeam sets the workspace (team) ID (default DefaultTeamID).
func WithTeam(id string) Option { return func(s *Server) { s.teamID = id } }

// WithClock sets the clock used for message timestamps, channel creation
// times, response_url and trigger_id expiry, view hashes and the call log
// (default time.Now). Socket Mode pings and write deadlines use real time. The clock
// is called with the server's lock held: it must not call back into the
// Server.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// User is a workspace member.
type User struct {
	ID       string
	Name     string // handle, e.g. "alice"
	RealName string
	TZ       string // IANA zone, e.g. "Europe/Paris"; "" means UTC
	Email    string
	IsBot    bool
}

// Channel is a snapshot of a channel's state.
type Channel struct {
	ID       string
	Name     string
	Private  bool
	Archived bool
	Topic    string
	Members  []string // user IDs, in join order
	Creator  string
	Created  time.Time
}

// Message is a snapshot of a message in a channel.
type Message struct {
	TS       string
	Channel  string
	User     string
	BotID    string // set for messages posted by the bot
	Subtype  string // "" for ordinary messages, "channel_topic" for topic changes
	Text     string
	Blocks   json.RawMessage // nil when the message has no blocks
	ThreadTS string          // set on thread replies (and on parents that have replies)
	Edited   bool
	Files    []string // IDs of the files shared by a "file_share" message
	// Metadata is the message metadata posted with it ({"event_type":…,
	// "event_payload":{…}}), nil when none was.
	Metadata json.RawMessage
	// Reactions are the emoji people reacted with, in the order first
	// used (see AddReaction).
	Reactions []Reaction
}

// Reaction is one emoji on a message and who reacted with it.
type Reaction struct {
	Name  string   // without colons, e.g. "pushpin"
	Users []string // in the order they reacted
}

// Ephemeral is a message sent with chat.postEphemeral.
type Ephemeral struct {
	TS       string
	Channel  string
	User     string // the only user who sees it
	Text     string
	Blocks   json.RawMessage
	ThreadTS string
}

// Response is one POST to a response_url (see NewResponseURL).
type Response struct {
	Text            string
	Blocks          json.RawMessage
	ResponseType    string // "ephemeral", "in_channel" or ""
	ReplaceOriginal bool
	DeleteOriginal  bool
	ThreadTS        string
	At              time.Time
}

// Call is one request received by the fake.
type Call struct {
	// Method is the Web API method (e.g. "chat.postMessage"), or
	// ResponseURLMethod for posts to a response_url.
	Method string
	// Params holds the request's parameters: query string plus form fields,
	// or the top-level members of a JSON body (strings unquoted, other values
	// as raw JSON text). For response_url posts, "url" is the URL posted to.
	Params map[string]string
	// Token is the token the request authenticated with ("" if none).
	Token string
	At    time.Time
}

// ResponseURLMethod is the Call.Method of posts to response URLs; it can also
// be passed to Fail.
const ResponseURLMethod = "response_url"

// Failure describes an injected failure (see Server.Fail).
type Failure struct {
	// Status, when non-zero, is the HTTP status to answer with. 429 answers
	// {"ok":false,"error":"ratelimited"} with a Retry-After header; any other
	// status answers {"ok":false,"error":Error}, or "internal_error" when
	// Error is empty. A response_url refuses a post either way: HTTP 200
	// with ok false (Error alone: Slack's "expired_url", "used_url") or an
	// HTTP error status (Status, with or without Error).
	Status int
	// RetryAfter is sent in the Retry-After header of a 429, in whole seconds
	// rounded up, at least 1 (Slack only sends whole seconds, and slack-go
	// parses the header as an integer).
	RetryAfter time.Duration
	// Delay makes the fake wait this long before answering (or before
	// handling the call normally, if neither Status nor Error is set). The
	// wait ends early if the client cancels the request.
	Delay time.Duration
	// Error, when Status is 0, answers HTTP 200 {"ok":false,"error":Error}.
	Error string
	// Lost, when Status and Error are unset, lets the call take effect and
	// then cuts the connection without an answer: what Sitrep sees when
	// Slack did the work but the answer never arrived, and, for its
	// database, what a crash between Slack's answer and the commit leaves.
	Lost bool
	// Skip is how many calls pass normally before the failure applies.
	Skip int
	// Times is how many calls the failure applies to; 0 means every call
	// until ClearFailures.
	Times int
	// Then, if set, is called where the failure strikes: with Lost, after
	// the call took effect and before the answer is cut; otherwise before
	// the failure is answered. Crash tests kill the program here.
	Then func()
}

// Server is a fake Slack workspace with a Web API. Create it with New.
type Server struct {
	srv        *httptest.Server
	botToken   string
	appToken   string
	teamID     string
	clock      func() time.Time
	limits     limits
	latency    time.Duration
	socketPing time.Duration
	// blocksTextLimit caps the text of a message's blocks (msgsize.go).
	blocksTextLimit int
	// scopes are the bot token's scopes (scopes.go).
	scopes []string
	// Direct messages (dm.go): user ID -> DM conversation ID. DMs are in
	// channels, not in channelOrder.
	dms    map[string]string
	nextDM int

	mu           sync.Mutex
	users        map[string]*User
	userOrder    []string
	channels     map[string]*channel
	channelOrder []string
	nextChannel  int
	nextUser     int
	lastTS       int64 // microseconds of the last timestamp handed out
	calls        []Call
	failures     map[string][]*Failure
	responseURLs map[string]*responseURL
	respOrder    int

	// Views (views.go).
	triggers    map[string]*trigger
	nextTrigger int
	views       map[string]*view  // open modals and home tabs, by ID
	viewOrder   []string          // open modals, in the order they were opened or pushed
	homes       map[string]string // user ID -> home view ID
	nextView    int
	nextHash    int

	// Socket Mode (socket.go).
	closed        bool
	closing       chan struct{} // closed by Close
	socketTickets map[string]bool
	sockets       []*socketConn // live connections, oldest first
	socketChanged chan struct{} // closed and replaced when sockets change
	pendingAcks   map[string]chan json.RawMessage
	socketWG      sync.WaitGroup

	// Files (files.go).
	files         map[string]*file
	nextFile      int
	lateShares    bool
	shareDelay    time.Duration
	pendingShares []share
	shareTimers   []*time.Timer
	onFileShared  func(fileID, channelID string)
	sharedEvents  [][2]string // file, channel: shares not yet given to onFileShared
}

// channel is the internal state of a channel.
type channel struct {
	id, name          string
	private, archived bool
	im                bool // a direct message between the bot and one user
	creator           string
	created           time.Time
	members           []string
	topic             string
	topicCreator      string
	topicSet          time.Time
	messages          []*message // oldest first
	pins              []pin
	ephemerals        []Ephemeral
	files             []string // IDs of the files shared here, oldest first
}

type message struct {
	Message
	parentUser  string // the parent's author, on thread replies
	editedTS    string
	editedBy    string
	topic       string // for channel_topic messages
	replyCount  int
	latestReply string
	replyUsers  []string
}

type pin struct {
	ts, by string
	at     time.Time
}

// New starts a fake Slack server. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		botToken:        DefaultBotToken,
		appToken:        DefaultAppToken,
		teamID:          DefaultTeamID,
		clock:           time.Now,
		socketPing:      DefaultSocketPingInterval,
		blocksTextLimit: DefaultBlocksTextLimit,
		scopes:          manifestScopes(),
		dms:             map[string]string{},
		users:           map[string]*User{},
		channels:        map[string]*channel{},
		failures:        map[string][]*Failure{},
		responseURLs:    map[string]*responseURL{},
		triggers:        map[string]*trigger{},
		views:           map[string]*view{},
		homes:           map[string]string{},
		closing:         make(chan struct{}),
		socketTickets:   map[string]bool{},
		socketChanged:   make(chan struct{}),
		pendingAcks:     map[string]chan json.RawMessage{},
		files:           map[string]*file{},
	}
	for _, o := range opts {
		o(s)
	}
	s.addUserLocked(User{ID: DefaultBotUserID, Name: botUserName, RealName: "Sitrep", IsBot: true})
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc(responseURLPath, s.handleResponseURL)
	mux.HandleFunc(socketPath, s.handleSocket)
	mux.HandleFunc(uploadPath, s.handleUpload)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL returns the Web API base URL, ending in "/api/", for slack.OptionAPIURL.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Close shuts the server down: it closes Socket Mode connections (with a
// WebSocket close frame), makes pending SocketSend calls fail, and waits for
// requests in flight and for the fake's own goroutines. Calling it again does
// nothing.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	for _, t := range s.shareTimers {
		t.Stop()
	}
	conns := slices.Clone(s.sockets)
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	s.srv.Close()
	s.socketWG.Wait()
}

// BotToken returns the token the fake accepts.
func (s *Server) BotToken() string { return s.botToken }

// AppToken returns the app-level token apps.connections.open accepts.
func (s *Server) AppToken() string { return s.appToken }

// BotUserID returns the bot's user ID (what auth.test reports as user_id).
func (s *Server) BotUserID() string { return DefaultBotUserID }

// BotID returns the bot's bot ID (bot_id on its messages).
func (s *Server) BotID() string { return DefaultBotID }

// TeamID returns the workspace ID.
func (s *Server) TeamID() string { return s.teamID }

// AddUser adds (or replaces) a workspace member and returns its ID. If u.ID
// is empty an ID is assigned.
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(u)
}

func (s *Server) addUserLocked(u User) string {
	if u.ID == "" {
		s.nextUser++
		u.ID = fmt.Sprintf("U%08d", s.nextUser)
	}
	if u.Name == "" {
		u.Name = u.ID
	}
	if _, ok := s.users[u.ID]; !ok {
		s.userOrder = append(s.userOrder, u.ID)
	}
	s.users[u.ID] = &u
	return u.ID
}

// User returns a workspace member.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// AddChannel creates a pre-existing channel (for example an announcement
// channel) and returns its ID. The bot is a member only if BotUserID() is
// among members. It panics if the name is not a valid, unused Slack channel
// name or a member is not a known user, since that is a mistake in the test.
func (s *Server) AddChannel(name string, private bool, members ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.checkNewChannelName(name); code != "" {
		panic(fmt.Sprintf("slackfake: AddChannel(%q): %s", name, code))
	}
	for _, m := range members {
		if _, ok := s.users[m]; !ok {
			panic(fmt.Sprintf("slackfake: AddChannel(%q): unknown member %q (AddUser it first)", name, m))
		}
	}
	creator := ""
	if len(members) > 0 {
		creator = members[0]
	}
	ch := s.newChannelLocked(name, private, creator)
	for _, m := range members {
		if !slices.Contains(ch.members, m) {
			ch.members = append(ch.members, m)
		}
	}
	return ch.id
}

// AddMember puts userID in a channel, as a person's /invite does; the
// bot's user ID invites Sitrep itself. It panics if the channel is unknown.
func (s *Server) AddMember(channelID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		panic(fmt.Sprintf("slackfake: AddMember(%q): unknown channel", channelID))
	}
	if !ch.isMember(userID) {
		ch.members = append(ch.members, userID)
	}
}

// RemoveMember takes userID out of a channel, as a person's /kick or /remove
// does; the bot's user ID removes Sitrep itself. It panics if the channel is
// unknown.
func (s *Server) RemoveMember(channelID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		panic(fmt.Sprintf("slackfake: RemoveMember(%q): unknown channel", channelID))
	}
	ch.members = slices.DeleteFunc(ch.members, func(m string) bool { return m == userID })
}

// AddMessage posts a message as a (human) user, bypassing the API: use it to
// simulate what people write. It panics if the channel or user is unknown.
func (s *Server) AddMessage(channelID, userID, text string) (ts string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		panic(fmt.Sprintf("slackfake: AddMessage: unknown channel %q", channelID))
	}
	if _, ok := s.users[userID]; !ok {
		panic(fmt.Sprintf("slackfake: AddMessage: unknown user %q", userID))
	}
	m := &message{Message: Message{TS: s.nextTSLocked(), Channel: channelID, User: userID, Text: text}}
	ch.messages = append(ch.messages, m)
	return m.TS
}

// AddReply posts a thread reply as a (human) user, bypassing the API, and
// updates the parent's thread fields (reply_count, reply_users,
// latest_reply) as Slack does. threadTS may be the parent's ts or another
// reply's (the reply then joins the parent's thread). It panics if the
// channel, user or parent message is unknown.
func (s *Server) AddReply(channelID, threadTS, userID, text string) (ts string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		panic(fmt.Sprintf("slackfake: AddReply: unknown channel %q", channelID))
	}
	if _, ok := s.users[userID]; !ok {
		panic(fmt.Sprintf("slackfake: AddReply: unknown user %q", userID))
	}
	if ch.findMessage(threadTS) == nil {
		panic(fmt.Sprintf("slackfake: AddReply: no message %q in %s", threadTS, channelID))
	}
	m := &message{Message: Message{TS: s.nextTSLocked(), Channel: channelID, User: userID, Text: text, ThreadTS: threadTS}}
	ch.addMessage(m)
	return m.TS
}

// addMessage appends a message. For a thread reply (ThreadTS set) it points
// ThreadTS at the thread's parent, even if it named another reply, and
// updates the parent's thread fields.
func (ch *channel) addMessage(m *message) {
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		if parent := ch.findMessage(m.ThreadTS); parent != nil {
			if parent.ThreadTS != "" && parent.ThreadTS != parent.TS {
				if root := ch.findMessage(parent.ThreadTS); root != nil {
					parent = root
				}
			}
			m.ThreadTS = parent.TS
			m.parentUser = parent.User
			parent.ThreadTS = parent.TS
			parent.replyCount++
			parent.latestReply = m.TS
			if !slices.Contains(parent.replyUsers, m.User) {
				parent.replyUsers = append(parent.replyUsers, m.User)
			}
		}
	}
	ch.messages = append(ch.messages, m)
}

// isReply reports whether the message is a thread reply (not a parent).
func (m *message) isReply() bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

func (s *Server) newChannelLocked(name string, private bool, creator string) *channel {
	s.nextChannel++
	ch := &channel{
		id:      fmt.Sprintf("C%08d", s.nextChannel),
		name:    name,
		private: private,
		creator: creator,
		created: s.clock(),
	}
	s.channels[ch.id] = ch
	s.channelOrder = append(s.channelOrder, ch.id)
	return ch
}

// Channel returns a snapshot of a channel.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return ch.snapshot(), true
}

// ChannelByName returns a snapshot of the channel with that name.
func (s *Server) ChannelByName(name string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelByNameLocked(name)
	if ch == nil {
		return Channel{}, false
	}
	return ch.snapshot(), true
}

// Channels returns snapshots of all channels, in creation order.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, 0, len(s.channelOrder))
	for _, id := range s.channelOrder {
		out = append(out, s.channels[id].snapshot())
	}
	return out
}

func (s *Server) channelByNameLocked(name string) *channel {
	for _, id := range s.channelOrder {
		if ch := s.channels[id]; ch.name == name {
			return ch
		}
	}
	return nil
}

func (ch *channel) snapshot() Channel {
	return Channel{
		ID:       ch.id,
		Name:     ch.name,
		Private:  ch.private,
		Archived: ch.archived,
		Topic:    ch.topic,
		Members:  slices.Clone(ch.members),
		Creator:  ch.creator,
		Created:  ch.created,
	}
}

func (ch *channel) isMember(user string) bool { return slices.Contains(ch.members, user) }

func (ch *channel) findMessage(ts string) *message {
	for _, m := range ch.messages {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

func (m *message) snapshot() Message {
	c := m.Message
	c.Blocks = slices.Clone(m.Blocks)
	c.Files = slices.Clone(m.Files)
	c.Reactions = nil
	for _, r := range m.Reactions {
		c.Reactions = append(c.Reactions, Reaction{Name: r.Name, Users: slices.Clone(r.Users)})
	}
	return c
}

// AddReaction records that userID reacted to a message with emoji name, as
// a person does in Slack, and reports whether it is new (a person reacts
// with an emoji once). It does not send the reaction_added event: the
// caller delivers that to the app. It panics if the channel, message or
// user is unknown.
func (s *Server) AddReaction(channelID, ts, userID, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		panic(fmt.Sprintf("slackfake: AddReaction: unknown channel %q", channelID))
	}
	if _, ok := s.users[userID]; !ok {
		panic(fmt.Sprintf("slackfake: AddReaction: unknown user %q", userID))
	}
	m := ch.findMessage(ts)
	if m == nil {
		panic(fmt.Sprintf("slackfake: AddReaction: no message %q in %s", ts, channelID))
	}
	for i := range m.Reactions {
		if r := &m.Reactions[i]; r.Name == name {
			if slices.Contains(r.Users, userID) {
				return false
			}
			r.Users = append(r.Users, userID)
			return true
		}
	}
	m.Reactions = append(m.Reactions, Reaction{Name: name, Users: []string{userID}})
	return true
}

// Users returns the workspace's members, the bot included, in the order
// they were added.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.userOrder))
	for _, id := range s.userOrder {
		out = append(out, *s.users[id])
	}
	return out
}

// Messages returns the messages of a channel, oldest first, thread replies
// and system messages (such as channel_topic) included. It returns nil for
// an unknown channel.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return nil
	}
	out := make([]Message, 0, len(ch.messages))
	for _, m := range ch.messages {
		out = append(out, m.snapshot())
	}
	return out
}

// Message returns one message of a channel.
func (s *Server) Message(channelID, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return Message{}, false
	}
	m := ch.findMessage(ts)
	if m == nil {
		return Message{}, false
	}
	return m.snapshot(), true
}

// Pins returns the timestamps of the pinned messages of a channel, in the
// order they were pinned.
func (s *Server) Pins(channelID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(ch.pins))
	for _, p := range ch.pins {
		out = append(out, p.ts)
	}
	return out
}

// Ephemerals returns the ephemeral messages sent in a channel, oldest first.
func (s *Server) Ephemerals(channelID string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return nil
	}
	out := make([]Ephemeral, 0, len(ch.ephemerals))
	for _, e := range ch.ephemerals {
		e.Blocks = slices.Clone(e.Blocks)
		out = append(out, e)
	}
	return out
}

// Calls returns the requests received for a method, oldest first; Calls("")
// returns all of them. Every request is recorded before it is answered,
// including rejected and failure-injected ones.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			c.Params = cloneParams(c.Params)
			out = append(out, c)
		}
	}
	return out
}

func cloneParams(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// AnyMethod, given to Fail, makes a failure apply to calls of any Web API
// method that has none of its own (not to response_url posts).
const AnyMethod = "*"

// Fail injects a failure for a Web API method (or ResponseURLMethod).
// Failures for a method queue up and apply in the order given; a failure
// with Times 0 applies until ClearFailures. Injected failures apply before
// any other handling, authentication included.
func (s *Server) Fail(method string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], &f)
}

// ClearFailures removes all injected failures.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = map[string][]*Failure{}
}

// takeFailureLocked returns the failure to apply to this call of method, if
// any, counting it down.
func (s *Server) takeFailureLocked(method string) (Failure, bool) {
	if f, ok := s.takeQueuedLocked(method); ok || method == ResponseURLMethod {
		return f, ok
	}
	return s.takeQueuedLocked(AnyMethod)
}

func (s *Server) takeQueuedLocked(method string) (Failure, bool) {
	q := s.failures[method]
	if len(q) == 0 {
		return Failure{}, false
	}
	f := q[0]
	if f.Skip > 0 {
		f.Skip--
		return Failure{}, false
	}
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			s.failures[method] = q[1:]
		}
	}
	return *f, true
}
