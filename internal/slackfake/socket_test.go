package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// waitTimeout bounds every wait for something asynchronous.
const waitTimeout = 10 * time.Second

// Payloads from testdata/shared/slack-payloads/socket-mode-envelopes.json
// (the repository's copy of shared/slack-payloads).
const (
	appMentionPayload = `{"token":"verification-token-0000","team_id":"T111","api_app_id":"A111",
		"event":{"client_msg_id":"f0582a78-72db-4feb-b2f3-1e47d66365c8","type":"app_mention","text":"<@U111>","user":"U222",
		"ts":"1610241741.000200","team":"T111","channel":"C111","event_ts":"1610241741.000200"},
		"type":"event_callback","event_id":"Ev111","event_time":1610241741,
		"authorizations":[{"enterprise_id":null,"team_id":"T111","user_id":"U222","is_bot":true,"is_enterprise_install":false}],
		"is_ext_shared_channel":false,"event_context":"1-app_mention-T111-C111"}`
	slashPayload = `{"token":"verification-token-0000","team_id":"T111","team_domain":"xxx","channel_id":"C111",
		"channel_name":"random","user_id":"U111","user_name":"testxyz","command":"/hello-socket-mode","text":"",
		"api_app_id":"A111","response_url":"https://hooks.slack.com/commands/T111/111/xxx","trigger_id":"111.222.xxx"}`
	blockActionsPayload = `{"type":"block_actions","user":{"id":"U111","username":"test","name":"test","team_id":"T111"},
		"api_app_id":"A111","token":"verification-token-0000",
		"container":{"type":"message","message_ts":"1605853634.000400","channel_id":"C111","is_ephemeral":false},
		"trigger_id":"111.222.xxx","team":{"id":"T111","domain":"test"},"channel":{"id":"C111","name":"random"},
		"response_url":"https://hooks.slack.com/actions/T111/111/xxx",
		"actions":[{"action_id":"a","block_id":"b","text":{"type":"plain_text","text":"Click Me!","emoji":true},
		"value":"underlying","type":"button","action_ts":"1605853645.582706"}]}`
	viewSubmissionPayload = `{"type":"view_submission","team":{"id":"T111"},"user":{"id":"U111"},
		"view":{"id":"V123ABC456","type":"modal","callback_id":"modal-with-inputs","private_metadata":"shhh-its-secret",
		"state":{"values":{"multi-line":{"ml-value":{"type":"plain_text_input","value":"Archaic torso of Apollo"}}}},
		"hash":"156663117.cd33ad1f"}}`
)

// socketBot runs slack-go's socketmode client against a fake. It forwards
// every event to events and acks the requests it is given with the payload
// ack returns (no ack when ok is false).
type socketBot struct {
	client *socketmode.Client
	events chan socketmode.Event
	cancel context.CancelFunc
	run    chan error // RunContext's result
	loop   chan struct{}
}

func startSocketBot(t *testing.T, s *Server, appToken string, ack func(socketmode.Event) (payload any, ok bool)) *socketBot {
	t.Helper()
	api := slack.New(s.BotToken(), slack.OptionAppLevelToken(appToken), slack.OptionAPIURL(s.URL()),
		// Debug makes slack-go append debug_reconnects=true to the URL.
		slack.OptionDebug(true), slack.OptionLog(log.New(io.Discard, "", 0)))
	ctx, cancel := context.WithCancel(context.Background())
	b := &socketBot{
		client: socketmode.New(api),
		events: make(chan socketmode.Event, 100),
		cancel: cancel,
		run:    make(chan error, 1),
		loop:   make(chan struct{}),
	}
	go func() { b.run <- b.client.RunContext(ctx) }()
	go func() {
		defer close(b.loop)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-b.client.Events:
				select {
				case b.events <- evt:
				case <-ctx.Done():
					return
				}
				switch evt.Type {
				case socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive, socketmode.EventTypeSlashCommand:
					if payload, ok := ack(evt); ok {
						if err := b.client.Ack(*evt.Request, payload); err != nil {
							t.Errorf("Ack: %v", err)
						}
					}
				}
			}
		}
	}()
	t.Cleanup(b.stop)
	return b
}

// stop cancels the client and waits for its goroutines.
func (b *socketBot) stop() {
	b.cancel()
	<-b.loop
	select {
	case <-b.run:
	case <-time.After(waitTimeout):
		panic("socketmode client did not stop")
	}
	b.run <- context.Canceled // for a second stop
}

// next returns the next event of type typ, skipping others.
func (b *socketBot) next(t *testing.T, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		select {
		case evt := <-b.events:
			if evt.Type == typ {
				return evt
			}
		case <-deadline.C:
			t.Fatalf("no %s event within %v", typ, waitTimeout)
		}
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// ackAll acks slash commands with a message, view submissions with errors,
// and anything else without a payload.
func ackAll(evt socketmode.Event) (any, bool) {
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		return map[string]string{"text": "ack " + data.Command}, true
	case slack.InteractionCallback:
		if data.Type == slack.InteractionTypeViewSubmission {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{"multi-line": "Too short"}), true
		}
	}
	return nil, true
}

func TestSocketMode(t *testing.T) {
	s, _, _ := newFake(t)
	b := startSocketBot(t, s, s.AppToken(), ackAll)
	if err := s.WaitSocket(ctxTimeout(t, waitTimeout)); err != nil {
		t.Fatal(err)
	}
	if !s.SocketConnected() {
		t.Error("SocketConnected() = false after WaitSocket")
	}
	hello := b.next(t, socketmode.EventTypeHello)
	if hello.Request.ConnectionInfo.AppID != DefaultAppID || hello.Request.NumConnections != 1 || hello.Request.DebugInfo.Host == "" {
		t.Errorf("hello = %+v", hello.Request)
	}

	tests := []struct {
		name, envelopeType, payload string
		accepts                     bool
		wantType                    socketmode.EventType
		wantAck                     string
		check                       func(t *testing.T, data any)
	}{
		{
			name: "slash command", envelopeType: "slash_commands", payload: slashPayload, accepts: true,
			wantType: socketmode.EventTypeSlashCommand, wantAck: `{"text":"ack /hello-socket-mode"}`,
			check: func(t *testing.T, data any) {
				if cmd, ok := data.(slack.SlashCommand); !ok || cmd.Command != "/hello-socket-mode" || cmd.TriggerID != "111.222.xxx" {
					t.Errorf("data = %#v", data)
				}
			},
		},
		{
			name: "block actions", envelopeType: "interactive", payload: blockActionsPayload,
			wantType: socketmode.EventTypeInteractive,
			check: func(t *testing.T, data any) {
				cb, ok := data.(slack.InteractionCallback)
				if !ok || cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 ||
					cb.ActionCallback.BlockActions[0].ActionID != "a" {
					t.Errorf("data = %#v", data)
				}
			},
		},
		{
			name: "view submission", envelopeType: "interactive", payload: viewSubmissionPayload, accepts: true,
			wantType: socketmode.EventTypeInteractive, wantAck: `{"response_action":"errors","errors":{"multi-line":"Too short"}}`,
			check: func(t *testing.T, data any) {
				cb, ok := data.(slack.InteractionCallback)
				if !ok || cb.View.State.Values["multi-line"]["ml-value"].Value != "Archaic torso of Apollo" {
					t.Errorf("data = %#v", data)
				}
			},
		},
		{
			name: "events API", envelopeType: "events_api", payload: appMentionPayload,
			wantType: socketmode.EventTypeEventsAPI,
			check: func(t *testing.T, data any) {
				ev, ok := data.(slackevents.EventsAPIEvent)
				if !ok || ev.Type != slackevents.CallbackEvent || ev.InnerEvent.Type != "app_mention" {
					t.Errorf("data = %#v", data)
					return
				}
				if m, ok := ev.InnerEvent.Data.(*slackevents.AppMentionEvent); !ok || m.Channel != "C111" {
					t.Errorf("inner event = %#v", ev.InnerEvent.Data)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ack, err := s.SocketSend(ctxTimeout(t, 3*time.Second), tt.envelopeType, json.RawMessage(tt.payload), tt.accepts)
			if err != nil {
				t.Fatal(err)
			}
			if string(ack) != tt.wantAck {
				t.Errorf("ack payload = %s, want %s", ack, tt.wantAck)
			}
			evt := b.next(t, tt.wantType)
			if evt.Request.Type != tt.envelopeType || evt.Request.AcceptsResponsePayload != tt.accepts || evt.Request.EnvelopeID == "" {
				t.Errorf("request = %+v", evt.Request)
			}
			tt.check(t, evt.Data)
		})
	}
	if n := len(s.Calls(appsConnectionsOpen)); n != 1 {
		t.Errorf("apps.connections.open called %d times, want 1", n)
	}
}

func TestSocketSendTimeouts(t *testing.T) {
	s, _, _ := newFake(t)
	t.Run("no client", func(t *testing.T) {
		_, err := s.SocketSend(ctxTimeout(t, 50*time.Millisecond), "events_api", json.RawMessage(appMentionPayload), false)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no Socket Mode client") {
			t.Errorf("SocketSend() error = %v", err)
		}
		if err := s.WaitSocket(ctxTimeout(t, 50*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitSocket() error = %v", err)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		if _, err := s.SocketSend(context.Background(), "interactive", json.RawMessage(`{`), false); err == nil {
			t.Error("SocketSend() accepted a payload that is not JSON")
		}
	})
	t.Run("no ack", func(t *testing.T) {
		b := startSocketBot(t, s, s.AppToken(), func(evt socketmode.Event) (any, bool) {
			return nil, evt.Type != socketmode.EventTypeInteractive // never acks interactions
		})
		if err := s.WaitSocket(ctxTimeout(t, waitTimeout)); err != nil {
			t.Fatal(err)
		}
		_, err := s.SocketSend(ctxTimeout(t, 100*time.Millisecond), "interactive", json.RawMessage(blockActionsPayload), false)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no ack") {
			t.Errorf("SocketSend() error = %v", err)
		}
		b.next(t, socketmode.EventTypeInteractive) // it was delivered
		if _, err := s.SocketSend(ctxTimeout(t, 3*time.Second), "events_api", json.RawMessage(appMentionPayload), false); err != nil {
			t.Errorf("SocketSend() after a missed ack: %v", err)
		}
	})
}

func TestSocketReconnect(t *testing.T) {
	s, _, _ := newFake(t)
	b := startSocketBot(t, s, s.AppToken(), ackAll)
	if err := s.WaitSocket(ctxTimeout(t, waitTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SocketSend(ctxTimeout(t, 3*time.Second), "slash_commands", json.RawMessage(slashPayload), true); err != nil {
		t.Fatal(err)
	}
	s.SocketDisconnect("refresh_requested")
	// slack-go does not emit the disconnect as an event: it reconnects.
	connected := b.next(t, socketmode.EventTypeConnected)
	for connected.Data.(*socketmode.ConnectedEvent).ConnectionCount != 1 {
		connected = b.next(t, socketmode.EventTypeConnected)
	}
	if err := s.WaitSocket(ctxTimeout(t, waitTimeout)); err != nil {
		t.Fatal(err)
	}
	ack, err := s.SocketSend(ctxTimeout(t, 3*time.Second), "slash_commands", json.RawMessage(slashPayload), true)
	if err != nil || string(ack) != `{"text":"ack /hello-socket-mode"}` {
		t.Errorf("SocketSend() after reconnecting = %s, %v", ack, err)
	}
	if n := len(s.Calls(appsConnectionsOpen)); n != 2 {
		t.Errorf("apps.connections.open called %d times, want 2", n)
	}
}

func TestSocketAuth(t *testing.T) {
	s, _, _ := newFake(t, WithAppToken("xapp-1-custom"))
	form, js := "application/x-www-form-urlencoded", "application/json"
	tests := []struct {
		name, method, ctype, auth, body string
		want                            string
	}{
		{"app token", appsConnectionsOpen, js, "xapp-1-custom", "", `"ok":true`},
		{"no token", appsConnectionsOpen, js, "", "", `"error":"not_authed"`},
		{"bot token", appsConnectionsOpen, js, s.BotToken(), "", `"error":"not_allowed_token_type"`},
		{"wrong app token", appsConnectionsOpen, js, DefaultAppToken, "", `"error":"invalid_auth"`},
		{"app token as a form field", appsConnectionsOpen, form, "", "token=xapp-1-custom", `"error":"invalid_auth"`},
		{"app token on another method", "auth.test", form, "xapp-1-custom", "", `"error":"not_allowed_token_type"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rawCall(t, "POST", s.URL()+tt.method, tt.ctype, tt.auth, tt.body)
			if status != http.StatusOK || !strings.Contains(body, tt.want) {
				t.Errorf("%s = %d %s, want 200 containing %s", tt.method, status, body, tt.want)
			}
		})
	}

	t.Run("slack-go", func(t *testing.T) {
		api := slack.New(s.BotToken(), slack.OptionAppLevelToken("xapp-1-custom"), slack.OptionAPIURL(s.URL()))
		_, u, err := api.StartSocketModeContext(context.Background())
		if err != nil || !regexp.MustCompile(`^ws://127\.0\.0\.1:\d+/socket/[0-9a-f]+$`).MatchString(u) {
			t.Errorf("StartSocketModeContext() = %q, %v", u, err)
		}
	})
	t.Run("slack-go gives up on invalid_auth", func(t *testing.T) {
		api := slack.New(s.BotToken(), slack.OptionAppLevelToken("xapp-wrong"), slack.OptionAPIURL(s.URL()))
		client := socketmode.New(api)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		drained := make(chan struct{})
		defer func() { cancel(); <-drained }()
		go func() {
			defer close(drained)
			for {
				select {
				case <-client.Events:
				case <-ctx.Done():
					return
				}
			}
		}()
		err := client.RunContext(ctx)
		if err == nil || err.Error() != "invalid_auth" {
			t.Errorf("RunContext() = %v, want invalid_auth", err)
		}
	})
	t.Run("slack-go retries not_allowed_token_type", func(t *testing.T) {
		b := startSocketBot(t, s, s.BotToken(), ackAll)
		evt := b.next(t, socketmode.EventTypeConnectionError)
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); !ok || slackErr(t, e.ErrorObj) != "not_allowed_token_type" {
			t.Errorf("connection error = %#v", evt.Data)
		}
		b.stop()
		if s.SocketConnected() {
			t.Error("a client connected with the bot token")
		}
	})
}

// rawSocket is a bare gorilla client of the fake's Socket Mode endpoint.
type rawSocket struct {
	ws    *websocket.Conn
	msgs  chan []byte // closed when reading fails
	err   error       // the read error, set before msgs is closed
	pings chan struct{}
}

func dialSocket(t *testing.T, s *Server) (*rawSocket, string) {
	t.Helper()
	_, body := rawCall(t, "POST", s.URL()+appsConnectionsOpen, "application/json", s.AppToken(), "")
	var open struct {
		OK  bool   `json:"ok"`
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(body), &open); err != nil || !open.OK {
		t.Fatalf("apps.connections.open = %s", body)
	}
	hdr := http.Header{"Origin": {"https://api.slack.com"}}
	ws, resp, err := websocket.DefaultDialer.Dial(open.URL+"?debug_reconnects=true", hdr)
	if err != nil {
		t.Fatalf("Dial(%s) = %v, %+v", open.URL, err, resp)
	}
	_ = resp.Body.Close()
	r := &rawSocket{ws: ws, msgs: make(chan []byte, 10), pings: make(chan struct{}, 1)}
	ws.SetPingHandler(func(data string) error {
		select {
		case r.pings <- struct{}{}:
		default:
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		defer close(r.msgs)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				r.err = err
				return
			}
			r.msgs <- data
		}
	}()
	t.Cleanup(func() { _ = ws.Close() })
	return r, open.URL
}

// next returns the next message as a map.
func (r *rawSocket) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case data, ok := <-r.msgs:
		if !ok {
			t.Fatalf("connection closed: %v", r.err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("message %s: %v", data, err)
		}
		return m
	case <-time.After(waitTimeout):
		t.Fatal("no message")
	}
	return nil
}

func jsonMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSocketWire(t *testing.T) {
	s, _, _ := newFake(t, WithSocketPingInterval(20*time.Millisecond))
	r, u := dialSocket(t, s)
	wantHello := `{"type":"hello","num_connections":1,"debug_info":{"host":"applink-fake","build_number":1,"approximate_connection_time":18060},"connection_info":{"app_id":"A0FAKEAPP"}}`
	if diff := cmp.Diff(jsonMap(t, wantHello), r.next(t)); diff != "" {
		t.Errorf("hello mismatch (-want +got):\n%s", diff)
	}
	select {
	case <-r.pings:
	case <-time.After(waitTimeout):
		t.Error("no ping")
	}

	t.Run("ticket is single-use", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(u, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("second Dial = %v, %+v; want 404", err, resp)
		}
	})

	type sent struct {
		ack json.RawMessage
		err error
	}
	for _, tt := range []struct {
		name, envelopeType string
		accepts            bool
		ack                string
		wantAck            string
		extra              map[string]any
	}{
		{"events_api", "events_api", false, `"ENV"`, "", map[string]any{"retry_attempt": 0.0, "retry_reason": ""}},
		{"interactive with payload", "interactive", true, `"ENV","payload":{"response_action":"clear"}`, `{"response_action":"clear"}`, nil},
		{"null payload", "slash_commands", true, `"ENV","payload":null`, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan sent, 1)
			go func() {
				ack, err := s.SocketSend(context.Background(), tt.envelopeType, json.RawMessage(`{"k":"v"}`), tt.accepts)
				done <- sent{ack, err}
			}()
			env := r.next(t)
			id, _ := env["envelope_id"].(string)
			if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
				t.Errorf("envelope_id = %q, want a UUID", id)
			}
			want := map[string]any{"envelope_id": id, "type": tt.envelopeType, "payload": map[string]any{"k": "v"}, "accepts_response_payload": tt.accepts}
			for k, v := range tt.extra {
				want[k] = v
			}
			if diff := cmp.Diff(want, env); diff != "" {
				t.Errorf("envelope mismatch (-want +got):\n%s", diff)
			}
			// An ack for another envelope is ignored.
			if err := r.ws.WriteMessage(websocket.TextMessage, []byte(`{"envelope_id":"other"}`)); err != nil {
				t.Fatal(err)
			}
			ack := `{"envelope_id":` + strings.Replace(tt.ack, `"ENV"`, `"`+id+`"`, 1) + `}`
			if err := r.ws.WriteMessage(websocket.TextMessage, []byte(ack)); err != nil {
				t.Fatal(err)
			}
			got := <-done
			if got.err != nil || string(got.ack) != tt.wantAck {
				t.Errorf("SocketSend() = %s, %v; want %s", got.ack, got.err, tt.wantAck)
			}
		})
	}

	s.SocketDisconnect("warning")
	want := jsonMap(t, `{"type":"disconnect","reason":"warning","debug_info":{"host":"applink-fake"}}`)
	if diff := cmp.Diff(want, r.next(t)); diff != "" {
		t.Errorf("disconnect mismatch (-want +got):\n%s", diff)
	}
	if s.SocketConnected() {
		t.Error("SocketConnected() after SocketDisconnect")
	}

	// Close closes the connection with a close frame, and SocketSend fails.
	pending := make(chan error, 1)
	go func() {
		_, err := s.SocketSend(context.Background(), "interactive", json.RawMessage(`{}`), false)
		pending <- err
	}()
	s.Close()
	if _, ok := <-r.msgs; ok {
		t.Error("message after Close")
	}
	if !websocket.IsCloseError(r.err, websocket.CloseGoingAway) {
		t.Errorf("read error after Close = %v, want close 1001", r.err)
	}
	if err := <-pending; !errors.Is(err, ErrServerClosed) {
		t.Errorf("SocketSend() during Close = %v, want ErrServerClosed", err)
	}
	if err := s.WaitSocket(context.Background()); !errors.Is(err, ErrServerClosed) {
		t.Errorf("WaitSocket() after Close = %v, want ErrServerClosed", err)
	}
}

// TestSocketCloseLeaksNothing checks that Close ends the fake's goroutines
// while a slack-go client is connected and a SocketSend waits for an ack.
func TestSocketCloseLeaksNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(WithSocketPingInterval(10 * time.Millisecond))
	b := startSocketBot(t, s, s.AppToken(), func(evt socketmode.Event) (any, bool) { return nil, false })
	if err := s.WaitSocket(ctxTimeout(t, waitTimeout)); err != nil {
		t.Fatal(err)
	}
	pending := make(chan error, 1)
	go func() {
		_, err := s.SocketSend(context.Background(), "interactive", json.RawMessage(blockActionsPayload), false)
		pending <- err
	}()
	b.next(t, socketmode.EventTypeInteractive)

	s.Close()
	if err := <-pending; !errors.Is(err, ErrServerClosed) {
		t.Errorf("SocketSend() = %v, want ErrServerClosed", err)
	}
	b.stop()

	// Goroutines end without telling anyone: poll their count, as goleak does.
	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
