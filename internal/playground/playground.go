// Package playground is a small Slack in a web page, for trying Sitrep and
// rehearsing incidents without a Slack workspace. It serves a page that
// looks and behaves like Slack (channels, messages with their Block Kit,
// pins and topics, modals, reactions, App Home, a user switcher) on top of
// the project's stateful fake Slack, and delivers what people do there to
// Sitrep exactly as Slack does: signed HTTP requests, or Socket Mode
// envelopes. Sitrep cannot tell it from Slack.
package playground

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
)

//go:embed web
var webFS embed.FS

// Workspace is the name the page shows.
const Workspace = "Sitrep Playground"

// Config is what a Playground needs.
type Config struct {
	Fake *slackfake.Server
	// AppURL is where Sitrep serves Slack's requests ("http://127.0.0.1:1234"),
	// and SigningSecret what it verifies them with. Socket delivers over
	// Socket Mode instead.
	AppURL        string
	SigningSecret string
	Socket        bool
	// Command is Sitrep's slash command, "/incident".
	Command string
	Log     *slog.Logger
	// Hooks are the secrets of the alert sources Sitrep has on, by source
	// name: the alert panel sends each sender's webhook with its own.
	// AlertRouting says in a sentence what Sitrep makes of them.
	Hooks        map[string]string
	AlertRouting string
}

// Playground serves the page and its API.
type Playground struct {
	fake    *slackfake.Server
	client  *client
	command string
	log     *slog.Logger

	hooks        map[string]string
	alertRouting string

	mu        sync.Mutex
	sent      map[string]alertState // by source: what the alert panel last sent
	local     []localMessage        // what Slack shows only in the client
	responses []responseURL         // response_urls handed out, to show what is posted to them
	nextEvent int
}

// localMessage is a message only the playground's page shows: Slack's own
// ephemeral notes ("/foo is not a command"), and slash commands' immediate
// answers, which Slack shows to the person who typed them.
type localMessage struct {
	ts, channel, user string
	text              string
	blocks            json.RawMessage
	inChannel         bool // shown to everyone in the channel
}

// responseURL is a response_url given to Sitrep with a request.
type responseURL struct {
	url, user, channel string
}

// New returns a Playground for cfg.
func New(cfg Config) *Playground {
	if cfg.Command == "" {
		cfg.Command = "/incident"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Playground{
		fake: cfg.Fake,
		client: &client{fake: cfg.Fake, appURL: strings.TrimSuffix(cfg.AppURL, "/"), secret: []byte(cfg.SigningSecret), socket: cfg.Socket,
			http: &http.Client{Timeout: requestTimeout + time.Second}},
		command:      cfg.Command,
		log:          cfg.Log,
		hooks:        cfg.Hooks,
		alertRouting: cfg.AlertRouting,
		sent:         map[string]alertState{},
	}
}

// DemoUsers are the people of the demo workspace.
var DemoUsers = []slackfake.User{
	{ID: "U0ALICE", Name: "alice", RealName: "Alice Adams", TZ: "Europe/Berlin"},
	{ID: "U0BOB", Name: "bob", RealName: "Bob Brown", TZ: "America/New_York"},
	{ID: "U0CAROL", Name: "carol", RealName: "Carol Chen", TZ: "Asia/Singapore"},
	{ID: "U0DAN", Name: "dan", RealName: "Dan Diaz", TZ: "UTC"},
}

// Seed fills fake with the demo workspace: its people, #general, #random,
// and #incidents, where Sitrep announces. It returns #incidents' ID.
func Seed(fake *slackfake.Server) (announce string) {
	var ids []string
	for _, u := range DemoUsers {
		ids = append(ids, fake.AddUser(u))
	}
	general := fake.AddChannel("general", false, ids...)
	fake.AddChannel("random", false, ids...)
	announce = fake.AddChannel("incidents", false, append(ids, fake.BotUserID())...)
	fake.AddMessage(general, ids[0], "Welcome to the Sitrep playground. Everything here is a rehearsal: "+
		"try `/incident declare sev1 Checkout failing`, or `/incident declare` for the form. "+
		"Switch person at the top left to see what others see.")
	return announce
}

// Handler serves the page and its API.
func (p *Playground) Handler() http.Handler {
	mux := http.NewServeMux()
	web, _ := fs.Sub(webFS, "web")
	mux.Handle("GET /", http.FileServerFS(web))
	mux.HandleFunc("GET /api/state", p.handleState)
	mux.HandleFunc("GET /api/file", p.handleFile)
	for path, h := range map[string]func(context.Context, request) (any, error){
		"/api/send":     p.sendMessage,
		"/api/action":   p.action,
		"/api/submit":   p.submit,
		"/api/close":    p.closeView,
		"/api/react":    p.react,
		"/api/shortcut": p.shortcut,
		"/api/join":     p.join,
		"/api/home":     p.openHome,
		"/api/alert":    p.sendAlert,
	} {
		mux.HandleFunc("POST "+path, p.post(h))
	}
	return mux
}

// request is what the page posts; each endpoint reads the fields it needs.
type request struct {
	User       string          `json:"user"`
	Channel    string          `json:"channel"`
	Text       string          `json:"text"`
	MessageTS  string          `json:"message_ts"`
	TS         string          `json:"ts"`
	ViewID     string          `json:"view_id"`
	BlockID    string          `json:"block_id"`
	ActionID   string          `json:"action_id"`
	Type       string          `json:"type"`
	Value      string          `json:"value"`
	Option     *option         `json:"selected_option"`
	Options    []option        `json:"selected_options"`
	User2      string          `json:"selected_user"`
	Values     json.RawMessage `json:"values"`
	Name       string          `json:"name"`
	CallbackID string          `json:"callback_id"`
	Source     string          `json:"source"` // an alert sender, for /api/alert
	Status     string          `json:"status"` // firing or resolved
}

type option struct {
	Value string `json:"value"`
	Text  any    `json:"text"`
}

// errUser is a mistake the page's user can fix; it is shown to them.
type errUser struct{ msg string }

func (e *errUser) Error() string { return e.msg }

func userErrorf(format string, args ...any) error { return &errUser{fmt.Sprintf(format, args...)} }

// post wraps an API endpoint: it reads the request, checks the user, and
// answers {"ok":true,...} or {"ok":false,"error":...}.
func (p *Playground) post(h func(context.Context, request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, obj{"ok": false, "error": "the request is not JSON: " + err.Error()})
			return
		}
		if _, ok := p.fake.User(req.User); !ok || req.User == p.fake.BotUserID() {
			writeJSON(w, http.StatusBadRequest, obj{"ok": false, "error": "pick a person at the top left first"})
			return
		}
		extra, err := h(r.Context(), req)
		var ue *errUser
		switch {
		case errors.As(err, &ue):
			writeJSON(w, http.StatusOK, obj{"ok": false, "error": ue.msg})
		case err != nil:
			p.log.Warn("playground: request to Sitrep failed", "path", r.URL.Path, "err", err)
			writeJSON(w, http.StatusOK, obj{"ok": false, "error": err.Error()})
		default:
			out := obj{"ok": true}
			if m, ok := extra.(obj); ok {
				for k, v := range m {
					out[k] = v
				}
			}
			writeJSON(w, http.StatusOK, out)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// userName is how Slack's payloads name a person: their handle.
func (p *Playground) userName(id string) string {
	if u, ok := p.fake.User(id); ok {
		return u.Name
	}
	return id
}

// displayName is how the page shows a person above their messages.
func (p *Playground) displayName(id string) string {
	if u, ok := p.fake.User(id); ok && u.RealName != "" {
		return u.RealName
	}
	return p.userName(id)
}

// channel returns a channel by ID, or an error the page can show.
func (p *Playground) channel(id string) (slackfake.Channel, error) {
	ch, ok := p.fake.Channel(id)
	if !ok {
		return ch, userErrorf("there is no channel %q", id)
	}
	return ch, nil
}

// channelFor returns a channel user can see, as Slack's client shows
// only those: a public channel, or a private one they are in. The page is
// a client like any other, so what it asks for is checked, not trusted.
func (p *Playground) channelFor(id, user string) (slackfake.Channel, error) {
	ch, err := p.channel(id)
	if err != nil {
		return ch, err
	}
	if ch.Private && !slices.Contains(ch.Members, user) {
		return ch, userErrorf("there is no channel %q", id) // Slack does not say a private channel exists
	}
	return ch, nil
}

// viewFor returns a view open for user: Slack sends a form's actions and
// submission only from the person it was opened for.
func (p *Playground) viewFor(id, user string) (slackfake.View, error) {
	v, ok := p.fake.View(id)
	if !ok || v.User != user {
		return v, userErrorf("that form is closed")
	}
	return v, nil
}

// message returns a message and its channel, if user can see them, or an
// error the page can show.
func (p *Playground) message(channel, ts, user string) (slackfake.Channel, slackfake.Message, error) {
	ch, err := p.channelFor(channel, user)
	if err != nil {
		return ch, slackfake.Message{}, err
	}
	m, ok := p.fake.Message(ch.ID, ts)
	if !ok {
		return ch, m, userErrorf("that message is gone")
	}
	return ch, m, nil
}

// addLocal shows a message in the page only, as Slack's client does with
// ephemeral answers.
func (p *Playground) addLocal(m localMessage) {
	if m.ts == "" {
		m.ts = slackpayload.Now()
	}
	p.mu.Lock()
	p.local = append(p.local, m)
	p.mu.Unlock()
}

// newResponseURL hands out a response_url and remembers whose it is.
func (p *Playground) newResponseURL(user, channel string) string {
	u := p.fake.NewResponseURL()
	p.mu.Lock()
	p.responses = append(p.responses, responseURL{url: u, user: user, channel: channel})
	p.mu.Unlock()
	return u
}

// showAnswer shows what Sitrep answered a request with, if it is a
// message (slash commands answer with one).
func (p *Playground) showAnswer(a answer, user, channel string) {
	if len(a.body) == 0 {
		return
	}
	var m struct {
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
		ResponseType string          `json:"response_type"`
	}
	if json.Unmarshal(a.body, &m) != nil {
		// Slack shows a plain-text answer as it is.
		p.addLocal(localMessage{channel: channel, user: user, text: string(a.body)})
		return
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		return
	}
	p.addLocal(localMessage{channel: channel, user: user, text: m.Text, blocks: m.Blocks, inChannel: m.ResponseType == "in_channel"})
}

// sendMessage posts what was typed in the composer: a slash command for
// Sitrep, or a message in the channel.
func (p *Playground) sendMessage(ctx context.Context, req request) (any, error) {
	ch, err := p.channelFor(req.Channel, req.User)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(req.Text)
	if text == "" {
		return nil, userErrorf("type a message or a command first")
	}
	if strings.HasPrefix(text, "/") {
		cmd, args, _ := strings.Cut(text, " ")
		if cmd != p.command {
			p.addLocal(localMessage{channel: ch.ID, user: req.User, text: fmt.Sprintf("`%s` is not a valid command. In the playground, Sitrep's command is `%s`.", cmd, p.command)})
			return nil, nil
		}
		name := ch.Name
		if p.isDM(ch) {
			name = "directmessage" // what Slack sends for a command typed in a DM
		}
		sc := slashCommand{
			user: req.User, userName: p.userName(req.User), channel: ch.ID, channelName: name,
			command: cmd, text: escapeTyped(strings.TrimSpace(args), p.fake),
			responseURL: p.newResponseURL(req.User, ch.ID), triggerID: p.fake.NewTriggerIDFor(req.User),
		}
		a, err := p.client.slash(ctx, sc)
		if err != nil {
			return nil, err
		}
		p.showAnswer(a, req.User, ch.ID)
		return nil, nil
	}
	if !slices.Contains(ch.Members, req.User) {
		return nil, userErrorf("join #%s to write in it", ch.Name)
	}
	p.fake.AddMessage(ch.ID, req.User, escapeTyped(text, p.fake))
	return nil, nil
}

// action delivers a click or a choice on a control in a message, the App
// Home or a modal, as a block_actions payload.
func (p *Playground) action(ctx context.Context, req request) (any, error) {
	act := obj{"action_id": req.ActionID, "block_id": req.BlockID, "type": req.Type, "action_ts": slackpayload.Now()}
	switch req.Type {
	case "button":
		act["value"] = req.Value
		act["text"] = obj{"type": "plain_text", "text": req.Value, "emoji": true}
	case "static_select", "radio_buttons", "overflow":
		if req.Option == nil {
			return nil, userErrorf("choose an option")
		}
		act["selected_option"] = optionObj(*req.Option)
	case "users_select":
		if req.User2 == "" {
			return nil, userErrorf("choose a person")
		}
		act["selected_user"] = req.User2
	case "checkboxes":
		opts := []any{}
		for _, o := range req.Options {
			opts = append(opts, optionObj(o))
		}
		act["selected_options"] = opts
	default:
		return nil, userErrorf("the playground does not know the control type %q", req.Type)
	}
	var pl obj
	if req.ViewID != "" {
		v, err := p.viewFor(req.ViewID, req.User)
		if err != nil {
			return nil, err
		}
		pl = slackpayload.ViewAction(p.fake, req.User, v, act)
	} else {
		ch, err := p.channelFor(req.Channel, req.User)
		if err != nil {
			return nil, err
		}
		pl = slackpayload.MessageAction(p.fake, req.User, ch.ID, req.MessageTS, p.newResponseURL(req.User, ch.ID), act)
	}
	_, err := p.client.interact(ctx, pl)
	return nil, err
}

func optionObj(o option) obj {
	text := o.Text
	if s, ok := text.(string); ok || text == nil {
		text = obj{"type": "plain_text", "text": s, "emoji": true}
	}
	return obj{"value": o.Value, "text": text}
}

// submit delivers a modal's submission and closes the modal unless Sitrep
// answers with errors to show in it.
func (p *Playground) submit(ctx context.Context, req request) (any, error) {
	v, err := p.viewFor(req.ViewID, req.User)
	if err != nil || v.Type != "modal" {
		return nil, userErrorf("that form is closed")
	}
	var values obj
	if err := json.Unmarshal(req.Values, &values); err != nil || values == nil {
		return nil, userErrorf("the form's values are not Slack's view.state.values")
	}
	pl := slackpayload.Submission(p.fake, req.User, v, values)
	a, err := p.client.interact(ctx, pl)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if len(a.body) > 0 && json.Unmarshal(a.body, &resp) == nil && resp.Action == "errors" {
		return obj{"ok": false, "errors": resp.Errors}, nil
	}
	// An empty answer closes the modal. Sitrep answers "update" only for
	// forms it no longer knows, which the playground cannot show.
	p.fake.CloseView(v.ID)
	if resp.Action != "" {
		return nil, userErrorf("Sitrep did not take the form (it answered %q); open it again", resp.Action)
	}
	return nil, nil
}

// closeView closes a modal, as its Cancel button does.
func (p *Playground) closeView(ctx context.Context, req request) (any, error) {
	if _, err := p.viewFor(req.ViewID, req.User); err != nil {
		return nil, err
	}
	p.fake.CloseView(req.ViewID)
	return nil, nil
}

// eventID is a new Events API event_id.
func (p *Playground) eventID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextEvent++
	return fmt.Sprintf("Ev0PLAY%06d", p.nextEvent)
}

// react adds a reaction to a message and, as Slack does for the channels
// Sitrep is in, sends the reaction_added event.
func (p *Playground) react(ctx context.Context, req request) (any, error) {
	ch, m, err := p.message(req.Channel, req.TS, req.User)
	if err != nil {
		return nil, err
	}
	name := strings.Trim(req.Name, ":")
	if name == "" {
		name = "pushpin"
	}
	if !p.fake.AddReaction(ch.ID, m.TS, req.User, name) || !slices.Contains(ch.Members, p.fake.BotUserID()) {
		return nil, nil // nothing new, or Sitrep would not hear of it
	}
	pl := slackpayload.Reaction(p.fake, p.eventID(), req.User, name, ch.ID, m.TS)
	_, err = p.client.event(ctx, pl)
	return nil, err
}

// shortcut delivers a message shortcut used on a message.
func (p *Playground) shortcut(ctx context.Context, req request) (any, error) {
	ch, m, err := p.message(req.Channel, req.TS, req.User)
	if err != nil {
		return nil, err
	}
	pl := slackpayload.Shortcut(p.fake, req.User, ch.ID, req.CallbackID, p.newResponseURL(req.User, ch.ID), m)
	_, err = p.client.interact(ctx, pl)
	return nil, err
}

// join puts the user in a public channel.
func (p *Playground) join(ctx context.Context, req request) (any, error) {
	ch, err := p.channel(req.Channel)
	if err != nil {
		return nil, err
	}
	if ch.Private && !slices.Contains(ch.Members, req.User) {
		return nil, userErrorf("#%s is private: someone in it must invite you", ch.Name)
	}
	if ch.Archived {
		return nil, userErrorf("#%s is archived", ch.Name)
	}
	p.fake.AddMember(ch.ID, req.User)
	return nil, nil
}

// openHome sends app_home_opened, as Slack does when a person opens
// Sitrep's Home tab.
func (p *Playground) openHome(ctx context.Context, req request) (any, error) {
	pl := slackpayload.HomeOpened(p.fake, p.eventID(), req.User)
	_, err := p.client.event(ctx, pl)
	return nil, err
}

// dmName is how the page names a direct message with Sitrep, as Slack's
// client names one by the person (here, the app) on the other side.
const dmName = "Sitrep"

// isDM reports whether ch is a direct message between Sitrep and a
// person: Slack's "D…" conversations, which have no name.
func (p *Playground) isDM(ch slackfake.Channel) bool {
	for _, u := range ch.Members {
		if dm, ok := p.fake.DM(u); ok && dm == ch.ID {
			return true
		}
	}
	return false
}

// handleFile serves an uploaded file's contents: the postmortems.
func (p *Playground) handleFile(w http.ResponseWriter, r *http.Request) {
	f, ok := p.fake.File(r.URL.Query().Get("id"))
	if !ok || f.Content == nil {
		http.NotFound(w, r)
		return
	}
	ct := "text/plain; charset=utf-8"
	if strings.HasSuffix(f.Name, ".md") {
		ct = "text/markdown; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", "inline; filename="+strconv.Quote(f.Name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(f.Content)
}

// state is what the page shows one person.
type state struct {
	Workspace string         `json:"workspace"`
	Version   string         `json:"version"`
	Me        string         `json:"me"`
	Users     []stateUser    `json:"users"`
	Channels  []stateChannel `json:"channels"`
	// DMs are me's direct messages with Sitrep: where pages arrive. Slack
	// opens one only when Sitrep first writes, so the list is empty until
	// then.
	DMs     []stateChannel `json:"dms"`
	Channel *channelView   `json:"channel"`
	Home    *blocksView    `json:"home"`
	Modal   *modalView     `json:"modal"`
	Command string         `json:"command"` // Sitrep's slash command, for the composer's hint
	// Alerts is the alert panel; nil when no alert source is on.
	Alerts *alertsView `json:"alerts"`
	// Since is the time of the page's first look (a Slack timestamp):
	// ephemeral messages older than that are not shown, as Slack forgets
	// them when its client reloads.
	Since string `json:"since,omitempty"`
}

type stateUser struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	RealName string `json:"real_name"`
}

type stateChannel struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Private  bool   `json:"private"`
	Member   bool   `json:"member"`
	Archived bool   `json:"archived"`
	// Incident is set for channels Sitrep made: its incidents'.
	Incident bool `json:"incident"`
	// DM is set for a direct message with Sitrep; its Name is Sitrep's.
	DM bool `json:"dm"`
}

type channelView struct {
	stateChannel
	Topic    string        `json:"topic"`
	Messages []messageView `json:"messages"`
}

type messageView struct {
	TS         string          `json:"ts"`
	User       string          `json:"user"`
	UserName   string          `json:"user_name"`
	Bot        bool            `json:"bot"`
	Text       string          `json:"text"`
	Blocks     json.RawMessage `json:"blocks"`
	Subtype    string          `json:"subtype"`
	Pinned     bool            `json:"pinned"`
	Ephemeral  bool            `json:"ephemeral"`
	Reactions  []reactionView  `json:"reactions"`
	Files      []fileView      `json:"files"`
	ThreadTS   string          `json:"thread_ts"`
	ReplyCount int             `json:"reply_count"`
}

type reactionView struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Users []string `json:"users"`
}

type fileView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
}

type blocksView struct {
	ID     string          `json:"id"`
	Blocks json.RawMessage `json:"blocks"`
}

type modalView struct {
	ID     string          `json:"id"`
	Title  string          `json:"title"`
	Submit string          `json:"submit"`
	Close  string          `json:"close"`
	Blocks json.RawMessage `json:"blocks"`
}

func (p *Playground) handleState(w http.ResponseWriter, r *http.Request) {
	me := r.URL.Query().Get("user")
	if _, ok := p.fake.User(me); !ok || me == p.fake.BotUserID() {
		me = DemoUsers[0].ID
	}
	// The page asks with since=now on its first look and sends the time it
	// was given afterwards; without since, every ephemeral message is
	// shown (for tools and tests reading the API).
	since := r.URL.Query().Get("since")
	if since == "now" {
		since = slackpayload.Now()
	}
	st := p.state(me, r.URL.Query().Get("channel"), since)
	data, _ := json.Marshal(st)
	sum := sha256.Sum256(data)
	st.Version = hex.EncodeToString(sum[:8])
	writeJSON(w, http.StatusOK, st)
}

// state builds what me sees with channel (an ID, or "home") open, with
// the ephemeral messages from since on ("" for all).
func (p *Playground) state(me, open, since string) *state {
	st := &state{Workspace: Workspace, Me: me, Command: p.command, Since: since, Alerts: p.alerts()}
	for _, u := range p.fake.Users() {
		if !u.IsBot {
			st.Users = append(st.Users, stateUser{ID: u.ID, Name: u.Name, RealName: u.RealName})
		}
	}
	chans := p.fake.Channels()
	slices.SortFunc(chans, func(a, b slackfake.Channel) int { return strings.Compare(a.Name, b.Name) })
	for _, ch := range chans {
		member := slices.Contains(ch.Members, me)
		if ch.Private && !member {
			continue
		}
		st.Channels = append(st.Channels, stateChannel{ID: ch.ID, Name: ch.Name, Private: ch.Private, Member: member, Archived: ch.Archived,
			Incident: ch.Creator == p.fake.BotUserID()})
	}
	if dm, ok := p.fake.DM(me); ok {
		st.DMs = append(st.DMs, stateChannel{ID: dm, Name: dmName, Private: true, Member: true, DM: true})
	}
	switch {
	case open == "home":
		if v, ok := p.fake.HomeView(me); ok {
			st.Home = &blocksView{ID: v.ID, Blocks: v.Blocks}
		}
	case open != "":
		if ch, ok := p.fake.Channel(open); ok && (!ch.Private || slices.Contains(ch.Members, me)) {
			st.Channel = p.channelView(ch, me, since)
		}
	}
	st.Modal = p.topModal(me)
	return st
}

func (p *Playground) channelView(ch slackfake.Channel, me, since string) *channelView {
	cv := &channelView{
		stateChannel: stateChannel{ID: ch.ID, Name: ch.Name, Private: ch.Private, Member: slices.Contains(ch.Members, me), Archived: ch.Archived,
			Incident: ch.Creator == p.fake.BotUserID() && !p.isDM(ch)},
		Topic: ch.Topic,
	}
	if p.isDM(ch) {
		cv.Name, cv.DM = dmName, true
	}
	pinned := map[string]bool{}
	for _, ts := range p.fake.Pins(ch.ID) {
		pinned[ts] = true
	}
	for _, m := range p.fake.Messages(ch.ID) {
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			continue // replies live in their thread; the parent shows how many
		}
		mv := messageView{TS: m.TS, User: m.User, UserName: p.displayName(m.User), Bot: m.BotID != "" || m.User == p.fake.BotUserID(), Text: m.Text, Blocks: m.Blocks,
			Subtype: m.Subtype, Pinned: pinned[m.TS], ThreadTS: m.ThreadTS}
		if mv.Bot {
			mv.UserName = "Sitrep"
		}
		for _, r := range m.Reactions {
			mv.Reactions = append(mv.Reactions, reactionView{Name: r.Name, Count: len(r.Users), Users: r.Users})
		}
		for _, id := range m.Files {
			if f, ok := p.fake.File(id); ok {
				mv.Files = append(mv.Files, fileView{ID: f.ID, Name: f.Name, Title: f.Title})
			}
		}
		cv.Messages = append(cv.Messages, mv)
	}
	for _, e := range p.fake.Ephemerals(ch.ID) {
		if e.User == me && fresh(e.TS, since) {
			cv.Messages = append(cv.Messages, messageView{TS: e.TS, User: p.fake.BotUserID(), UserName: "Sitrep", Bot: true, Text: e.Text, Blocks: e.Blocks, Ephemeral: true})
		}
	}
	p.mu.Lock()
	local := slices.Clone(p.local)
	urls := slices.Clone(p.responses)
	p.mu.Unlock()
	for _, l := range local {
		if l.channel == ch.ID && (l.inChannel || l.user == me && fresh(l.ts, since)) {
			cv.Messages = append(cv.Messages, messageView{TS: l.ts, User: p.fake.BotUserID(), UserName: "Sitrep", Bot: true, Text: l.text, Blocks: l.blocks, Ephemeral: !l.inChannel})
		}
	}
	for _, u := range urls {
		if u.channel != ch.ID {
			continue
		}
		for i, r := range p.fake.Responses(u.url) {
			ts := fmt.Sprintf("%d.%06d", r.At.Unix(), r.At.Nanosecond()/1000+i)
			if r.ResponseType != "in_channel" && (u.user != me || !fresh(ts, since)) {
				continue
			}
			cv.Messages = append(cv.Messages, messageView{TS: ts, User: p.fake.BotUserID(), UserName: "Sitrep", Bot: true, Text: r.Text, Blocks: r.Blocks, Ephemeral: r.ResponseType != "in_channel"})
		}
	}
	slices.SortStableFunc(cv.Messages, func(a, b messageView) int { return compareTS(a.TS, b.TS) })
	return cv
}

// fresh reports whether an ephemeral message posted at ts is still shown
// to a page that first looked at since ("" shows all).
func fresh(ts, since string) bool { return since == "" || compareTS(ts, since) >= 0 }

// compareTS orders Slack timestamps ("1700000000.000100") by time.
func compareTS(a, b string) int {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	if len(as) != len(bs) {
		return len(as) - len(bs)
	}
	if c := strings.Compare(as, bs); c != 0 {
		return c
	}
	return strings.Compare(af, bf)
}

// topModal returns the modal me sees: the top of their newest stack.
func (p *Playground) topModal(me string) *modalView {
	views := p.fake.Views()
	for i := len(views) - 1; i >= 0; i-- {
		v := views[i]
		if v.Type != "modal" || v.User != me {
			continue
		}
		var raw struct {
			Title, Submit, Close struct {
				Text string `json:"text"`
			}
		}
		json.Unmarshal(v.Raw, &raw)
		return &modalView{ID: v.ID, Title: raw.Title.Text, Submit: raw.Submit.Text, Close: raw.Close.Text, Blocks: v.Blocks}
	}
	return nil
}
